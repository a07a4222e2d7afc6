#pragma once
// Exhaustive enumeration of schedules, the strategy of `ferry explore
// --strategy exhaustive`: every choice list in depth-first order with at most
// a given number of non-calm choices, each run to see what comes next.

#include <cstdint>
#include <optional>
#include <vector>

#include "ferry/sim/decisions.h"

namespace ferry::harness {

/// Replays a prefix of choices, then the calm default; notes every choice's
/// option count, so the enumeration knows what comes next.
class EnumeratingDecisions final : public sim::DecisionSource {
  public:
    explicit EnumeratingDecisions(const std::vector<std::uint64_t>& prefix) : prefix_(prefix) {}
    const std::vector<std::uint64_t>& option_counts() const { return option_counts_; }

  protected:
    std::uint64_t next_choice(std::uint64_t option_count) override;

  private:
    const std::vector<std::uint64_t>& prefix_;
    std::vector<std::uint64_t> option_counts_;
};

/// The next choice list after choices (whose option counts are given) in
/// depth-first order with at most cuts_max non-zero choices; none when done.
std::optional<std::vector<std::uint64_t>> next_prefix(const std::vector<std::uint64_t>& choices,
                                                      const std::vector<std::uint64_t>& counts,
                                                      std::uint64_t cuts_max);

}  // namespace ferry::harness
