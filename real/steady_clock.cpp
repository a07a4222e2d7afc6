#include "ferry/real/steady_clock.h"

#include <chrono>

namespace ferry {

Instant SteadyClock::now() const {
    return Instant{
        std::chrono::duration_cast<Duration>(std::chrono::steady_clock::now().time_since_epoch())};
}

const SteadyClock& SteadyClock::instance() {
    static const SteadyClock clock;
    return clock;
}

}  // namespace ferry
