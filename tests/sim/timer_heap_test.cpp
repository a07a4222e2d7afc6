#include "ferry/sim/timer_heap.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <tuple>
#include <vector>

#include "ferry/sim/decisions.h"

namespace ferry::sim {
namespace {

Instant at_ms(std::int64_t ms) {
    return Instant{} + std::chrono::milliseconds(ms);
}

TEST(TimerHeap, EarliestIsTheLeastTimeThenTheLeastSequence) {
    TimerHeap heap;
    EXPECT_EQ(heap.earliest(), nullptr);
    heap.add(1, at_ms(30), 0);
    heap.add(2, at_ms(10), 5);
    heap.add(3, at_ms(10), 2);
    ASSERT_NE(heap.earliest(), nullptr);
    EXPECT_EQ(heap.earliest()->process, 3u);
    EXPECT_TRUE(heap.remove(3));
    EXPECT_EQ(heap.earliest()->process, 2u);
    EXPECT_FALSE(heap.remove(3)) << "cancelled already";
    EXPECT_TRUE(heap.remove(2));
    EXPECT_EQ(heap.earliest()->process, 1u);
}

TEST(TimerHeap, PicksWhatAScanWouldUnderRandomAddsAndCancels) {
    // The scheduler's old linear scan, as the reference: the heap must give
    // the same timer at every step, or trace digests would change.
    TimerHeap heap;
    std::vector<std::tuple<std::int64_t, std::uint64_t, std::uint64_t>> live;  // ms, seq, process
    PrngDecisions rng(7);
    std::uint64_t sequence = 0;
    for (int step = 0; step < 20000; ++step) {
        const std::uint64_t process = 1 + rng.choose(200);
        auto held = std::find_if(live.begin(), live.end(),
                                 [&](const auto& t) { return std::get<2>(t) == process; });
        if (held != live.end()) {
            EXPECT_TRUE(heap.remove(process));
            live.erase(held);
        } else {
            const auto ms = static_cast<std::int64_t>(rng.choose(50));  // many ties
            heap.add(process, at_ms(ms), sequence);
            live.emplace_back(ms, sequence++, process);
        }
        ASSERT_EQ(heap.size(), live.size());
        if (live.empty()) {
            EXPECT_EQ(heap.earliest(), nullptr);
            continue;
        }
        const auto least = *std::min_element(live.begin(), live.end());
        ASSERT_EQ(heap.earliest()->process, std::get<2>(least)) << "step " << step;
    }
}

}  // namespace
}  // namespace ferry::sim
