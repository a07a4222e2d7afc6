#pragma once
// Text forms of the small values a run is made of — counts, ratios, ranges,
// sides, durations — shared by the fault-plan table, the case text and the
// command line, so each reads and prints one way everywhere.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/protocol/clock.h"
#include "ferry/sim/decisions.h"
#include "ferry/sim/faults.h"

namespace ferry::harness {

/// Decimal digits only, no sign, at most 2^64 − 1.
std::optional<std::uint64_t> parse_count(std::string_view text);
/// "N/D" with D ≥ 1 and N ≤ D; 0/D is never (0/1).
std::optional<sim::Ratio> parse_ratio(std::string_view text);
std::string ratio_text(sim::Ratio ratio);
/// "A..B" with A ≤ B, or "A" meaning A..A.
std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_range(std::string_view text);
/// "client" or "server".
std::optional<sim::Side> parse_side(std::string_view text);
/// The most milliseconds a run's durations and latencies may hold (about 31
/// years): the simulator's clock, nanoseconds in 64 bits (about 292 years),
/// then adds a few of them without overflowing. Parsers refuse more.
inline constexpr std::uint64_t run_ms_max = 1'000'000'000'000;
/// Whole milliseconds of a duration.
std::uint64_t whole_ms(Duration duration);

}  // namespace ferry::harness
