#pragma once
// Every nondeterministic choice the simulator makes comes through one
// DecisionSource: which runnable process goes next, where a send is cut, how
// much a read returns, a segment's latency, whether a fault fires.
//
// A choice is an option index in [0, option_count). Option 0 is always the
// calm default: the first runnable process, the whole send, the whole read,
// the least latency, no fault. So a recorded list that runs out (or a shrunk
// list of zeros) still describes a complete, quiet run.

#include <cstdint>
#include <span>
#include <vector>

namespace ferry::sim {

/// A probability as an integer ratio, never a float: numerator in denominator.
struct Ratio {
    std::uint64_t numerator = 0;
    std::uint64_t denominator = 1;

    friend bool operator==(const Ratio&, const Ratio&) = default;
};

inline constexpr Ratio never{0, 1};
inline constexpr Ratio always{1, 1};

class DecisionSource {
  public:
    virtual ~DecisionSource() = default;

    /// An option in [0, option_count). With fewer than two options nothing is
    /// drawn and 0 is returned, so recorded lists hold only real choices.
    std::uint64_t choose(std::uint64_t option_count) {
        if (option_count <= 1)
            return 0;
        const std::uint64_t choice = next_choice(option_count);
        if (record_ != nullptr)
            record_->push_back(choice);
        return choice;
    }

    /// True with probability ratio. Option 0 means "no", so the default of a
    /// recorded list is no fault.
    bool chance(Ratio ratio) {
        if (ratio.numerator == 0 || ratio.denominator == 0)
            return false;
        if (ratio.numerator >= ratio.denominator)
            return true;
        return choose(ratio.denominator) >= ratio.denominator - ratio.numerator;
    }

    /// A value in [low, high], low being the default.
    std::uint64_t between(std::uint64_t low, std::uint64_t high) {
        if (high <= low)
            return low;
        return low + choose(high - low + 1);
    }

    /// Which runnable process goes next, as an index into runnable_ids (the
    /// runnable processes' ids, in the order they became runnable). Like
    /// choose(runnable_ids.size()) unless a source overrides
    /// next_process_choice: a priority-based one (PCT) needs to know that
    /// this choice is a process, and which.
    std::uint64_t choose_process(std::span<const std::uint64_t> runnable_ids) {
        if (runnable_ids.size() <= 1)
            return 0;
        const std::uint64_t choice = next_process_choice(runnable_ids);
        if (record_ != nullptr)
            record_->push_back(choice);
        return choice;
    }

    /// Appends every choice made from now on to choices (none to stop).
    void record_into(std::vector<std::uint64_t>* choices) { record_ = choices; }

    /// Whether choose_process looks at the runnable ids, not only at how many
    /// there are. When not, the scheduler calls choose(count) instead, which
    /// is the same choice, and spares itself listing thousands of ids at
    /// every step.
    virtual bool reads_process_ids() const { return false; }

  protected:
    /// A choice in [0, option_count), option_count >= 2.
    virtual std::uint64_t next_choice(std::uint64_t option_count) = 0;
    /// An index into runnable_ids, which holds at least two. A source that
    /// overrides it overrides reads_process_ids too.
    virtual std::uint64_t next_process_choice(std::span<const std::uint64_t> runnable_ids) {
        return next_choice(runnable_ids.size());
    }

  private:
    std::vector<std::uint64_t>* record_ = nullptr;
};

/// splitmix64's step: its state advances by this each output.
inline constexpr std::uint64_t splitmix64_gamma = 0x9e3779b97f4a7c15ULL;

/// splitmix64's output for a state (already advanced).
inline std::uint64_t splitmix64_mix(std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/// splitmix64: expands a seed into the xoshiro state (and is a fine mixer).
/// Output n of a state depends only on n (state + n * gamma), so a loop of
/// them can run in parallel lanes.
inline std::uint64_t splitmix64(std::uint64_t& state) {
    state += splitmix64_gamma;
    return splitmix64_mix(state);
}

/// xoshiro256** seeded through splitmix64: the same seed gives the same
/// choices on every machine and standard library.
class PrngDecisions final : public DecisionSource {
  public:
    explicit PrngDecisions(std::uint64_t seed);

    /// The next raw 64-bit output.
    std::uint64_t next_u64();

  protected:
    std::uint64_t next_choice(std::uint64_t option_count) override;

  private:
    std::uint64_t state_[4];
};

/// Replays a list of choices. A recorded value past the options available is
/// clamped to the last option; once the list is used up every choice is 0.
class RecordedDecisions final : public DecisionSource {
  public:
    explicit RecordedDecisions(std::vector<std::uint64_t> choices) : choices_(std::move(choices)) {}

    std::size_t used() const { return next_; }
    bool exhausted() const { return next_ >= choices_.size(); }

  protected:
    std::uint64_t next_choice(std::uint64_t option_count) override;

  private:
    std::vector<std::uint64_t> choices_;
    std::size_t next_ = 0;
};

}  // namespace ferry::sim
