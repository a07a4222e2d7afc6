#include "ferry/harness/value_text.h"

#include <fmt/core.h>

namespace ferry::harness {

std::optional<std::uint64_t> parse_count(std::string_view text) {
    if (text.empty() || text.size() > 20)
        return std::nullopt;
    std::uint64_t value = 0;
    for (const char ch : text) {
        if (ch < '0' || ch > '9')
            return std::nullopt;
        const auto digit = static_cast<std::uint64_t>(ch - '0');
        if (value > (UINT64_MAX - digit) / 10)
            return std::nullopt;
        value = value * 10 + digit;
    }
    return value;
}

std::optional<sim::Ratio> parse_ratio(std::string_view text) {
    const auto slash = text.find('/');
    if (slash == std::string_view::npos)
        return std::nullopt;
    const auto n = parse_count(text.substr(0, slash));
    const auto d = parse_count(text.substr(slash + 1));
    if (!n || !d || *d == 0 || *n > *d)
        return std::nullopt;
    // 0/8 never fires: it is never, the calm value, and prints as nothing.
    // Kept as 0/8 it counted as an active fault (excusing errors it cannot
    // cause) and printed as "never", which reads back as another plan.
    if (*n == 0)
        return sim::never;
    return sim::Ratio{*n, *d};
}

std::string ratio_text(sim::Ratio ratio) {
    return fmt::format("{}/{}", ratio.numerator, ratio.denominator);
}

std::optional<std::pair<std::uint64_t, std::uint64_t>> parse_range(std::string_view text) {
    const auto dots = text.find("..");
    if (dots == std::string_view::npos) {
        const auto value = parse_count(text);
        if (!value)
            return std::nullopt;
        return std::pair{*value, *value};
    }
    const auto low = parse_count(text.substr(0, dots));
    const auto high = parse_count(text.substr(dots + 2));
    if (!low || !high || *low > *high)
        return std::nullopt;
    return std::pair{*low, *high};
}

std::optional<sim::Side> parse_side(std::string_view text) {
    if (text == "client")
        return sim::Side::client;
    if (text == "server")
        return sim::Side::server;
    return std::nullopt;
}

std::uint64_t whole_ms(Duration duration) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(duration).count());
}

}  // namespace ferry::harness
