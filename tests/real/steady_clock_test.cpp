// SteadyClock: the real runtime's Clock.

#include "ferry/real/steady_clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace ferry {
namespace {

using namespace std::chrono_literals;

TEST(SteadyClock, NeverGoesBackwards) {
    const Clock& clock = SteadyClock::instance();
    Instant previous = clock.now();
    for (int i = 0; i < 10000; ++i) {
        const Instant now = clock.now();
        ASSERT_GE(now, previous);
        previous = now;
    }
}

TEST(SteadyClock, AdvancesWithRealTime) {
    const Clock& clock = SteadyClock::instance();
    const Instant before = clock.now();
    std::this_thread::sleep_for(20ms);
    EXPECT_GE(clock.now() - before, 20ms);
}

TEST(SteadyClock, IsOneSharedInstance) {
    EXPECT_EQ(&SteadyClock::instance(), &SteadyClock::instance());
}

}  // namespace
}  // namespace ferry
