#pragma once
// The one simulated driver: runs a RunSpec of any workload in a Simulation —
// the plan's network faults on the simulated network, its disk faults and
// crash on the server's machine (harness/sim_world.h) — and checks the result against the
// workload's model. `ferry sim`, `ferry scenario run` and `ferry explore` all call it, so a case
// explore saves as a scenario file replays with the same trace digest.

#include <cstdint>
#include <iosfwd>
#include <vector>

#include "ferry/harness/run_spec.h"
#include "ferry/harness/workload.h"
#include "ferry/sim/decisions.h"
#include "ferry/sim/recording.h"

namespace ferry::harness {

struct SimDriverOptions {
    /// Where choices come from; none: spec.choices replayed if it has them,
    /// else a PRNG seeded with spec.seed.
    sim::DecisionSource* decisions = nullptr;
    /// Every choice made is appended here.
    std::vector<std::uint64_t>* record = nullptr;
    /// A failure's result carries the trace's tail as text, and the run its
    /// trace digest and a copy of the server's files. A search skips them
    /// (formatting costs a third of a failing run, hashing the trace a
    /// twentieth of any run) and runs what it finds again with them.
    bool full_report = true;
    /// Writes the trace here as JSON lines.
    std::ostream* trace_json = nullptr;
    /// Records the whole run here, for its pictures (views/).
    sim::Recording* recording = nullptr;
};

RunResult run_on_sim(const Workload& workload, const RunSpec& spec,
                     const SimDriverOptions& options = {});

}  // namespace ferry::harness
