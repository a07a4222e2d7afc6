#include "ferry/sim/indexed_queue.h"

#include <cstddef>
#include <vector>

#include <gtest/gtest.h>

#include "ferry/sim/decisions.h"

namespace ferry::sim {
namespace {

std::vector<int> contents(const IndexedQueue<int>& queue) {
    std::vector<int> out;
    queue.for_each([&](int value) { out.push_back(value); });
    return out;
}

TEST(IndexedQueue, TakesTheIthInOrderOfArrival) {
    IndexedQueue<int> queue;
    for (int i = 0; i < 5; ++i)
        queue.push_back(i);
    EXPECT_EQ(queue.take(2), 2);
    EXPECT_EQ(queue[2], 3);
    EXPECT_EQ(queue.take(0), 0);
    queue.push_back(5);
    EXPECT_EQ(contents(queue), (std::vector<int>{1, 3, 4, 5}));
    EXPECT_EQ(queue.size(), 4u);
}

/// Random pushes and takes against a vector erased from the middle, as the
/// scheduler's run queue was: the same element at every index, every time.
/// The queue grows to thousands and shrinks to nothing, over and over,
/// crossing the size where it changes form (64) both ways.
TEST(IndexedQueue, AgreesWithAVectorErasedFromTheMiddle) {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        PrngDecisions prng(seed);
        IndexedQueue<int> queue;
        std::vector<int> plain;
        int next = 0;
        for (int step = 0; step < 40'000; ++step) {
            // Mostly pushes for a while, then mostly takes; some phases long
            // enough to reach thousands, some to stay near the change of form.
            const std::uint64_t phase_steps = seed % 2 == 0 ? 4'000 : 150;
            const bool growing = (step / phase_steps) % 2 == 0;
            const bool push = plain.empty() || prng.choose(10) < (growing ? 7u : 3u);
            if (push) {
                queue.push_back(next);
                plain.push_back(next++);
            } else {
                const std::size_t index = prng.choose(plain.size());
                ASSERT_EQ(queue[index], plain[index]) << "seed " << seed << " step " << step;
                ASSERT_EQ(queue.take(index), plain[index]) << "seed " << seed << " step " << step;
                plain.erase(plain.begin() + static_cast<std::ptrdiff_t>(index));
            }
            ASSERT_EQ(queue.size(), plain.size());
        }
        EXPECT_EQ(contents(queue), plain) << "seed " << seed;
        while (!plain.empty()) {
            ASSERT_EQ(queue.take(0), plain.front());
            plain.erase(plain.begin());
        }
        EXPECT_TRUE(queue.empty());
    }
}

}  // namespace
}  // namespace ferry::sim
