#include "ferry/harness/run_text.h"

#include <cstdio>

#include <fmt/core.h>

#include "ferry/harness/value_text.h"

namespace ferry::harness {

namespace {

bool is_word_char(char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '.' || ch == '_' || ch == '-' || ch == ':' || ch == '+' || ch == '/';
}

/// A plain word that reads back as itself: no quoting needed.
bool is_plain(std::string_view text) {
    if (text.empty())
        return false;
    for (const char ch : text) {
        if (!is_word_char(ch))
            return false;
    }
    return true;
}

std::string quoted(std::string_view text) {
    if (is_plain(text))
        return std::string(text);
    std::string out = "\"";
    for (const char ch : text) {
        const auto byte = static_cast<unsigned char>(ch);
        if (ch == '"' || ch == '\\') {
            out += '\\';
            out += ch;
        } else if (byte < 0x20 || byte >= 0x7f || ch == '\'') {
            out += fmt::format("\\x{:02x}", byte);
        } else {
            out += ch;
        }
    }
    return out + "\"";
}

}  // namespace

std::string value_text(const ParamValue& value) {
    if (const auto* n = std::get_if<std::uint64_t>(&value))
        return std::to_string(*n);
    if (const auto* b = std::get_if<bool>(&value))
        return *b ? "true" : "false";
    if (const auto* s = std::get_if<std::string>(&value))
        return quoted(*s);
    std::string text = "{";
    for (const auto& [key, content] : std::get<TextTable>(value))
        text += fmt::format("{}{}={}", text.size() == 1 ? "" : ",", quoted(key), quoted(content));
    return text + "}";
}

std::string operation_text(const Operation& op, const WorkloadSchema* schema) {
    const VerbSpec* verb = schema ? schema->find_verb(op.verb) : nullptr;
    std::string args;
    for (std::size_t i = 0; i < op.params.size(); ++i) {
        const Param& p = op.params[i];
        const bool positional = i == 0 && verb && !verb->primary.empty() && p.key == verb->primary;
        args += fmt::format("{}{}{}", args.empty() ? "" : ",",
                            positional ? "" : fmt::format("{}=", p.key), value_text(p.value));
    }
    return args.empty() ? op.verb : fmt::format("{}({})", op.verb, args);
}

std::string run_spec_text(const RunSpec& spec, const Workload& workload) {
    const WorkloadSchema& schema = workload.schema();
    std::string text = spec.workload;
    for (const Param& p : spec.work.settings)
        text += fmt::format(" {}={}", p.key, value_text(p.value));
    for (const ClientPlan& client : spec.work.clients) {
        std::string items;
        for (const Param& p : client.options)
            items += fmt::format("{}{}={}", items.empty() ? "" : " ", p.key, value_text(p.value));
        for (const Operation& op : client.ops)
            items += fmt::format("{}{}", items.empty() ? "" : " ", operation_text(op, &schema));
        text += fmt::format(" client({})", items);
    }
    const std::string faults = fault_plan_text(spec.faults);
    if (!faults.empty())
        text += " " + faults;
    if (spec.time_budget != default_time_budget)
        text += fmt::format(" time_budget_ms={}", whole_ms(spec.time_budget));
    text += fmt::format(" seed={}", spec.seed);
    if (spec.choices) {
        text += " choices=";
        for (std::size_t i = 0; i < spec.choices->size(); ++i)
            text += fmt::format("{}{}", i == 0 ? "" : ",", (*spec.choices)[i]);
    }
    return text;
}

}  // namespace ferry::harness

namespace ferry::harness {

namespace {

/// A value as written: a word, a quoted string (decoded), or a table.
struct Lexeme {
    std::string text;
    bool quoted = false;
    std::optional<TextTable> table;
};

class RunTextParser {
  public:
    RunTextParser(std::string_view text, const WorkloadRegistry& workloads)
        : text_(text), workloads_(workloads) {}

    std::optional<RunSpec> parse(std::string& error);

  private:
    bool fail(std::string message) {
        if (error_.empty())
            error_ = std::move(message);
        return false;
    }
    void skip_spaces() {
        while (at_ < text_.size() && text_[at_] == ' ')
            ++at_;
    }
    bool peek(char ch) const { return at_ < text_.size() && text_[at_] == ch; }
    std::string_view word(bool commas) {
        const std::size_t start = at_;
        while (at_ < text_.size() && (is_word_char(text_[at_]) || (commas && text_[at_] == ',')))
            ++at_;
        return text_.substr(start, at_ - start);
    }
    bool quoted_string(std::string& out);
    bool table(TextTable& out);
    bool lexeme(Lexeme& out, bool commas);
    bool value_of_kind(const Lexeme& lexeme, ParamKind kind, std::string_view key, ParamValue& out);
    bool top_item(RunSpec& spec);
    bool client(RunSpec& spec);
    bool operation(Operation& op);
    bool param(Params& params, const std::vector<ParamSpec>& specs, std::string_view where);
    bool legacy_item(RunSpec& spec, std::string_view key, const Lexeme& value);

    std::string_view text_;
    std::size_t at_ = 0;
    const WorkloadRegistry& workloads_;
    const Workload* workload_ = nullptr;
    std::string error_;
};

bool RunTextParser::quoted_string(std::string& out) {
    ++at_;  // the opening quote
    while (at_ < text_.size() && text_[at_] != '"') {
        char ch = text_[at_++];
        if (ch == '\\') {
            if (at_ >= text_.size())
                return fail("a quoted text ends in a backslash");
            ch = text_[at_++];
            if (ch == 'x') {
                const auto hex = text_.substr(at_, 2);
                unsigned value = 0;
                if (hex.size() != 2 || std::sscanf(std::string(hex).c_str(), "%2x", &value) != 1)
                    return fail("\\x needs two hex digits");
                at_ += 2;
                ch = static_cast<char>(value);
            } else if (ch != '"' && ch != '\\') {
                return fail(fmt::format("unknown escape \\{}", ch));
            }
        }
        out += ch;
    }
    if (!peek('"'))
        return fail("a quoted text is not closed");
    ++at_;
    return true;
}

bool RunTextParser::table(TextTable& out) {
    ++at_;  // {
    while (!peek('}')) {
        Lexeme key, content;
        if (!lexeme(key, false) || !peek('='))
            return fail("a table holds key=text pairs");
        ++at_;
        if (!lexeme(content, false))
            return false;
        out.emplace_back(key.text, content.text);
        if (peek(','))
            ++at_;
        else if (!peek('}'))
            return fail("a table's pairs are separated by commas and end with }");
    }
    ++at_;
    return true;
}

bool RunTextParser::lexeme(Lexeme& out, bool commas) {
    if (peek('"')) {
        out.quoted = true;
        return quoted_string(out.text);
    }
    if (peek('{')) {
        out.table.emplace();
        return table(*out.table);
    }
    out.text = std::string(word(commas));
    if (out.text.empty())
        return fail(fmt::format("a value is missing at \"{}\"", text_.substr(at_, 20)));
    return true;
}

bool RunTextParser::value_of_kind(const Lexeme& lexeme, ParamKind kind, std::string_view key,
                                  ParamValue& out) {
    switch (kind) {
        case ParamKind::count:
            if (const auto n = parse_count(lexeme.text); n && !lexeme.quoted) {
                out = *n;
                return true;
            }
            break;
        case ParamKind::flag:
            if (!lexeme.quoted && (lexeme.text == "true" || lexeme.text == "false")) {
                out = lexeme.text == "true";
                return true;
            }
            break;
        case ParamKind::text:
            if (!lexeme.table) {
                out = lexeme.text;
                return true;
            }
            break;
        case ParamKind::text_table:
            if (lexeme.table) {
                out = *lexeme.table;
                return true;
            }
            break;
    }
    return fail(fmt::format("\"{}\" must be {}", key, to_string(kind)));
}

}  // namespace

}  // namespace ferry::harness

namespace ferry::harness {

namespace {

bool RunTextParser::param(Params& params, const std::vector<ParamSpec>& specs,
                          std::string_view where) {
    const std::string key(word(false));
    if (key.empty() || !peek('='))
        return fail(
            fmt::format("expected key=value in {} at \"{}\"", where, text_.substr(at_, 20)));
    ++at_;
    const ParamSpec* spec = find_spec(specs, key);
    if (spec == nullptr)
        return fail(fmt::format("unknown key \"{}\" in {}", key, where));
    Lexeme lexeme_value;
    ParamValue value;
    if (!lexeme(lexeme_value, false) || !value_of_kind(lexeme_value, spec->kind, key, value))
        return false;
    set_param(params, key, std::move(value));
    return true;
}

bool RunTextParser::operation(Operation& op) {
    const WorkloadSchema& schema = workload_->schema();
    op.verb = std::string(word(false));
    const VerbSpec* verb = schema.find_verb(op.verb);
    if (verb == nullptr)
        return fail(
            fmt::format("unknown operation \"{}\" at \"{}\"", op.verb, text_.substr(at_, 20)));
    if (!peek('('))
        return true;
    ++at_;
    std::vector<ParamSpec> specs = verb->params;
    if (!verb->primary.empty())
        specs.insert(specs.begin(), ParamSpec{verb->primary, verb->primary_kind, ""});
    for (bool first = true; !peek(')'); first = false) {
        if (!first) {
            if (!peek(','))
                return fail(fmt::format("{}(...): arguments are separated by commas", op.verb));
            ++at_;
        }
        const std::size_t start = at_;
        word(false);
        const bool named = peek('=');
        at_ = start;
        if (named) {
            if (!param(op.params, specs, fmt::format("a {} operation", op.verb)))
                return false;
            continue;
        }
        if (!first || verb->primary.empty())
            return fail(fmt::format("{}(...): only its {} may be given without a key", op.verb,
                                    verb->primary.empty() ? "(nothing)" : verb->primary));
        Lexeme primary;
        ParamValue value;
        if (!lexeme(primary, false) ||
            !value_of_kind(primary, verb->primary_kind, verb->primary, value))
            return false;
        op.params.insert(op.params.begin(), Param{std::string(verb->primary), std::move(value)});
    }
    ++at_;
    return true;
}

bool RunTextParser::client(RunSpec& spec) {
    at_ += std::string_view("client(").size();
    ClientPlan plan;
    while (true) {
        skip_spaces();
        if (peek(')'))
            break;
        if (at_ >= text_.size())
            return fail("client( is not closed");
        const std::size_t start = at_;
        word(false);
        const bool option = peek('=');
        at_ = start;
        if (option) {
            if (!param(plan.options, workload_->schema().client_options, "a client"))
                return false;
            continue;
        }
        Operation op;
        if (!operation(op))
            return false;
        plan.ops.push_back(std::move(op));
    }
    ++at_;
    spec.work.clients.push_back(std::move(plan));
    return true;
}

bool RunTextParser::legacy_item(RunSpec& spec, std::string_view key, const Lexeme& value) {
    const auto n = parse_count(value.text);
    if (!n)
        return fail(fmt::format("\"{}\" must be a whole number", key));
    if (key == "size") {
        const Params settings = spec.work.settings;
        spec.work = workload_->simple_case(*n);
        for (const Param& p : settings)
            set_param(spec.work.settings, p.key, p.value);
    } else if (key == "chunk") {
        set_param(spec.work.settings, "chunk_size", *n);
    } else {
        spec.seed = *n;  // payload
    }
    return true;
}

bool RunTextParser::top_item(RunSpec& spec) {
    const std::string key(word(false));
    if (key.empty() || !peek('='))
        return fail(
            fmt::format("expected key=value or client(...) at \"{}\"", text_.substr(at_, 20)));
    ++at_;
    Lexeme value;
    if (key == "choices" && (at_ >= text_.size() || text_[at_] == ' ')) {
        spec.choices.emplace();  // an empty schedule: every choice calm
        return true;
    }
    if (!lexeme(value, key == "choices"))
        return false;
    if (key == "choices") {
        spec.choices.emplace();
        std::string_view rest = value.text;
        while (!rest.empty()) {
            const auto comma = rest.find(',');
            const auto n = parse_count(rest.substr(0, comma));
            if (!n)
                return fail("choices must be whole numbers separated by commas");
            spec.choices->push_back(*n);
            rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
        }
        return true;
    }
    if (key == "seed" || key == "time_budget_ms") {
        const auto n = parse_count(value.text);
        if (!n)
            return fail(fmt::format("\"{}\" must be a whole number", key));
        if (key == "seed") {
            spec.seed = *n;
            return true;
        }
        if (*n == 0 || *n > run_ms_max)
            return fail(fmt::format("\"{}\" must be from 1 to {}", key, run_ms_max));
        spec.time_budget = std::chrono::milliseconds(*n);
        return true;
    }
    if (const ParamSpec* setting = find_spec(workload_->schema().settings, key)) {
        ParamValue v;
        if (!value_of_kind(value, setting->kind, key, v))
            return false;
        set_param(spec.work.settings, key, std::move(v));
        return true;
    }
    if (find_fault_knob(key) != nullptr) {
        if (auto problem = set_fault_knob(spec.faults, key, value.text))
            return fail(*problem);
        return true;
    }
    if (key == "size" || key == "chunk" || key == "payload")
        return legacy_item(spec, key, value);
    return fail(
        fmt::format("unknown key \"{}\": not a setting of {}, a fault knob, seed, "
                    "choices or time_budget_ms",
                    key, workload_->name()));
}

std::optional<RunSpec> RunTextParser::parse(std::string& error) {
    skip_spaces();
    const std::string name(word(false));
    workload_ = workloads_.find(name);
    if (workload_ == nullptr) {
        error = fmt::format("a run starts with its workload ({}), not \"{}\"", workloads_.names(),
                            name);
        return std::nullopt;
    }
    RunSpec spec;
    spec.workload = name;
    bool ok = true;
    while (ok) {
        skip_spaces();
        if (at_ >= text_.size())
            break;
        ok = text_.substr(at_).starts_with("client(") ? client(spec) : top_item(spec);
    }
    if (ok) {
        if (auto problem = check_case(spec.work, workload_->schema()))
            ok = fail(*problem);
    }
    if (!ok) {
        error = error_;
        return std::nullopt;
    }
    return spec;
}

}  // namespace

std::optional<RunSpec> parse_run_spec_text(std::string_view text, const WorkloadRegistry& workloads,
                                           std::string* error) {
    std::string problem;
    auto spec = RunTextParser(text, workloads).parse(problem);
    if (!spec && error != nullptr)
        *error = problem;
    return spec;
}

}  // namespace ferry::harness
