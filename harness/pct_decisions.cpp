#include "ferry/harness/pct_decisions.h"

#include <algorithm>

namespace ferry::harness {

PctDecisions::PctDecisions(std::uint64_t seed, std::uint64_t depth, std::uint64_t horizon,
                           bool calm_data)
    : prng_(seed), calm_data_(calm_data), depth_(std::max<std::uint64_t>(depth, 1)) {
    for (std::uint64_t i = 0; i + 1 < depth_; ++i)
        change_points_.push_back(prng_.next_u64() % std::max<std::uint64_t>(horizon, 1));
    std::sort(change_points_.begin(), change_points_.end());
}

std::uint64_t PctDecisions::uniform(std::uint64_t option_count) {
    const std::uint64_t threshold = (0 - option_count) % option_count;
    while (true) {
        const std::uint64_t value = prng_.next_u64();
        if (value >= threshold)
            return value % option_count;
    }
}

bool PctDecisions::change_point(std::uint64_t step) {
    bool change = false;
    while (next_change_ < change_points_.size() && change_points_[next_change_] <= step) {
        change |= change_points_[next_change_] == step;
        ++next_change_;
    }
    return change;
}

std::uint64_t PctDecisions::next_choice(std::uint64_t option_count) {
    if (!calm_data_)
        return uniform(option_count);
    if (!change_point(step_++))
        return 0;
    return 1 + uniform(option_count - 1);  // any option but the calm one
}

std::uint64_t PctDecisions::next_process_choice(std::span<const std::uint64_t> runnable_ids) {
    if (calm_data_)
        return next_choice(runnable_ids.size());
    // Initial priorities lie above depth_, change points' below it.
    for (std::uint64_t id : runnable_ids) {
        if (!priority_.contains(id))
            priority_[id] = depth_ + (prng_.next_u64() >> 2);
    }
    auto highest = [&] {
        std::size_t best = 0;
        for (std::size_t i = 1; i < runnable_ids.size(); ++i) {
            if (priority_[runnable_ids[i]] > priority_[runnable_ids[best]])
                best = i;
        }
        return best;
    };
    if (change_point(step_++)) {
        ++changes_made_;
        priority_[runnable_ids[highest()]] = depth_ - changes_made_;
    }
    return highest();
}

}  // namespace ferry::harness
