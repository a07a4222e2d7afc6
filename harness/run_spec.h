#pragma once
// One run: a workload and its case, a fault plan, and a seed or a recorded
// list of choices. Its text form (run_text.h) is what `--replay` takes and a
// failure prints; its TOML form (run_toml.h) is what a scenario file holds.
// One simulated driver runs it for `ferry sim`, `ferry scenario run` and
// `ferry explore` alike (sim_driver.h); the real driver runs it over
// sockets (real_driver.h). The result carries a typed failure.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ferry/harness/failure.h"
#include "ferry/harness/fault_plan.h"
#include "ferry/harness/history.h"
#include "ferry/harness/stored_files.h"
#include "ferry/harness/workload_case.h"
#include "ferry/protocol/clock.h"
#include "ferry/sim/simulation.h"

namespace ferry::harness {

inline constexpr Duration default_time_budget = std::chrono::minutes(10);

struct RunSpec {
    std::string workload;
    WorkloadCase work;
    FaultPlan faults;
    /// Decides the payloads, and every choice when there are no choices.
    std::uint64_t seed = 1;
    /// Replayed in order (a recorded or shrunk schedule); past their end
    /// every choice is the calm default.
    std::optional<std::vector<std::uint64_t>> choices;
    /// Virtual time (wall time on real sockets) after which an unfinished
    /// run is a liveness failure.
    Duration time_budget = default_time_budget;
};

struct RunResult {
    enum class End { finished, deadlock, time_budget };
    End end = End::finished;
    /// None: the run passed its workload's model.
    std::optional<Failure> failure;
    std::vector<OpRecord> history;
    std::optional<StoredContents>
        files;  ///< the server's files afterwards, if the workload has any
    /// For a deadlock or a spent budget: who was stuck where, in words.
    std::string stuck_report;
    sim::DeadlockReport deadlock;  ///< the simulator's, with the wait-for cycle
    std::uint64_t digest = 0;      ///< of the trace (simulator, full reports only)
    std::uint64_t events = 0;
    Instant end_time;
    std::string recent_events;       ///< the trace's tail, for a failure
    std::uint64_t choices_used = 0;  ///< how many choices the run drew

    bool passed() const { return !failure.has_value(); }
};

std::string_view to_string(RunResult::End end);

}  // namespace ferry::harness
