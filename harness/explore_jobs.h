#pragma once
// Exploration on every core (`ferry explore --jobs N`), deterministic: the
// same seed and run count give the same findings and the same summary
// whatever the number of jobs. Internal to explore.cpp.
//
// Jobs are threads, each an interleaved sub-shard of this shard: job j of J
// in shard k of n runs the global runs g ≡ k + j·n (mod n·J), in increasing
// order, below the total run count. A job keeps the first failing run of
// each kind it meets. A cut-off global run index, shared by all jobs, only
// ever falls: without keep_going it is the least failing run found so far,
// with stop_when_found the run by which every wanted kind has been found. A
// job stops at its first run beyond the cut-off, so every run at or before
// the final cut-off is run by some job; runs beyond it that a job made before
// it fell are left out of the summary. After the jobs, the first run of each
// kind (by global index, at or before the cut-off) is shrunk, the kinds
// shared out among the jobs, and reported in order of their runs.

#include <cstdint>
#include <functional>

#include "ferry/harness/explore.h"

namespace ferry::harness {

/// The random and pct strategies, over options.jobs threads.
ExploreSummary explore_drawn(const Workload& workload, const ExploreOptions& options,
                             const std::function<void(const ExploreProgress&)>& progress,
                             const std::function<void(const Finding&)>& on_finding);

/// A found failure shrunk (unless options say not to) and its minimal case
/// run again with the full report.
Finding shrink_finding(const Workload& workload, const ExploreOptions& options, RunSpec found,
                       RunResult found_result, std::uint64_t run_index, double seconds);

/// How many of options.runs this shard runs: the global runs below it that
/// are its own (every shard_count-th from shard_index).
std::uint64_t shard_runs(std::uint64_t total_runs, std::uint64_t shard_index,
                         std::uint64_t shard_count);

}  // namespace ferry::harness
