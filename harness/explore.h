#pragma once
// Exploration (`ferry explore`): runs a workload's cases — first its edge
// cases on a calm network, then cases, fault plans and schedules drawn from a
// seed — judges each by the workload's model, and shrinks each new kind of
// failure to a minimal run that replays exactly from its text form.
//
//   explore.h          the loop (this file): strategies, shards, budget
//   explore_jobs.h     random and pct on every core, deterministically
//   pct_decisions.h    the PCT scheduling strategy
//   exhaustive.h       exhaustive enumeration of schedules
//   shrink.h           the shrinker and its passes
//   scenario_export.h  a failure as a scenario file that replays it

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ferry/harness/run_spec.h"
#include "ferry/harness/workload.h"

namespace ferry::harness {

enum class Strategy { random, pct, exhaustive };
std::string_view to_string(Strategy strategy);

struct ExploreOptions {
    Strategy strategy = Strategy::random;
    std::uint64_t seed = 1;
    /// Stop after this many runs in all: the global runs 0 .. runs - 1,
    /// shared among the shards (shard k of n does those ≡ k mod n, so
    /// runs / n of them, one more for k < runs mod n) and among the jobs.
    /// Exhaustive: shard k does at most that many of its enumeration.
    std::optional<std::uint64_t> runs;
    std::optional<std::chrono::duration<double>> time_limit;
    /// Once it holds true (the user pressed Ctrl-C), the search stops as at
    /// its time limit: what was found so far is still shrunk and reported.
    const std::atomic<bool>* stop = nullptr;
    DrawOptions draw;
    KnobSet faults = all_knobs();   ///< the knobs fault plans may turn
    std::uint64_t shard_index = 0;  ///< 0-based
    std::uint64_t shard_count = 1;
    /// Threads (random and pct; exhaustive runs on one). The findings and
    /// the summary's runs and events do not depend on it (explore_jobs.h).
    std::uint64_t jobs = 1;
    bool keep_going = false;  ///< on after a failure, reporting each new kind once
    bool shrink = true;
    std::uint64_t shrink_runs_max = 20000;
    /// Exhaustive: at most this many non-calm choices per run.
    std::uint64_t exhaustive_cuts_max = 1;
    /// PCT: bug depths tried in turn, 1..pct_depth_max.
    std::uint64_t pct_depth_max = 3;
    /// PCT over the whole choice stream rather than the scheduler.
    bool pct_calm_data = false;
    /// With keep_going: stop once each of these signatures was found.
    std::vector<std::string> stop_when_found;
};

struct Finding {
    /// Which run of this shard found it (0-based): global run
    /// run_index · shard_count + shard_index.
    std::uint64_t run_index = 0;
    double seconds = 0;  ///< wall time from the start until found
    RunSpec found;
    RunResult found_result;
    RunSpec minimal;
    RunResult minimal_result;  ///< run again with the full report
    std::uint64_t shrink_runs = 0;
};

struct ExploreProgress {
    std::uint64_t runs = 0;
    std::uint64_t failures = 0;
    double seconds = 0;
};

struct ExploreSummary {
    std::uint64_t runs = 0;
    std::uint64_t events = 0;  ///< simulated events over all runs (not shrinking)
    double cpu_seconds = 0;    ///< this process's CPU time meanwhile
    double seconds = 0;
    std::vector<Finding> findings;
    bool exhausted = false;  ///< exhaustive mode covered everything up to its bound
};

/// Runs until options' runs or time limit, the first failure (unless
/// keep_going), or the end of the exhaustive enumeration. progress is
/// called about ten times a second, always from the calling thread;
/// on_finding for each kind of failure once it is shrunk, in the order of the
/// runs that found them (random and pct: after the search, when the first run
/// of each kind is known whatever the jobs).
ExploreSummary explore(const Workload& workload, const ExploreOptions& options,
                       const std::function<void(const ExploreProgress&)>& progress = {},
                       const std::function<void(const Finding&)>& on_finding = {});

/// The seed of run global_run: shards of one seed interleave (run i of shard
/// k of n is global run i·n + k), so n shards together cover exactly what one
/// unsharded run covers.
std::uint64_t case_seed(std::uint64_t seed, std::uint64_t global_run);

/// The run explore makes of global run number global_run (before its
/// schedule, which comes from the returned decisions as it runs).
RunSpec explore_case(const Workload& workload, const ExploreOptions& options,
                     const std::vector<WorkloadCase>& edges, std::uint64_t global_run,
                     sim::PrngDecisions& rng);

}  // namespace ferry::harness
