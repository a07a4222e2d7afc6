#include "ferry/harness/exhaustive.h"

#include <algorithm>

namespace ferry::harness {

std::uint64_t EnumeratingDecisions::next_choice(std::uint64_t option_count) {
    const std::size_t index = option_counts_.size();
    option_counts_.push_back(option_count);
    if (index < prefix_.size())
        return std::min(prefix_[index], option_count - 1);
    return 0;
}

std::optional<std::vector<std::uint64_t>> next_prefix(const std::vector<std::uint64_t>& choices,
                                                      const std::vector<std::uint64_t>& counts,
                                                      std::uint64_t cuts_max) {
    std::vector<std::size_t> nonzero_before(choices.size() + 1, 0);
    for (std::size_t i = 0; i < choices.size(); ++i)
        nonzero_before[i + 1] = nonzero_before[i] + (choices[i] != 0 ? 1 : 0);
    for (std::size_t j = choices.size(); j-- > 0;) {
        if (choices[j] + 1 >= counts[j])
            continue;
        if (choices[j] == 0 && nonzero_before[j] + 1 > cuts_max)
            continue;
        std::vector<std::uint64_t> next(choices.begin(),
                                        choices.begin() + static_cast<std::ptrdiff_t>(j));
        next.push_back(choices[j] + 1);
        return next;
    }
    return std::nullopt;
}

}  // namespace ferry::harness
