#include "ferry/sim/decisions.h"

namespace ferry::sim {

namespace {

std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

}  // namespace

PrngDecisions::PrngDecisions(std::uint64_t seed) {
    std::uint64_t mixer = seed;
    for (std::uint64_t& word : state_)
        word = splitmix64(mixer);
}

std::uint64_t PrngDecisions::next_u64() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
}

std::uint64_t PrngDecisions::next_choice(std::uint64_t option_count) {
    // Rejection sampling: drop the outputs below 2^64 mod option_count so
    // every option is equally likely.
    const std::uint64_t threshold = (0 - option_count) % option_count;
    while (true) {
        const std::uint64_t value = next_u64();
        if (value >= threshold)
            return value % option_count;
    }
}

std::uint64_t RecordedDecisions::next_choice(std::uint64_t option_count) {
    if (next_ >= choices_.size())
        return 0;
    const std::uint64_t value = choices_[next_++];
    return value < option_count ? value : option_count - 1;
}

}  // namespace ferry::sim
