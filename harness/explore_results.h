#pragma once
// What an exploration found, as a file: `ferry explore --results FILE`
// writes one per shard (JSON), and `ferry explore merge` combines the shards
// of one exploration into what a single process would have reported: the
// runs and events of all, and of each kind of failure the one found by the
// earliest global run (with --keep-going; else only the earliest failure),
// with its minimal case. A finding is kept as text (the run's text form), so
// the merge runs each minimal case again to describe it and save it: the
// same report and the same scenario file as the single process.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/harness/explore.h"

namespace ferry::harness {

struct ExploreResults {
    /// The exploration, shard aside ("ferry explore --workload ... --runs ..."):
    /// shards merge only with shards of the same one.
    std::string exploration;
    std::string workload;
    bool keep_going = false;
    std::uint64_t shard_index = 0;  ///< 0-based
    std::uint64_t shard_count = 1;
    std::uint64_t runs = 0;
    std::uint64_t events = 0;
    double seconds = 0;      ///< wall time (a merge: the longest shard's)
    double cpu_seconds = 0;  ///< summed over shards
    /// Stopped by the user (Ctrl-C) before its runs were done: fewer runs
    /// than the exploration asked for (a merge: some shard was).
    bool interrupted = false;

    struct Found {
        std::uint64_t global_run = 0;  ///< 0-based, across shards
        std::string signature;         ///< "kind (tag)"
        std::string found;             ///< the run as found, in its text form
        std::string minimal;           ///< shrunk
        std::uint64_t shrink_runs = 0;
        double seconds = 0;  ///< from its shard's start
    };
    std::vector<Found> findings;  ///< by global run
};

/// One shard's results, from its summary and options.
ExploreResults results_of(const ExploreSummary& summary, const ExploreOptions& options,
                          const Workload& workload, std::string exploration);

std::string results_json(const ExploreResults& results);
/// Reads a results file's text; none and why in error when it is not one.
std::optional<ExploreResults> parse_results_json(std::string_view text, std::string* error);

/// The shards together, as one process would have found them; none and why
/// in error when they are not shards of one exploration (another seed or
/// workload, a shard twice, shard counts that differ). Shards missing are
/// not an error: missing_shards() lists them.
std::optional<ExploreResults> merge_results(const std::vector<ExploreResults>& shards,
                                            std::string* error);
/// The 1-based numbers of the shards none of shards is.
std::vector<std::uint64_t> missing_shards(const std::vector<ExploreResults>& shards);

}  // namespace ferry::harness
