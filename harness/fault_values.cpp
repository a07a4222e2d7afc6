#include "ferry/harness/fault_values.h"

#include <algorithm>
#include <initializer_list>

#include <fmt/core.h>

#include "ferry/harness/value_text.h"

namespace ferry::harness::knob {

namespace {

using Fields = std::vector<std::pair<std::string, KnobScalar>>;

/// value ≤ run_ms_max: its callers check.
std::chrono::milliseconds ms(std::uint64_t value) {
    return std::chrono::milliseconds(value);
}

std::string too_many_ms() {
    return fmt::format("must be at most {} ms", run_ms_max);
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

/// A count: an integer, or past a TOML integer's range a string of digits
/// (run_toml.cpp's toml_count).
std::optional<std::uint64_t> count_scalar(const KnobScalar& value) {
    if (const auto* n = std::get_if<std::uint64_t>(&value))
        return *n;
    if (const auto* text = std::get_if<std::string>(&value))
        return parse_count(*text);
    return std::nullopt;
}

std::optional<std::string> count_field(const Fields& fields, std::string_view key,
                                       std::optional<std::uint64_t>& out) {
    const KnobScalar* v = field(fields, key);
    if (v == nullptr)
        return std::nullopt;
    out = count_scalar(*v);
    if (!out)
        return fmt::format("\"{}\" must be a whole number ≥ 0", key);
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

/// text split at every sep.
std::vector<std::string_view> split_all(std::string_view text, char sep) {
    std::vector<std::string_view> words;
    for (;;) {
        const auto at = text.find(sep);
        words.push_back(text.substr(0, at));
        if (at == std::string_view::npos)
            return words;
        text.remove_prefix(at + 1);
    }
}

/// A filesystem call by name, "any" (none) or "fsync" (sync, its older name).
bool call_of(std::string_view name, std::optional<FsCall>& out) {
    if (name == "any") {
        out = std::nullopt;
        return true;
    }
    const auto call = fs_call_named(name == "fsync" ? "sync" : name);
    if (call)
        out = *call;
    return call.has_value();
}

std::optional<std::string> flag_field(const Fields& fields, std::string_view key, bool& out) {
    const KnobScalar* v = field(fields, key);
    if (v == nullptr)
        return std::nullopt;
    const auto* flag = std::get_if<bool>(v);
    if (flag == nullptr)
        return fmt::format("\"{}\" must be true or false", key);
    out = *flag;
    return std::nullopt;
}

std::optional<std::string> call_field(const Fields& fields, std::string_view key,
                                      std::optional<FsCall>& out) {
    const KnobScalar* v = field(fields, key);
    const auto* text = v ? std::get_if<std::string>(v) : nullptr;
    if (text == nullptr || !call_of(*text, out)) {
        return fmt::format(
            "\"{}\" must be \"any\" or a filesystem call (open, write, read, "
            "sync, stat, lock, close, list, rename, unlink, sync_directory)",
            key);
    }
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
    return fmt::format("{}:{}{}{}", to_string(value.call), value.at,
                       value.persist ? ":persist" : "", value.error == ENOSPC ? ":enospc" : "");
}
std::string to_text(const Crash& value) {
    if (!value)
        return "none";
    const std::string at = value->after_bytes
                               ? fmt::format("bytes:{}", *value->after_bytes)
                               : fmt::format("{}:{}", to_string(value->call_kind), value->at_call);
    return fmt::format("{}{}{}", at, value->power_loss ? "" : ":kill",
                       value->restart ? "" : ":stay_down");
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
    if (!range || range->second > run_ms_max)
        return false;
    out = Latency{range->first, range->second};
    return true;
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
    if (!at || !duration || *at > run_ms_max || *duration > run_ms_max)
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
        if (!for_ms || *for_ms > run_ms_max)
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
    const std::vector<std::string_view> words = split_all(text, ':');
    StoreIo io;
    if (words.size() < 2 || !call_of(words[0], io.call))
        return false;
    const auto n = parse_count(words[1]);
    if (!n || *n == 0)
        return false;
    io.at = *n;
    for (std::size_t i = 2; i < words.size(); ++i) {
        if (words[i] == "persist" && !io.persist)
            io.persist = true;
        else if (words[i] == "enospc" && io.error != ENOSPC)
            io.error = ENOSPC;
        else
            return false;
    }
    out = io;
    return true;
}

bool from_text(std::string_view text, Crash& out) {
    if (text == "none") {
        out = std::nullopt;
        return true;
    }
    const std::vector<std::string_view> words = split_all(text, ':');
    sim::CrashFault crash;
    if (words.size() < 2)
        return false;
    const auto n = parse_count(words[1]);
    if (!n)
        return false;
    if (words[0] == "bytes") {
        crash.after_bytes = *n;
    } else {
        if (*n == 0 || !call_of(words[0], crash.call_kind))
            return false;
        crash.at_call = *n;
    }
    for (std::size_t i = 2; i < words.size(); ++i) {
        if (words[i] == "kill" && crash.power_loss)
            crash.power_loss = false;
        else if (words[i] == "stay_down" && crash.restart)
            crash.restart = false;
        else
            return false;
    }
    out = crash;
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
    if (value.at == 0)
        return Fields{};
    Fields fields{{"fail", std::string(to_string(value.call))}, {"at", value.at}};
    if (value.persist)
        fields.emplace_back("persist", true);
    if (value.error == ENOSPC)
        fields.emplace_back("error", std::string("ENOSPC"));
    return fields;
}
KnobValue to_value(const Crash& value) {
    if (!value)
        return Fields{};
    Fields fields{{"side", std::string("server")}};
    if (value->after_bytes) {
        fields.emplace_back("after_bytes", *value->after_bytes);
    } else {
        fields.emplace_back("at_call", std::string(to_string(value->call_kind)));
        fields.emplace_back("nth", value->at_call);
    }
    fields.emplace_back("power_loss", value->power_loss);
    fields.emplace_back("restart", value->restart);
    return fields;
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
    std::optional<std::uint64_t> n;
    if (const auto* number = std::get_if<std::uint64_t>(&value))
        n = *number;
    else if (const auto* text = std::get_if<std::string>(&value))
        n = parse_count(*text);
    if (!n)
        return "must be a whole number ≥ 0";
    out = *n;
    return std::nullopt;
}
std::optional<std::string> from_value(const KnobValue& value, Latency& out) {
    const auto* list = std::get_if<std::vector<std::uint64_t>>(&value);
    if (list == nullptr || list->size() != 2 || (*list)[0] > (*list)[1])
        return "must be [min, max] with min ≤ max";
    if ((*list)[1] > run_ms_max)
        return too_many_ms();
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
    if (at.value_or(0) > run_ms_max || *duration > run_ms_max)
        return too_many_ms();
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
    if (for_ms && *for_ms > run_ms_max)
        return too_many_ms();
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
    if (auto error = table_fields(value, {"fail", "at", "persist", "error"}, fields))
        return error;
    if (fields->empty()) {
        out = StoreIo{};
        return std::nullopt;
    }
    StoreIo io;
    std::optional<std::uint64_t> at;
    if (auto e = call_field(*fields, "fail", io.call))
        return e;
    if (auto e = count_field(*fields, "at", at))
        return e;
    if (at.value_or(1) == 0)
        return "\"at\" must be at least 1";
    io.at = at.value_or(1);
    if (auto e = flag_field(*fields, "persist", io.persist))
        return e;
    if (const KnobScalar* error = field(*fields, "error")) {
        const auto* text = std::get_if<std::string>(error);
        if (text == nullptr || (*text != "EIO" && *text != "ENOSPC"))
            return "\"error\" must be \"EIO\" or \"ENOSPC\"";
        io.error = *text == "EIO" ? EIO : ENOSPC;
    }
    out = io;
    return std::nullopt;
}

std::optional<std::string> from_value(const KnobValue& value, Crash& out) {
    const Fields* fields = nullptr;
    if (auto error = table_fields(
            value, {"side", "after_bytes", "at_call", "nth", "power_loss", "restart"}, fields))
        return error;
    if (fields->empty()) {
        out = std::nullopt;
        return std::nullopt;
    }
    sim::Side side = sim::Side::server;
    if (auto e = side_field(*fields, side))
        return e;
    if (side != sim::Side::server)
        return "\"side\" must be \"server\": only the server's machine crashes";
    sim::CrashFault crash;
    std::optional<std::uint64_t> nth;
    if (auto e = count_field(*fields, "after_bytes", crash.after_bytes))
        return e;
    if (auto e = count_field(*fields, "nth", nth))
        return e;
    const bool at_call = field(*fields, "at_call") != nullptr;
    if (at_call == crash.after_bytes.has_value())
        return "needs exactly one of \"after_bytes\" or \"at_call\"";
    if (at_call) {
        if (auto e = call_field(*fields, "at_call", crash.call_kind))
            return e;
        if (nth.value_or(1) == 0)
            return "\"nth\" must be at least 1";
        crash.at_call = nth.value_or(1);
    } else if (nth) {
        return "\"nth\" goes with \"at_call\"";
    }
    if (auto e = flag_field(*fields, "power_loss", crash.power_loss))
        return e;
    if (auto e = flag_field(*fields, "restart", crash.restart))
        return e;
    out = crash;
    return std::nullopt;
}

std::string_view to_string(const std::optional<FsCall>& call) {
    return call ? ferry::to_string(*call) : "any";
}

}  // namespace ferry::harness::knob
