#pragma once
// Plays one seed of a scenario over real sockets on 127.0.0.1: a real Server
// on an ephemeral port with a temporary root, clients on threads, every
// connection wrapped in a FaultyConnection driven by the seed. A watchdog
// turns a hang into a deadlock, naming the call each side is blocked in.

#include <chrono>
#include <cstdint>

#include "harness/judge.h"
#include "harness/scenario.h"

namespace ferry::harness {

struct RealOptions {
    /// A run in which no byte moved for this long while every party waits in
    /// a call that has no deadline is a deadlock.
    std::chrono::milliseconds quiet_for_deadlock{1000};
};

RunObservation run_on_real(const Scenario& scenario, std::uint64_t seed,
                           const RealOptions& options = {});

}  // namespace ferry::harness
