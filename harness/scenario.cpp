#include "ferry/harness/scenario.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <fmt/core.h>
#include <toml++/toml.h>

#include "ferry/harness/value_text.h"
#include "ferry/protocol/ferry_wire.h"

namespace ferry::harness {

std::string_view to_string(Backend backend) {
    return backend == Backend::sim ? "sim" : "real";
}

std::string_view to_string(Outcome outcome) {
    switch (outcome) {
        case Outcome::pass:
            return "pass";
        case Outcome::deadlock:
            return "deadlock";
        case Outcome::error:
            return "error";
        case Outcome::timeout:
            return "timeout";
        case Outcome::allowed:
            return "allowed";
    }
    return "unknown";
}

namespace {

/// Reads one scenario document, reporting every problem as
/// "path:line:column: message" at the node it concerns.
class Reader {
  public:
    Reader(const std::filesystem::path& path, const WorkloadRegistry& workloads)
        : path_(path.string()), workloads_(workloads) {}

    Scenario scenario(const toml::table& root, const std::filesystem::path& path) const;

  private:
    [[noreturn]] void fail(const toml::source_region& where, const std::string& message) const {
        throw ScenarioError(
            fmt::format("{}:{}:{}: {}", path_, where.begin.line, where.begin.column, message));
    }
    [[noreturn]] void fail(const toml::node& node, const std::string& message) const {
        fail(node.source(), message);
    }
    void check_keys(const toml::table& table, std::string_view where,
                    const std::vector<std::string_view>& allowed) const;
    const toml::table& table(const toml::node& node, std::string_view key) const;
    std::string string(const toml::node& node, std::string_view key) const;
    std::uint64_t count(const toml::node& node, std::string_view key) const;
    KnobValue knob_value(const toml::node& node) const;
    ParamValue param(const toml::node& node, std::string_view key, ParamKind kind) const;

    const Workload& workload(const toml::table& root) const;
    void header(const toml::table& root, Scenario& s) const;
    void faults(const toml::table& t, FaultPlan& plan) const;
    void legacy_server(const toml::table& t, Scenario& s, const Workload& w) const;
    void settings(const toml::table& t, Params& out, const Workload& w) const;
    ClientPlan client(const toml::node& node, const Workload& w) const;
    Operation step(const toml::node& node, const Workload& w) const;
    Expectation expect(const toml::table& t) const;

    std::string path_;
    const WorkloadRegistry& workloads_;
};

void Reader::check_keys(const toml::table& table, std::string_view where,
                        const std::vector<std::string_view>& allowed) const {
    for (auto&& [key, node] : table) {
        if (std::find(allowed.begin(), allowed.end(), key.str()) != allowed.end())
            continue;
        std::string list;
        for (auto a : allowed)
            list += fmt::format("{}{}", list.empty() ? "" : ", ", a);
        fail(key.source(),
             fmt::format("unknown key \"{}\" in {} (known keys: {})", key.str(), where, list));
    }
}

const toml::table& Reader::table(const toml::node& node, std::string_view key) const {
    const auto* t = node.as_table();
    if (!t)
        fail(node, fmt::format("\"{}\" must be a table", key));
    return *t;
}

std::string Reader::string(const toml::node& node, std::string_view key) const {
    const auto* s = node.as_string();
    if (!s)
        fail(node, fmt::format("\"{}\" must be a string", key));
    return s->get();
}

std::uint64_t Reader::count(const toml::node& node, std::string_view key) const {
    // TOML integers stop at 2^63 − 1; a larger one (a seed) is a string.
    if (const auto* text = node.as_string()) {
        if (const auto parsed = parse_decimal_u64(text->get()))
            return *parsed;
    }
    const auto* i = node.as_integer();
    if (!i || i->get() < 0)
        fail(node, fmt::format("\"{}\" must be a whole number ≥ 0", key));
    return static_cast<std::uint64_t>(i->get());
}

KnobValue Reader::knob_value(const toml::node& node) const {
    if (const auto* b = node.as_boolean())
        return b->get();
    if (const auto* s = node.as_string())
        return s->get();
    if (node.as_integer())
        return count(node, "value");
    if (const auto* a = node.as_array()) {
        std::vector<std::uint64_t> list;
        for (const auto& item : *a)
            list.push_back(count(item, "value"));
        return list;
    }
    std::vector<std::pair<std::string, KnobScalar>> fields;
    for (auto&& [key, field] : table(node, "value")) {
        KnobValue scalar = knob_value(field);
        if (const auto* b = std::get_if<bool>(&scalar))
            fields.emplace_back(std::string(key.str()), *b);
        else if (const auto* n = std::get_if<std::uint64_t>(&scalar))
            fields.emplace_back(std::string(key.str()), *n);
        else if (const auto* s = std::get_if<std::string>(&scalar))
            fields.emplace_back(std::string(key.str()), *s);
        else
            fail(field, fmt::format("\"{}\" must be a number, text or true/false", key.str()));
    }
    return fields;
}

ParamValue Reader::param(const toml::node& node, std::string_view key, ParamKind kind) const {
    switch (kind) {
        case ParamKind::count:
            return count(node, key);
        case ParamKind::flag:
            if (const auto* b = node.as_boolean())
                return b->get();
            fail(node, fmt::format("\"{}\" must be true or false", key));
        case ParamKind::text:
            return string(node, key);
        case ParamKind::text_table: {
            TextTable entries;
            for (auto&& [k, v] : table(node, key))
                entries.emplace_back(std::string(k.str()), string(v, k.str()));
            return entries;
        }
    }
    fail(node, "unreadable value");
}

}  // namespace

}  // namespace ferry::harness

namespace ferry::harness {

namespace {

const Workload& Reader::workload(const toml::table& root) const {
    const toml::node* node = root.get("workload");
    const toml::node* legacy = root.get("protocol");
    if (node && legacy)
        fail(*legacy, "give either \"workload\" or \"protocol\", not both");
    if (!node)
        node = legacy;
    const std::string name = node ? string(*node, "workload") : "ferry";
    const Workload* w = workloads_.find(name);
    if (w == nullptr) {
        fail(node ? node->source() : root.source(),
             fmt::format("unknown workload \"{}\" (known: {})", name, workloads_.names()));
    }
    return *w;
}

void Reader::header(const toml::table& root, Scenario& s) const {
    const toml::node* name = root.get("name");
    if (!name)
        fail(root.source(), "missing key \"name\" (one line that says what the scenario shows)");
    s.name = string(*name, "name");
    if (s.name.empty())
        fail(*name, "\"name\" must not be empty");
    if (const auto* node = root.get("backends")) {
        const auto* a = node->as_array();
        if (!a || a->empty())
            fail(*node, "\"backends\" must be a list such as [\"sim\", \"real\"]");
        s.backends.clear();
        for (const auto& item : *a) {
            const std::string b = string(item, "backends");
            if (b != "sim" && b != "real")
                fail(item, fmt::format("unknown backend \"{}\" (sim or real)", b));
            const Backend backend = b == "sim" ? Backend::sim : Backend::real;
            if (std::find(s.backends.begin(), s.backends.end(), backend) != s.backends.end())
                fail(item, fmt::format("backend \"{}\" listed twice", b));
            s.backends.push_back(backend);
        }
    }
    const toml::node* seeds = root.get("seeds");
    const toml::node* seed = root.get("seed");
    if (seeds && seed)
        fail(*seed, "give either \"seed\" or \"seeds\", not both");
    if (seeds) {
        const auto* a = seeds->as_array();
        if (!a || a->size() != 2)
            fail(*seeds, "\"seeds\" must be [first, last]");
        s.seed_first = count(*a->get(0), "seeds");
        s.seed_last = count(*a->get(1), "seeds");
        if (s.seed_first > s.seed_last)
            fail(*seeds,
                 fmt::format("\"seeds\": {} is greater than {}", s.seed_first, s.seed_last));
    }
    if (seed)
        s.seed_first = s.seed_last = count(*seed, "seed");
    s.run.seed = s.seed_first;
    if (const auto* node = root.get("choices")) {
        const auto* a = node->as_array();
        if (!a)
            fail(*node, "\"choices\" must be a list of whole numbers");
        if (seeds && s.seed_first != s.seed_last)
            fail(*node, "\"choices\" replay one run: give one \"seed\"");
        s.run.choices.emplace();
        for (const auto& item : *a)
            s.run.choices->push_back(count(item, "choices"));
    }
    if (const auto* node = root.get("time_budget_ms")) {
        const std::uint64_t ms = count(*node, "time_budget_ms");
        if (ms == 0)
            fail(*node, "\"time_budget_ms\" must be at least 1");
        if (ms > run_ms_max)
            fail(*node, fmt::format("\"time_budget_ms\" must be at most {}", run_ms_max));
        s.run.time_budget = std::chrono::milliseconds(ms);
    }
}

void Reader::faults(const toml::table& t, FaultPlan& plan) const {
    for (auto&& [key, node] : t) {
        const FaultKnob* knob = find_fault_knob(key.str());
        if (knob == nullptr) {
            std::string names;
            for (const FaultKnob& k : fault_knobs())
                names += fmt::format("{}{}", names.empty() ? "" : ", ", k.name);
            fail(key.source(), fmt::format("unknown fault \"{}\" (known: {}; see docs/faults.md)",
                                           key.str(), names));
        }
        if (auto error = knob->set_value(plan, knob_value(node)))
            fail(node, fmt::format("\"{}\" {} ({})", key.str(), *error, knob->syntax));
    }
}

/// The older format's [server]: files and timeout_ms are settings of the
/// workload, disk_bytes_max the disk_full fault.
void Reader::legacy_server(const toml::table& t, Scenario& s, const Workload& w) const {
    check_keys(t, "[server]", {"files", "disk_bytes_max", "timeout_ms"});
    for (auto&& [key, node] : t) {
        if (key.str() == "disk_bytes_max") {
            (void)find_fault_knob("disk_full")->set_value(s.run.faults, count(node, key.str()));
            continue;
        }
        const std::string setting = key.str() == "timeout_ms" ? "idle_timeout_ms" : "files";
        const ParamSpec* spec = find_spec(w.schema().settings, setting);
        if (spec == nullptr)
            fail(key.source(), fmt::format("workload {} has no {}", w.name(), key.str()));
        const ParamValue value = param(node, key.str(), spec->kind);
        if (setting == "idle_timeout_ms" && std::get<std::uint64_t>(value) == 0)
            fail(node, "\"timeout_ms\" must be at least 1");
        if (auto problem = check_params({{setting, value}}, w.schema().settings, "[server]"))
            fail(node, *problem);
        set_param(s.run.work.settings, setting, value);
    }
}

void Reader::settings(const toml::table& t, Params& out, const Workload& w) const {
    for (auto&& [key, node] : t) {
        const ParamSpec* spec = find_spec(w.schema().settings, key.str());
        if (spec == nullptr) {
            Params probe{{std::string(key.str()), std::uint64_t{0}}};
            fail(key.source(),
                 *check_params(probe, w.schema().settings, fmt::format("[{}]", w.name())));
        }
        const ParamValue value = param(node, key.str(), spec->kind);
        const std::string where = fmt::format("[{}]", w.name());
        if (auto problem =
                check_params({{std::string(key.str()), value}}, w.schema().settings, where))
            fail(node, *problem);
        set_param(out, key.str(), value);
    }
}

}  // namespace

}  // namespace ferry::harness

namespace ferry::harness {

namespace {

ClientPlan Reader::client(const toml::node& node, const Workload& w) const {
    const auto& t = table(node, "client");
    ClientPlan c;
    const toml::node* steps = t.get("steps");
    if (!steps)
        fail(t.source(), "a [[client]] needs \"steps\"");
    const auto* a = steps->as_array();
    if (!a || a->empty())
        fail(*steps, "\"steps\" must be a non-empty list of steps");
    for (auto&& [key, value] : t) {
        if (key.str() == "steps")
            continue;
        const ParamSpec* spec = find_spec(w.schema().client_options, key.str());
        if (spec == nullptr) {
            Params probe{{std::string(key.str()), std::uint64_t{0}}};
            fail(key.source(), *check_params(probe, w.schema().client_options, "[[client]]"));
        }
        const ParamValue option = param(value, key.str(), spec->kind);
        if (key.str() == "timeout_ms" && std::get<std::uint64_t>(option) == 0)
            fail(value, "\"timeout_ms\" must be at least 1");
        set_param(c.options, key.str(), option);
    }
    for (const auto& item : *a)
        c.ops.push_back(step(item, w));
    return c;
}

Operation Reader::step(const toml::node& node, const Workload& w) const {
    const auto& t = table(node, "step");
    Operation op;
    op.line = static_cast<int>(t.source().begin.line);
    for (auto&& [key, value] : t) {
        const VerbSpec* verb = w.schema().find_verb(key.str());
        if (verb == nullptr)
            continue;
        if (!op.verb.empty())
            fail(t.source(),
                 fmt::format("a step has one operation, not both {} and {}", op.verb, key.str()));
        op.verb = std::string(key.str());
        if (verb->primary.empty()) {
            const auto* b = value.as_boolean();
            if (!b || !b->get())
                fail(value, fmt::format("write the step as {{ {} = true }}", op.verb));
        } else {
            op.params.insert(op.params.begin(), Param{std::string(verb->primary),
                                                      param(value, key.str(), verb->primary_kind)});
        }
    }
    if (op.verb.empty()) {
        std::string verbs;
        for (const VerbSpec& v : w.schema().verbs)
            verbs += fmt::format("{}{}", verbs.empty() ? "" : ", ", v.verb);
        fail(t.source(), fmt::format("a step needs one operation of {}: {}", w.name(), verbs));
    }
    const VerbSpec* verb = w.schema().find_verb(op.verb);
    for (auto&& [key, value] : t) {
        if (key.str() == op.verb)
            continue;
        const ParamSpec* spec = find_spec(verb->params, key.str());
        if (spec == nullptr)
            fail(key.source(), *check_params(Params{{std::string(key.str()), std::uint64_t{0}}},
                                             verb->params, fmt::format("a {} step", op.verb)));
        op.params.push_back(Param{std::string(key.str()), param(value, key.str(), spec->kind)});
    }
    if (auto problem = check_operation(op, w.schema()))
        fail(t.source(), *problem);
    return op;
}

Expectation Reader::expect(const toml::table& t) const {
    check_keys(t, "[expect]", {"outcome", "error", "files"});
    Expectation e;
    if (const auto* v = t.get("outcome")) {
        const std::string o = string(*v, "outcome");
        bool known = false;
        for (Outcome each : {Outcome::pass, Outcome::deadlock, Outcome::error, Outcome::timeout,
                             Outcome::allowed}) {
            if (o == to_string(each)) {
                e.outcome = each;
                known = true;
            }
        }
        if (!known)
            fail(*v, fmt::format("\"outcome\" must be pass, deadlock, error, timeout or allowed, "
                                 "not \"{}\"",
                                 o));
    }
    if (const auto* v = t.get("error")) {
        const auto code = count(*v, "error");
        if (code < 100 || code > 999)
            fail(*v, "\"error\" must be an ERR code such as 403");
        if (e.outcome != Outcome::error)
            fail(*v, "\"error\" goes with outcome = \"error\"");
        e.error = static_cast<int>(code);
    }
    if (const auto* v = t.get("files")) {
        std::map<std::string, FileExpectation> files;
        for (auto&& [key, node] : table(*v, "files")) {
            const auto& ft = table(node, key.str());
            check_keys(ft, fmt::format("expected file \"{}\"", key.str()), {"size", "content"});
            FileExpectation f;
            if (const auto* x = ft.get("size"))
                f.size = count(*x, "size");
            if (const auto* x = ft.get("content"))
                f.content = string(*x, "content");
            if (f.size && f.content && *f.size != f.content->size())
                fail(ft.source(), "size and content disagree");
            files[std::string(key.str())] = f;
        }
        e.files = std::move(files);
    }
    return e;
}

}  // namespace

}  // namespace ferry::harness

namespace ferry::harness {

namespace {

Scenario Reader::scenario(const toml::table& root, const std::filesystem::path& path) const {
    const Workload& w = workload(root);
    check_keys(
        root, "the scenario",
        {"name", "workload", "protocol", "backends", "seeds", "seed", "choices", "chunk_size",
         "time_budget_ms", "faults", "network", "server", "client", "expect", w.name()});
    Scenario s;
    s.path = path;
    s.run.workload = std::string(w.name());
    header(root, s);
    if (const auto* node = root.get("chunk_size")) {
        const std::uint64_t chunk = count(*node, "chunk_size");
        if (chunk == 0)
            fail(*node, "\"chunk_size\" must be at least 1");
        if (!find_spec(w.schema().settings, "chunk_size"))
            fail(*node, fmt::format("workload {} has no chunk_size", w.name()));
        set_param(s.run.work.settings, "chunk_size", chunk);
    }
    for (const char* key : {"faults", "network"}) {
        if (const auto* node = root.get(key))
            faults(table(*node, key), s.run.faults);
    }
    if (const auto* node = root.get("server"))
        legacy_server(table(*node, "server"), s, w);
    if (const auto* node = root.get(w.name()))
        settings(table(*node, w.name()), s.run.work.settings, w);
    if (w.schema().check_settings) {
        if (auto problem = w.schema().check_settings(s.run.work.settings)) {
            const toml::node* node = root.get(w.name());
            fail(node ? *node : root, *problem);
        }
    }
    const toml::node* clients = root.get("client");
    if (!clients)
        fail(root.source(), "missing [[client]]: a scenario needs at least one client");
    const auto* client_array = clients->as_array();
    if (!client_array || client_array->empty())
        fail(*clients, "\"client\" must be an array of tables ([[client]])");
    for (const auto& item : *client_array)
        s.run.work.clients.push_back(client(item, w));
    if (const auto* node = root.get("expect"))
        s.expect = expect(table(*node, "expect"));
    return s;
}

}  // namespace

Scenario parse_scenario(std::string_view text, const std::filesystem::path& path,
                        const WorkloadRegistry& workloads) {
    toml::table root;
    try {
        root = toml::parse(text, path.string());
    } catch (const toml::parse_error& e) {
        throw ScenarioError(fmt::format("{}:{}:{}: {}", path.string(), e.source().begin.line,
                                        e.source().begin.column, e.description()));
    }
    return Reader(path, workloads).scenario(root, path);
}

Scenario parse_scenario_file(const std::filesystem::path& path, const WorkloadRegistry& workloads) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ScenarioError(fmt::format("{}: cannot read the file", path.string()));
    std::ostringstream text;
    text << in.rdbuf();
    return parse_scenario(text.str(), path, workloads);
}

Outcome observed_outcome(const RunResult& result) {
    if (result.end == RunResult::End::deadlock)
        return Outcome::deadlock;
    if (result.end == RunResult::End::time_budget)
        return Outcome::timeout;
    bool failed = false;
    for (const OpRecord& r : result.history) {
        if (r.status == OpStatus::timed_out)
            return Outcome::timeout;
        failed |= r.status != OpStatus::ok;
    }
    return failed ? Outcome::error : Outcome::pass;
}

}  // namespace ferry::harness

namespace ferry::harness {

namespace {

/// Failures a scenario never allows, whatever its [expect] says.
bool is_safety(FailureKind kind) {
    switch (kind) {
        case FailureKind::wrong_data:
        case FailureKind::lost_data:
        case FailureKind::torn_file:
        case FailureKind::kept_refused:
        case FailureKind::limit_broken:
        case FailureKind::process_failed:
        case FailureKind::nondeterministic:
            return true;
        default:
            return false;
    }
}

std::string failed_steps(const RunResult& result) {
    std::string text;
    for (const OpRecord& r : result.history) {
        if (r.status == OpStatus::ok)
            continue;
        text += fmt::format("\n  {}{}: {}{}{}", describe_op(r),
                            r.op && r.op->line ? fmt::format(" (line {})", r.op->line) : "",
                            to_string(r.status), r.detail.empty() ? "" : ": ", r.detail);
    }
    return text;
}

void judge_files(const Expectation& expect, const RunResult& result, Verdict& verdict) {
    auto fail = [&](std::string reason) {
        verdict.passed = false;
        verdict.reasons.push_back(std::move(reason));
    };
    const auto& expected = *expect.files;
    const StoredContents files = result.files.value_or(StoredContents{});
    for (const auto& [name, content] : files) {
        const auto it = expected.find(name);
        if (it == expected.end()) {
            fail(fmt::format("the server has {} ({} bytes), which is not expected", name,
                             content.size()));
            continue;
        }
        if (it->second.size && *it->second.size != content.size())
            fail(fmt::format("{} has {} bytes, expected {}", name, content.size(),
                             *it->second.size));
        if (it->second.content && !(sim::CompactBytes(*it->second.content) == content))
            fail(fmt::format("{} does not hold the expected content", name));
    }
    for (const auto& entry : expected) {
        // Not a structured binding: clang 14 (the fuzz build) cannot capture one.
        const std::string& name = entry.first;
        const bool present =
            std::any_of(files.begin(), files.end(), [&](const auto& f) { return f.first == name; });
        if (!present)
            fail(fmt::format("the server has no {}", name));
    }
}

}  // namespace

Verdict judge(const Scenario& scenario, const RunResult& result) {
    Verdict verdict;
    verdict.outcome = observed_outcome(result);
    auto fail = [&](std::string reason) {
        verdict.passed = false;
        verdict.reasons.push_back(std::move(reason));
    };
    const Expectation& expect = scenario.expect;
    if (expect.outcome == Outcome::allowed) {
        if (result.failure)
            fail(fmt::format("{}: {}", result.failure->signature(), result.failure->detail));
        return verdict;
    }
    if (verdict.outcome != expect.outcome) {
        const std::string stuck = result.stuck_report.empty() ? "" : "\n" + result.stuck_report;
        fail(fmt::format("expected outcome {}, got {}{}{}", to_string(expect.outcome),
                         to_string(verdict.outcome), stuck, failed_steps(result)));
    }
    if (expect.error) {
        const bool seen = std::any_of(result.history.begin(), result.history.end(),
                                      [&](const OpRecord& r) { return r.code == *expect.error; });
        if (!seen)
            fail(fmt::format("no client got ERR {}{}", *expect.error, failed_steps(result)));
    }
    if (expect.files)
        judge_files(expect, result, verdict);
    // An operation whose answer was wrong already shows as the error the
    // scenario expects (the chapter's truncation); any other damage fails it.
    const bool shown = expect.outcome != Outcome::pass &&
                       std::any_of(result.history.begin(), result.history.end(),
                                   [](const OpRecord& r) { return r.status == OpStatus::wrong; });
    if (result.failure && is_safety(result.failure->kind) && !shown)
        fail(fmt::format("{}: {}", result.failure->signature(), result.failure->detail));
    return verdict;
}

}  // namespace ferry::harness
