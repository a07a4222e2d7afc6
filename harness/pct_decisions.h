#pragma once
// Priority-based scheduling (PCT, Burckhardt et al., as in Coyote and
// Shuttle), a strategy of `ferry explore --strategy pct`: each process gets a
// random priority when first seen, the highest runnable one always goes
// next, and at depth − 1 scheduling steps drawn uniformly from the first
// horizon ones the process about to run drops below every other. Other
// choices (cuts, latency, faults) are uniform, as in the random strategy.
//
// With calm_data, the same idea applied to the whole choice stream: every
// choice is the calm default except at the depth − 1 change points (drawn
// among the first horizon choices), where a random other option is taken —
// a bug that needs k non-calm choices is a depth-(k+1) bug.

#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "ferry/sim/decisions.h"

namespace ferry::harness {

class PctDecisions final : public sim::DecisionSource {
  public:
    PctDecisions(std::uint64_t seed, std::uint64_t depth, std::uint64_t horizon,
                 bool calm_data = false);

    bool reads_process_ids() const override { return true; }

  protected:
    std::uint64_t next_choice(std::uint64_t option_count) override;
    std::uint64_t next_process_choice(std::span<const std::uint64_t> runnable_ids) override;

  private:
    std::uint64_t uniform(std::uint64_t option_count);
    /// Whether step is a change point (consumes the ones up to it).
    bool change_point(std::uint64_t step);

    sim::PrngDecisions prng_;
    bool calm_data_;
    std::uint64_t depth_;
    std::vector<std::uint64_t> change_points_;  ///< sorted
    std::size_t next_change_ = 0;
    std::uint64_t changes_made_ = 0;
    std::uint64_t step_ = 0;  ///< scheduling steps, or all choices with calm_data
    std::map<std::uint64_t, std::uint64_t> priority_;  ///< process id -> priority
};

}  // namespace ferry::harness
