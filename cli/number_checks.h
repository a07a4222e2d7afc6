#pragma once
// Checks for numeric options that name the bad value in words. CLI11's own
// PositiveNumber reports "Value 0 not in range 0.000000 to 1797...": its
// bound printed as a 309-digit double.

#include <charconv>
#include <cstdint>
#include <string>

#include <CLI/CLI.hpp>

namespace ferry::cli {

/// A whole number of at least minimum, that fits in 64 bits.
inline CLI::Validator whole_number_at_least(std::uint64_t minimum) {
    return CLI::Validator(
        [minimum](std::string& input) -> std::string {
            std::uint64_t value = 0;
            const char* end = input.data() + input.size();
            const auto [at, error] = std::from_chars(input.data(), end, value);
            if (error == std::errc::result_out_of_range)
                return "'" + input + "' is too large";
            if (error != std::errc() || at != end)
                return "'" + input + "' is not a whole number";
            if (value < minimum)
                return "'" + input + "' is less than " + std::to_string(minimum);
            return {};
        },
        minimum == 0 ? "WHOLE NUMBER" : "WHOLE NUMBER >= " + std::to_string(minimum));
}

}  // namespace ferry::cli
