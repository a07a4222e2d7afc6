#include "ferry/testing/seed_range.h"

#include <charconv>
#include <cstdlib>

namespace ferry::testing {

namespace {

/// Digits only: no sign, no spaces, nothing after, below 2^64.
std::optional<std::uint64_t> parse_seed(std::string_view text) {
    std::uint64_t value = 0;
    if (text.empty() || text.front() < '0' || text.front() > '9')
        return std::nullopt;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

void set_error(std::string* error, std::string text) {
    if (error != nullptr)
        *error = std::move(text);
}

}  // namespace

std::optional<SeedRange> parse_seed_range(std::string_view text, std::string* error) {
    const std::size_t dots = text.find("..");
    if (dots == std::string_view::npos) {
        const auto seed = parse_seed(text);
        if (!seed)
            set_error(error, "'" + std::string(text) +
                                 "' is not a seed (a whole number) or a range (first..last)");
        return seed ? std::optional(SeedRange{*seed, *seed}) : std::nullopt;
    }
    const auto first = parse_seed(text.substr(0, dots));
    const auto last = parse_seed(text.substr(dots + 2));
    if (!first || !last) {
        set_error(error, "'" + std::string(text) + "' is not a range of seeds (first..last)");
        return std::nullopt;
    }
    if (*first > *last) {
        set_error(error, "'" + std::string(text) + "' is empty: its first seed is after its last");
        return std::nullopt;
    }
    return SeedRange{*first, *last};
}

std::optional<SeedRange> choose_seeds(const char* ferry_seed, const char* ferry_seeds,
                                      SeedRange fallback, std::string* error) {
    std::string why;
    if (ferry_seed != nullptr) {
        const auto seed = parse_seed(ferry_seed);
        if (!seed)
            set_error(error, "FERRY_SEED='" + std::string(ferry_seed) +
                                 "' is not a seed: give a whole number, e.g. FERRY_SEED=17");
        return seed ? std::optional(SeedRange{*seed, *seed}) : std::nullopt;
    }
    if (ferry_seeds != nullptr) {
        const auto range = parse_seed_range(ferry_seeds, &why);
        if (!range)
            set_error(error, "FERRY_SEEDS: " + why + ", e.g. FERRY_SEEDS=1..500");
        return range;
    }
    return fallback;
}

std::optional<SeedRange> seeds_from_environment(SeedRange fallback, std::string* error) {
    return choose_seeds(std::getenv("FERRY_SEED"), std::getenv("FERRY_SEEDS"), fallback, error);
}

}  // namespace ferry::testing
