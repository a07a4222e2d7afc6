#include "ferry/harness/run_toml.h"

#include <cstdint>
#include <limits>

#include <fmt/core.h>

#include "ferry/harness/value_text.h"

namespace ferry::harness {

namespace {

/// The length of the UTF-8 sequence text starts with, or 0 if it is not
/// valid UTF-8: a bad lead or continuation byte, an overlong form, a
/// surrogate or a code point past U+10FFFF, which a TOML reader refuses too.
std::size_t utf8_sequence(std::string_view text) {
    const auto lead = static_cast<unsigned char>(text[0]);
    const std::size_t length = lead < 0x80           ? 1
                               : (lead >> 5) == 0x6  ? 2
                               : (lead >> 4) == 0xE  ? 3
                               : (lead >> 3) == 0x1E ? 4
                                                     : 0;
    if (length == 0 || length > text.size())
        return 0;
    std::uint32_t code = length == 1 ? lead : lead & (0x7Fu >> length);
    for (std::size_t i = 1; i < length; ++i) {
        const auto next = static_cast<unsigned char>(text[i]);
        if ((next >> 6) != 0x2)
            return 0;
        code = (code << 6) | (next & 0x3Fu);
    }
    // The smallest code point each length may hold: below it, an overlong form.
    static constexpr std::uint32_t smallest[] = {0, 0, 0x80, 0x800, 0x10000};
    if (code < smallest[length] || code > 0x10FFFF || (code >= 0xD800 && code <= 0xDFFF))
        return 0;
    return length;
}

}  // namespace

std::optional<std::string> toml_string(std::string_view text) {
    std::string out = "\"";
    while (!text.empty()) {
        const std::size_t length = utf8_sequence(text);
        if (length == 0)
            return std::nullopt;
        const char ch = text[0];
        if (length > 1) {
            out.append(text.substr(0, length));
        } else if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (static_cast<unsigned char>(ch) < 0x20 || ch == 0x7f) {
            out += fmt::format("\\u{:04x}", static_cast<unsigned char>(ch));
        } else {
            out += ch;
        }
        text.remove_prefix(length);
    }
    return out + "\"";
}

namespace {

/// A count as TOML holds it: an integer up to 2^63 − 1, past that (a drawn
/// seed, any count a run's text gave) a string, which scenario files read as
/// the same number.
std::string toml_count(std::uint64_t n) {
    if (n > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return fmt::format("\"{}\"", n);
    return std::to_string(n);
}

std::string scalar_toml(const KnobScalar& value) {
    if (const auto* b = std::get_if<bool>(&value))
        return *b ? "true" : "false";
    if (const auto* n = std::get_if<std::uint64_t>(&value))
        return toml_count(*n);
    return toml_string(std::get<std::string>(value)).value_or("\"\"");
}

}  // namespace

std::string toml_knob_value(const KnobValue& value) {
    if (const auto* list = std::get_if<std::vector<std::uint64_t>>(&value)) {
        std::string text;
        for (const std::uint64_t n : *list)
            text += fmt::format("{}{}", text.empty() ? "" : ", ", toml_count(n));
        return "[" + text + "]";
    }
    if (const auto* fields = std::get_if<std::vector<std::pair<std::string, KnobScalar>>>(&value)) {
        std::string text;
        for (const auto& [key, scalar] : *fields)
            text += fmt::format("{}{} = {}", text.empty() ? "" : ", ", key, scalar_toml(scalar));
        return "{ " + text + " }";
    }
    if (const auto* b = std::get_if<bool>(&value))
        return scalar_toml(*b);
    if (const auto* n = std::get_if<std::uint64_t>(&value))
        return scalar_toml(*n);
    return scalar_toml(std::get<std::string>(value));
}

std::optional<std::string> toml_param_value(const ParamValue& value) {
    if (const auto* n = std::get_if<std::uint64_t>(&value))
        return toml_count(*n);
    if (const auto* b = std::get_if<bool>(&value))
        return *b ? "true" : "false";
    if (const auto* s = std::get_if<std::string>(&value))
        return toml_string(*s);
    std::string text;
    for (const auto& [key, content] : std::get<TextTable>(value)) {
        const auto k = toml_string(key);
        const auto v = toml_string(content);
        if (!k || !v)
            return std::nullopt;
        text += fmt::format("{}{} = {}", text.empty() ? "" : ", ", *k, *v);
    }
    return "{ " + text + " }";
}

}  // namespace ferry::harness

namespace ferry::harness {

namespace {

/// A step as an inline table: { put = "a.bin", size = 3 }, { dir = true }.
std::optional<std::string> step_toml(const Operation& op, const WorkloadSchema& schema) {
    const VerbSpec* verb = schema.find_verb(op.verb);
    std::string text;
    bool primary_written = false;
    for (std::size_t i = 0; i < op.params.size(); ++i) {
        const Param& p = op.params[i];
        const auto value = toml_param_value(p.value);
        if (!value)
            return std::nullopt;
        const bool primary = i == 0 && verb && !verb->primary.empty() && p.key == verb->primary;
        primary_written |= primary;
        text +=
            fmt::format("{}{} = {}", text.empty() ? "" : ", ", primary ? op.verb : p.key, *value);
    }
    if (!primary_written)
        text = fmt::format("{} = true{}{}", op.verb, text.empty() ? "" : ", ", text);
    return "{ " + text + " }";
}

std::optional<std::string> params_toml(const Params& params) {
    std::string text;
    for (const Param& p : params) {
        const auto value = toml_param_value(p.value);
        if (!value)
            return std::nullopt;
        text += fmt::format("{} = {}\n", p.key, *value);
    }
    return text;
}

std::optional<std::string> clients_toml(const RunSpec& spec, const WorkloadSchema& schema) {
    std::string text;
    for (const ClientPlan& client : spec.work.clients) {
        const auto options = params_toml(client.options);
        if (!options)
            return std::nullopt;
        text += "\n[[client]]\n" + *options + "steps = [\n";
        for (const Operation& op : client.ops) {
            const auto step = step_toml(op, schema);
            if (!step)
                return std::nullopt;
            text += fmt::format("  {},\n", *step);
        }
        text += "]\n";
    }
    return text;
}

}  // namespace

std::optional<std::string> run_spec_toml(const RunSpec& spec, const Workload& workload,
                                         std::string* why_not) {
    auto fail = [&](std::string reason) -> std::optional<std::string> {
        if (why_not != nullptr)
            *why_not = std::move(reason);
        return std::nullopt;
    };
    std::string text =
        fmt::format("workload = \"{}\"\nseed = {}\n", workload.name(), toml_count(spec.seed));
    if (spec.choices) {
        std::string list;
        for (const std::uint64_t c : *spec.choices)
            list += fmt::format("{}{}", list.empty() ? "" : ", ", toml_count(c));
        text += fmt::format("choices = [{}]\n", list);
    }
    if (spec.time_budget != default_time_budget)
        text += fmt::format("time_budget_ms = {}\n", whole_ms(spec.time_budget));
    if (!is_calm(spec.faults)) {
        text += "\n[faults]\n";
        for (const FaultKnob& knob : fault_knobs()) {
            if (!knob.is_calm(spec.faults))
                text +=
                    fmt::format("{} = {}\n", knob.name, toml_knob_value(knob.value(spec.faults)));
        }
    }
    const auto settings = params_toml(spec.work.settings);
    const auto clients = clients_toml(spec, workload.schema());
    if (!settings || !clients)
        return fail("a value is not valid UTF-8, which a TOML file cannot hold");
    if (!settings->empty())
        text += fmt::format("\n[{}]\n{}", workload.name(), *settings);
    return text + *clients;
}

}  // namespace ferry::harness
