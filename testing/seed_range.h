#pragma once
// Which seeds a simulated test runs: FERRY_SEED=N replays one, FERRY_SEEDS=A..B
// sweeps a range, and otherwise the test's own range runs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace ferry::testing {

/// Seeds first to last, both included.
struct SeedRange {
    std::uint64_t first = 1;
    std::uint64_t last = 100;

    std::uint64_t count() const { return last - first + 1; }
    friend bool operator==(const SeedRange&, const SeedRange&) = default;
};

/// "1..500" (or one seed, "17"); none and why in error otherwise.
std::optional<SeedRange> parse_seed_range(std::string_view text, std::string* error = nullptr);

/// The seeds to run given the values of FERRY_SEED and FERRY_SEEDS (null when
/// unset): FERRY_SEED wins, so a replay line works whatever range is
/// exported; neither set gives fallback. None and why in error for a value
/// that is not a seed or a range.
std::optional<SeedRange> choose_seeds(const char* ferry_seed, const char* ferry_seeds,
                                      SeedRange fallback, std::string* error = nullptr);

/// choose_seeds over this process's environment.
std::optional<SeedRange> seeds_from_environment(SeedRange fallback, std::string* error = nullptr);

}  // namespace ferry::testing
