#pragma once
// Plays one seed of a scenario in the simulator: a server process accepting
// on "server:9000" with a process per connection, a process per client, the
// scenario's faults in NetworkFaults and its disk in a SimStore. Exact and
// repeatable: the same scenario and seed give the same trace digest.

#include <cstdint>
#include <iosfwd>
#include <string>

#include "harness/judge.h"
#include "harness/scenario.h"
#include "sim/faults.h"

namespace ferry::harness {

struct SimRun {
    RunObservation observation;
    std::uint64_t digest = 0;
    std::uint64_t events = 0;
    /// The last events of the trace, readable, for failure reports.
    std::string recent_events;
};

/// The simulator's faults for a scenario's [network].
sim::NetworkFaults network_faults(const NetworkSpec& network);

/// trace_json: where to write the trace as JSON lines (none = nowhere).
SimRun run_on_sim(const Scenario& scenario, std::uint64_t seed, std::ostream* trace_json = nullptr);

}  // namespace ferry::harness
