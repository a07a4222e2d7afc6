#include "harness/fault_values.h"

#include <algorithm>
#include <initializer_list>

#include <fmt/core.h>

#include "harness/value_text.h"

namespace ferry::harness::knob {

namespace {

using Fields = std::vector<std::pair<std::string, KnobScalar>>;

std::chrono::milliseconds ms(std::uint64_t value) {
    return std::chrono::milliseconds(value);
}

/// "A<sep>B" split at the first sep; none when sep is missing.
std::optional<std::pair<std::string_view, std::string_view>> split(std::string_view text,
                                                                   std::string_view sep) {
    const auto at = text.find(sep);
    if (at == std::string_view::npos)
        return std::nullopt;
    return std::pair{text.substr(0, at), text.substr(at + sep.size())};
}

/// The fields of a table value, every one of them among known.
std::optional<std::string> table_fields(const KnobValue& value,
                                        std::initializer_list<std::string_view> known,
                                        const Fields*& out) {
    out = std::get_if<Fields>(&value);
    if (out == nullptr) {
        std::string names;
        for (auto k : known)
            names += fmt::format("{}{}", names.empty() ? "" : ", ", k);
        return fmt::format("must be a table with {}", names);
    }
    for (const auto& [key, field] : *out) {
        if (std::find(known.begin(), known.end(), key) == known.end())
            return fmt::format("has an unknown field \"{}\"", key);
    }
    return std::nullopt;
}

const KnobScalar* field(const Fields& fields, std::string_view key) {
    for (const auto& [k, v] : fields) {
        if (k == key)
            return &v;
    }
    return nullptr;
}

std::optional<std::string> count_field(const Fields& fields, std::string_view key,
                                       std::optional<std::uint64_t>& out) {
    const KnobScalar* v = field(fields, key);
    if (v == nullptr)
        return std::nullopt;
    const auto* n = std::get_if<std::uint64_t>(v);
    if (n == nullptr)
        return fmt::format("\"{}\" must be a whole number ≥ 0", key);
    out = *n;
    return std::nullopt;
}

std::optional<std::string> side_field(const Fields& fields, sim::Side& out) {
    const KnobScalar* v = field(fields, "side");
    if (v == nullptr)
        return std::nullopt;  // the default side stays
    const auto* s = std::get_if<std::string>(v);
    const auto side = s ? parse_side(*s) : std::nullopt;
    if (!side)
        return "\"side\" must be \"client\" or \"server\"";
    out = *side;
    return std::nullopt;
}

}  // namespace

// --- text ---

std::string to_text(const sim::Ratio& value) {
    return value.numerator == 0 ? "never" : ratio_text(value);
}
std::string to_text(const std::uint64_t& value) {
    return std::to_string(value);
}
std::string to_text(const Latency& value) {
    return fmt::format("{}..{}", value.min_ms, value.max_ms);
}
std::string to_text(const Buffers& value) {
    return fmt::format("{}:{}:{}", value.send_buffer_bytes, value.receive_window_bytes,
                       value.segment_bytes_max);
}
std::string to_text(const Clog& value) {
    return value ? fmt::format("{}+{}", whole_ms(value->at.since_epoch), whole_ms(value->duration))
                 : "none";
}
std::string to_text(const Stall& value) {
    if (!value)
        return "none";
    std::string text =
        fmt::format("{}:{}", sim::to_string(value->side), value->after_bytes.value_or(0));
    if (value->duration)
        text += fmt::format("+{}", whole_ms(*value->duration));
    return text;
}
std::string to_text(const Reset& value) {
    return value ? fmt::format("{}:{}", sim::to_string(value->side), value->after_bytes) : "none";
}
std::string to_text(const StoreIo& value) {
    if (value.at == 0)
        return "none";
    return fmt::format("{}:{}{}", to_string(value.call), value.at, value.persist ? ":persist" : "");
}

bool from_text(std::string_view text, sim::Ratio& out) {
    if (text == "always" || text == "never") {
        out = text == "always" ? sim::always : sim::never;
        return true;
    }
    const auto ratio = parse_ratio(text);
    if (ratio)
        out = *ratio;
    return ratio.has_value();
}
bool from_text(std::string_view text, std::uint64_t& out) {
    const auto value = parse_count(text);
    if (value)
        out = *value;
    return value.has_value();
}
bool from_text(std::string_view text, Latency& out) {
    const auto range = parse_range(text);
    if (range)
        out = Latency{range->first, range->second};
    return range.has_value();
}
bool from_text(std::string_view text, Buffers& out) {
    const auto first = split(text, ":");
    const auto rest = first ? split(first->second, ":") : std::nullopt;
    if (!rest)
        return false;
    const auto send = parse_count(first->first);
    const auto window = parse_count(rest->first);
    const auto segment = parse_count(rest->second);
    if (!send || !window || !segment || *send == 0 || *window == 0 || *segment == 0)
        return false;
    out = Buffers{*send, *window, *segment};
    return true;
}
bool from_text(std::string_view text, Clog& out) {
    const auto parts = split(text, "+");
    const auto at = parts ? parse_count(parts->first) : std::nullopt;
    const auto duration = parts ? parse_count(parts->second) : std::nullopt;
    if (!at || !duration)
        return false;
    out = sim::ClogFault{Instant{} + ms(*at), ms(*duration)};
    return true;
}
bool from_text(std::string_view text, Stall& out) {
    const auto parts = split(text, ":");
    const auto side = parse_side(parts ? parts->first : text);
    if (!side)
        return false;
    sim::StallFault stall;
    stall.side = *side;
    std::string_view rest = parts ? parts->second : "0";
    if (const auto timed = split(rest, "+")) {
        const auto for_ms = parse_count(timed->second);
        if (!for_ms)
            return false;
        stall.duration = ms(*for_ms);
        rest = timed->first;
    }
    const auto after = parse_count(rest);
    if (!after)
        return false;
    stall.after_bytes = *after;
    out = stall;
    return true;
}
bool from_text(std::string_view text, Reset& out) {
    const auto parts = split(text, ":");
    const auto side = parts ? parse_side(parts->first) : std::nullopt;
    const auto after = parts ? parse_count(parts->second) : std::nullopt;
    if (!side || !after)
        return false;
    out = sim::ResetFault{*side, *after};
    return true;
}
bool from_text(std::string_view text, StoreIo& out) {
    const auto parts = split(text, ":");
    if (!parts)
        return false;
    StoreIo io;
    if (parts->first == "write") {
        io.call = StoreIo::Call::write;
    } else if (parts->first == "fsync") {
        io.call = StoreIo::Call::fsync;
    } else if (parts->first == "rename") {
        io.call = StoreIo::Call::rename;
    } else {
        return false;
    }
    std::string_view at = parts->second;
    if (const auto persist = split(at, ":")) {
        if (persist->second != "persist")
            return false;
        io.persist = true;
        at = persist->first;
    }
    const auto n = parse_count(at);
    if (!n || *n == 0)
        return false;
    io.at = *n;
    out = io;
    return true;
}

// --- TOML values ---

KnobValue to_value(const sim::Ratio& value) {
    return ratio_text(value);
}
KnobValue to_value(const std::uint64_t& value) {
    return value;
}
KnobValue to_value(const Latency& value) {
    return std::vector<std::uint64_t>{value.min_ms, value.max_ms};
}
KnobValue to_value(const Buffers& value) {
    return Fields{{"send_buffer_bytes", value.send_buffer_bytes},
                  {"receive_window_bytes", value.receive_window_bytes},
                  {"segment_bytes_max", value.segment_bytes_max}};
}
KnobValue to_value(const Clog& value) {
    if (!value)
        return Fields{};
    return Fields{{"at_ms", whole_ms(value->at.since_epoch)},
                  {"for_ms", whole_ms(value->duration)}};
}
KnobValue to_value(const Stall& value) {
    if (!value)
        return Fields{};
    Fields fields{{"side", std::string(sim::to_string(value->side))},
                  {"after_bytes", value->after_bytes.value_or(0)}};
    if (value->duration)
        fields.emplace_back("for_ms", whole_ms(*value->duration));
    return fields;
}
KnobValue to_value(const Reset& value) {
    if (!value)
        return Fields{};
    return Fields{{"side", std::string(sim::to_string(value->side))},
                  {"after_bytes", value->after_bytes}};
}
KnobValue to_value(const StoreIo& value) {
    return Fields{
        {"fail", std::string(to_string(value.call))}, {"at", value.at}, {"persist", value.persist}};
}

std::optional<std::string> from_value(const KnobValue& value, sim::Ratio& out) {
    if (const auto* flag = std::get_if<bool>(&value)) {
        out = *flag ? sim::always : sim::never;
        return std::nullopt;
    }
    const auto* text = std::get_if<std::string>(&value);
    if (text == nullptr || !from_text(*text, out))
        return "must be a ratio \"N/D\" (N ≤ D), or true (always) or false (never)";
    return std::nullopt;
}
std::optional<std::string> from_value(const KnobValue& value, std::uint64_t& out) {
    const auto* n = std::get_if<std::uint64_t>(&value);
    if (n == nullptr)
        return "must be a whole number ≥ 0";
    out = *n;
    return std::nullopt;
}
std::optional<std::string> from_value(const KnobValue& value, Latency& out) {
    const auto* list = std::get_if<std::vector<std::uint64_t>>(&value);
    if (list == nullptr || list->size() != 2 || (*list)[0] > (*list)[1])
        return "must be [min, max] with min ≤ max";
    out = Latency{(*list)[0], (*list)[1]};
    return std::nullopt;
}
std::optional<std::string> from_value(const KnobValue& value, Buffers& out) {
    const Fields* fields = nullptr;
    if (auto error = table_fields(
            value, {"send_buffer_bytes", "receive_window_bytes", "segment_bytes_max"}, fields))
        return error;
    std::optional<std::uint64_t> send, window, segment;
    if (auto e = count_field(*fields, "send_buffer_bytes", send))
        return e;
    if (auto e = count_field(*fields, "receive_window_bytes", window))
        return e;
    if (auto e = count_field(*fields, "segment_bytes_max", segment))
        return e;
    const sim::NetworkFaults calm;
    out = Buffers{send.value_or(calm.send_buffer_bytes), window.value_or(calm.receive_window_bytes),
                  segment.value_or(calm.segment_bytes_max)};
    if (out.send_buffer_bytes == 0 || out.receive_window_bytes == 0 || out.segment_bytes_max == 0)
        return "sizes must be at least 1";
    return std::nullopt;
}
std::optional<std::string> from_value(const KnobValue& value, Clog& out) {
    const Fields* fields = nullptr;
    if (auto error = table_fields(value, {"at_ms", "for_ms"}, fields))
        return error;
    std::optional<std::uint64_t> at, duration;
    if (auto e = count_field(*fields, "at_ms", at))
        return e;
    if (auto e = count_field(*fields, "for_ms", duration))
        return e;
    if (!duration)
        return "needs \"for_ms\"";
    out = sim::ClogFault{Instant{} + ms(at.value_or(0)), ms(*duration)};
    return std::nullopt;
}
std::optional<std::string> from_value(const KnobValue& value, Stall& out) {
    const Fields* fields = nullptr;
    if (auto error = table_fields(value, {"side", "after_bytes", "for_ms"}, fields))
        return error;
    sim::StallFault stall;
    std::optional<std::uint64_t> after, for_ms;
    if (auto e = side_field(*fields, stall.side))
        return e;
    if (auto e = count_field(*fields, "after_bytes", after))
        return e;
    if (auto e = count_field(*fields, "for_ms", for_ms))
        return e;
    stall.after_bytes = after.value_or(0);
    if (for_ms)
        stall.duration = ms(*for_ms);
    out = stall;
    return std::nullopt;
}
std::optional<std::string> from_value(const KnobValue& value, Reset& out) {
    const Fields* fields = nullptr;
    if (auto error = table_fields(value, {"side", "after_bytes"}, fields))
        return error;
    sim::ResetFault reset{sim::Side::client, 0};
    std::optional<std::uint64_t> after;
    if (auto e = side_field(*fields, reset.side))
        return e;
    if (auto e = count_field(*fields, "after_bytes", after))
        return e;
    reset.after_bytes = after.value_or(0);
    out = reset;
    return std::nullopt;
}
std::optional<std::string> from_value(const KnobValue& value, StoreIo& out) {
    const Fields* fields = nullptr;
    if (auto error = table_fields(value, {"fail", "at", "persist"}, fields))
        return error;
    const KnobScalar* call = field(*fields, "fail");
    const auto* call_text = call ? std::get_if<std::string>(call) : nullptr;
    std::optional<std::uint64_t> at;
    if (auto e = count_field(*fields, "at", at))
        return e;
    StoreIo io;
    if (call_text == nullptr || !from_text(fmt::format("{}:{}", *call_text, at.value_or(1)), io))
        return "needs \"fail\" = \"write\", \"fsync\" or \"rename\", and \"at\" ≥ 1";
    if (const KnobScalar* persist = field(*fields, "persist")) {
        const auto* flag = std::get_if<bool>(persist);
        if (flag == nullptr)
            return "\"persist\" must be true or false";
        io.persist = *flag;
    }
    out = io;
    return std::nullopt;
}

std::string_view to_string(StoreIo::Call call) {
    switch (call) {
        case StoreIo::Call::write:
            return "write";
        case StoreIo::Call::fsync:
            return "fsync";
        case StoreIo::Call::rename:
            return "rename";
    }
    return "?";
}

}  // namespace ferry::harness::knob
