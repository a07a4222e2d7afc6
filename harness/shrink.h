#pragma once
// Shrinking a failing run to the smallest one that still fails the same way
// (the same failure kind and tag): in passes, until none makes progress —
// fewer faults and calmer settings of the ones left, fewer clients, fewer
// operations, fewer and smaller parameters and settings, a shorter and
// calmer schedule. Works on any workload: it edits the generic case.

#include <cstdint>
#include <tuple>
#include <vector>

#include "ferry/harness/run_spec.h"
#include "ferry/harness/workload.h"

namespace ferry::harness {

struct ShrinkResult {
    RunSpec minimal;
    RunResult result;
    std::uint64_t runs = 0;  ///< runs spent shrinking
};

ShrinkResult shrink_run(const Workload& workload, const RunSpec& failing, const RunResult& result,
                        std::uint64_t max_runs = 20000);

/// What the passes of shrink_run work with: the best run so far, and a way
/// to try a smaller one.
class Shrinker {
  public:
    Shrinker(const Workload& workload, const RunSpec& failing, const RunResult& result,
             std::uint64_t max_runs);

    /// Runs candidate (on its choices, or on fresh schedules too when
    /// reseed); keeps it, with the choices it really used, if it fails the
    /// same way and is smaller. True when kept.
    bool attempt(RunSpec candidate, bool reseed = false);
    const RunSpec& best() const { return best_; }
    const Workload& workload() const { return workload_; }
    bool out_of_runs() const { return runs_ >= max_runs_; }
    ShrinkResult result() const { return {best_, best_result_, runs_}; }

  private:
    RunResult run(const RunSpec& candidate, std::vector<std::uint64_t>& used,
                  sim::DecisionSource* decisions);
    bool fails_the_same_way(const RunResult& result) const;

    const Workload& workload_;
    RunSpec best_;
    RunResult best_result_;
    std::string signature_;
    std::uint64_t max_runs_;
    std::uint64_t runs_ = 0;
    std::uint64_t reseeds_ = 0;
};

// The passes; each true when it made progress.
bool shrink_faults(Shrinker& s);
bool shrink_clients(Shrinker& s);
bool shrink_operations(Shrinker& s);
bool shrink_params(Shrinker& s);
bool shrink_numbers(Shrinker& s);
bool shrink_schedule(Shrinker& s);

}  // namespace ferry::harness
