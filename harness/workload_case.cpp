#include "ferry/harness/workload_case.h"

#include <algorithm>

#include <fmt/core.h>

namespace ferry::harness {

const ParamValue* find_param(const Params& params, std::string_view key) {
    for (const Param& p : params) {
        if (p.key == key)
            return &p.value;
    }
    return nullptr;
}

std::uint64_t count_param(const Params& params, std::string_view key, std::uint64_t otherwise) {
    const ParamValue* v = find_param(params, key);
    const auto* n = v ? std::get_if<std::uint64_t>(v) : nullptr;
    return n ? *n : otherwise;
}

bool flag_param(const Params& params, std::string_view key, bool otherwise) {
    const ParamValue* v = find_param(params, key);
    const auto* b = v ? std::get_if<bool>(v) : nullptr;
    return b ? *b : otherwise;
}

std::string text_param(const Params& params, std::string_view key, std::string_view otherwise) {
    const ParamValue* v = find_param(params, key);
    const auto* s = v ? std::get_if<std::string>(v) : nullptr;
    return s ? *s : std::string(otherwise);
}

const TextTable* table_param(const Params& params, std::string_view key) {
    const ParamValue* v = find_param(params, key);
    return v ? std::get_if<TextTable>(v) : nullptr;
}

void set_param(Params& params, std::string_view key, ParamValue value) {
    for (Param& p : params) {
        if (p.key == key) {
            p.value = std::move(value);
            return;
        }
    }
    params.push_back(Param{std::string(key), std::move(value)});
}

void erase_param(Params& params, std::string_view key) {
    std::erase_if(params, [&](const Param& p) { return p.key == key; });
}

const VerbSpec* WorkloadSchema::find_verb(std::string_view verb) const {
    for (const VerbSpec& v : verbs) {
        if (v.verb == verb)
            return &v;
    }
    return nullptr;
}

const ParamSpec* find_spec(const std::vector<ParamSpec>& specs, std::string_view key) {
    for (const ParamSpec& s : specs) {
        if (s.key == key)
            return &s;
    }
    return nullptr;
}

std::string_view to_string(ParamKind kind) {
    switch (kind) {
        case ParamKind::count:
            return "a whole number";
        case ParamKind::flag:
            return "true or false";
        case ParamKind::text:
            return "text";
        case ParamKind::text_table:
            return "a table of text";
    }
    return "?";
}

namespace {

bool fits(const ParamValue& value, ParamKind kind) {
    switch (kind) {
        case ParamKind::count:
            return std::holds_alternative<std::uint64_t>(value);
        case ParamKind::flag:
            return std::holds_alternative<bool>(value);
        case ParamKind::text:
            return std::holds_alternative<std::string>(value);
        case ParamKind::text_table:
            return std::holds_alternative<TextTable>(value);
    }
    return false;
}

std::string known_keys(const std::vector<ParamSpec>& specs) {
    std::string keys;
    for (const ParamSpec& s : specs)
        keys += fmt::format("{}{}", keys.empty() ? "" : ", ", s.key);
    return keys.empty() ? "none" : keys;
}

}  // namespace

std::optional<std::string> check_params(const Params& params, const std::vector<ParamSpec>& specs,
                                        std::string_view where) {
    for (const Param& p : params) {
        const ParamSpec* spec = find_spec(specs, p.key);
        if (spec == nullptr) {
            return fmt::format("unknown key \"{}\" in {} (known keys: {})", p.key, where,
                               known_keys(specs));
        }
        if (!fits(p.value, spec->kind))
            return fmt::format("\"{}\" in {} must be {}", p.key, where, to_string(spec->kind));
        const auto* n = std::get_if<std::uint64_t>(&p.value);
        if (n && *n < spec->minimum)
            return fmt::format("\"{}\" in {} must be at least {}", p.key, where, spec->minimum);
        if (spec->check != nullptr) {
            if (auto why = spec->check(p.key, p.value))
                return fmt::format("{} (in {})", *why, where);
        }
    }
    return std::nullopt;
}

std::optional<std::string> check_operation(const Operation& op, const WorkloadSchema& schema) {
    const VerbSpec* verb = schema.find_verb(op.verb);
    if (verb == nullptr) {
        std::string verbs;
        for (const VerbSpec& v : schema.verbs)
            verbs += fmt::format("{}{}", verbs.empty() ? "" : ", ", v.verb);
        return fmt::format("unknown operation \"{}\" (known: {})", op.verb, verbs);
    }
    std::vector<ParamSpec> specs = verb->params;
    if (!verb->primary.empty()) {
        specs.insert(specs.begin(), ParamSpec{verb->primary, verb->primary_kind, ""});
        if (find_param(op.params, verb->primary) == nullptr)
            return fmt::format("{} needs its {}", op.verb, verb->primary);
    }
    if (!verb->one_of.empty()) {
        const auto given = std::count_if(
            verb->one_of.begin(), verb->one_of.end(),
            [&](std::string_view key) { return find_param(op.params, key) != nullptr; });
        if (given != 1) {
            std::string keys;
            for (std::size_t i = 0; i < verb->one_of.size(); ++i) {
                keys += fmt::format("{}{}",
                                    i == 0                         ? ""
                                    : i + 1 == verb->one_of.size() ? " or "
                                                                   : ", ",
                                    verb->one_of[i]);
            }
            return fmt::format("a {} operation needs exactly one of {}", op.verb, keys);
        }
    }
    return check_params(op.params, specs, fmt::format("a {} operation", op.verb));
}

std::optional<std::string> check_case(const WorkloadCase& c, const WorkloadSchema& schema) {
    if (auto error = check_params(c.settings, schema.settings, "the workload's settings"))
        return error;
    if (schema.check_settings) {
        if (auto error = schema.check_settings(c.settings))
            return error;
    }
    for (const ClientPlan& client : c.clients) {
        if (auto error = check_params(client.options, schema.client_options, "a client"))
            return error;
        for (const Operation& op : client.ops) {
            if (auto error = check_operation(op, schema))
                return error;
        }
    }
    return std::nullopt;
}

}  // namespace ferry::harness
