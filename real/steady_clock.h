#pragma once
// The real runtime's clock: std::chrono::steady_clock behind the Clock
// interface. Only real/ and cli/ may read it.

#include "ferry/protocol/clock.h"

namespace ferry {

class SteadyClock : public Clock {
  public:
    Instant now() const override;
    /// The one clock the real runtime shares.
    static const SteadyClock& instance();
};

}  // namespace ferry
