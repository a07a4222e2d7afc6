#include "harness/scenario.h"

#include <algorithm>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/core.h>
#include <toml++/toml.h>

#include "protocol/names.h"

namespace ferry::harness {

std::string_view to_string(ScenarioProtocol protocol) {
    return protocol == ScenarioProtocol::naive ? "naive" : "ferry";
}
std::string_view to_string(Backend backend) {
    return backend == Backend::sim ? "sim" : "real";
}
std::string_view to_string(Side side) {
    return side == Side::client ? "client" : "server";
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
    }
    return "unknown";
}

namespace {

/// Reads one scenario document, reporting every problem as
/// "path:line:column: message" at the node it concerns.
class Reader {
  public:
    explicit Reader(const std::filesystem::path& path) : path_(path.string()) {}

    [[noreturn]] void fail(const toml::source_region& where, const std::string& message) const {
        throw ScenarioError(
            fmt::format("{}:{}:{}: {}", path_, where.begin.line, where.begin.column, message));
    }
    [[noreturn]] void fail(const toml::node& node, const std::string& message) const {
        fail(node.source(), message);
    }

    /// Every key of table must be one of allowed.
    void check_keys(const toml::table& table, std::string_view where,
                    std::initializer_list<std::string_view> allowed) const {
        for (auto&& [key, node] : table) {
            if (std::find(allowed.begin(), allowed.end(), key.str()) == allowed.end()) {
                std::string list;
                for (auto a : allowed)
                    list += fmt::format("{}{}", list.empty() ? "" : ", ", a);
                fail(key.source(), fmt::format("unknown key \"{}\" in {} (known keys: {})",
                                               key.str(), where, list));
            }
        }
    }

    const toml::table& table(const toml::node& node, std::string_view key) const {
        const auto* t = node.as_table();
        if (!t)
            fail(node, fmt::format("\"{}\" must be a table", key));
        return *t;
    }

    std::string string(const toml::node& node, std::string_view key) const {
        const auto* s = node.as_string();
        if (!s)
            fail(node, fmt::format("\"{}\" must be a string", key));
        return s->get();
    }

    bool boolean(const toml::node& node, std::string_view key) const {
        const auto* b = node.as_boolean();
        if (!b)
            fail(node, fmt::format("\"{}\" must be true or false", key));
        return b->get();
    }

    std::uint64_t count(const toml::node& node, std::string_view key) const {
        const auto* i = node.as_integer();
        if (!i || i->get() < 0)
            fail(node, fmt::format("\"{}\" must be a whole number ≥ 0", key));
        return static_cast<std::uint64_t>(i->get());
    }

    /// [a, b] with a ≤ b.
    std::pair<std::uint64_t, std::uint64_t> range(const toml::node& node,
                                                  std::string_view key) const {
        const auto* a = node.as_array();
        if (!a || a->size() != 2)
            fail(node, fmt::format("\"{}\" must be [first, last]", key));
        const auto first = count(*a->get(0), key);
        const auto last = count(*a->get(1), key);
        if (first > last)
            fail(node, fmt::format("\"{}\": {} is greater than {}", key, first, last));
        return {first, last};
    }

    Side side(const toml::node& node, std::string_view key) const {
        const std::string s = string(node, key);
        if (s == "client")
            return Side::client;
        if (s == "server")
            return Side::server;
        fail(node, fmt::format("\"{}\" must be \"client\" or \"server\", not \"{}\"", key, s));
    }

    Scenario scenario(const toml::table& root, const std::filesystem::path& path) const {
        check_keys(root, "the scenario",
                   {"name", "protocol", "backends", "seeds", "seed", "chunk_size", "time_budget_ms",
                    "network", "server", "client", "expect"});
        Scenario s;
        s.path = path;
        const toml::node* name = root.get("name");
        if (!name)
            fail(root.source(),
                 "missing key \"name\" (one line that says what the scenario shows)");
        s.name = string(*name, "name");
        if (s.name.empty())
            fail(*name, "\"name\" must not be empty");

        if (const auto* node = root.get("protocol")) {
            const std::string p = string(*node, "protocol");
            if (p == "naive") {
                s.protocol = ScenarioProtocol::naive;
            } else if (p == "ferry") {
                s.protocol = ScenarioProtocol::ferry;
            } else {
                fail(*node,
                     fmt::format("\"protocol\" must be \"naive\" or \"ferry\", not \"{}\"", p));
            }
        }
        if (const auto* node = root.get("backends")) {
            const auto* a = node->as_array();
            if (!a || a->empty())
                fail(*node, "\"backends\" must be a list such as [\"sim\", \"real\"]");
            s.backends.clear();
            for (const auto& item : *a) {
                const std::string b = string(item, "backends");
                if (b != "sim" && b != "real") {
                    fail(item, fmt::format("unknown backend \"{}\" (sim or real)", b));
                }
                const Backend backend = b == "sim" ? Backend::sim : Backend::real;
                if (std::find(s.backends.begin(), s.backends.end(), backend) != s.backends.end()) {
                    fail(item, fmt::format("backend \"{}\" listed twice", b));
                }
                s.backends.push_back(backend);
            }
        }
        const toml::node* seeds = root.get("seeds");
        const toml::node* seed = root.get("seed");
        if (seeds && seed)
            fail(*seed, "give either \"seed\" or \"seeds\", not both");
        if (seeds)
            std::tie(s.seed_first, s.seed_last) = range(*seeds, "seeds");
        if (seed)
            s.seed_first = s.seed_last = count(*seed, "seed");
        if (const auto* node = root.get("chunk_size")) {
            s.chunk_size = count(*node, "chunk_size");
            if (s.chunk_size == 0)
                fail(*node, "\"chunk_size\" must be at least 1");
        }
        if (const auto* node = root.get("time_budget_ms")) {
            s.time_budget_ms = count(*node, "time_budget_ms");
            if (s.time_budget_ms == 0)
                fail(*node, "\"time_budget_ms\" must be at least 1");
        }
        if (const auto* node = root.get("network"))
            s.network = network(table(*node, "network"));
        if (const auto* node = root.get("server"))
            s.server = server(table(*node, "server"));
        const toml::node* clients = root.get("client");
        if (!clients)
            fail(root.source(), "missing [[client]]: a scenario needs at least one client");
        const auto* client_array = clients->as_array();
        if (!client_array || client_array->empty()) {
            fail(*clients, "\"client\" must be an array of tables ([[client]])");
        }
        for (const auto& item : *client_array)
            s.clients.push_back(client(item, s.protocol));
        if (const auto* node = root.get("expect"))
            s.expect = expect(table(*node, "expect"));
        return s;
    }

    NetworkSpec network(const toml::table& t) const {
        check_keys(
            t, "[network]",
            {"max_send_bytes", "partial_sends", "short_reads", "latency_ms", "stall", "reset"});
        NetworkSpec n;
        if (const auto* v = t.get("max_send_bytes"))
            n.max_send_bytes = count(*v, "max_send_bytes");
        if (const auto* v = t.get("partial_sends"))
            n.partial_sends = boolean(*v, "partial_sends");
        if (const auto* v = t.get("short_reads"))
            n.short_reads = boolean(*v, "short_reads");
        if (const auto* v = t.get("latency_ms")) {
            std::tie(n.latency_ms_min, n.latency_ms_max) = range(*v, "latency_ms");
        }
        if (const auto* v = t.get("stall")) {
            const auto& st = table(*v, "stall");
            check_keys(st, "stall", {"side", "after_bytes", "for_ms"});
            StallSpec stall;
            if (const auto* x = st.get("side"))
                stall.side = side(*x, "side");
            if (const auto* x = st.get("after_bytes"))
                stall.after_bytes = count(*x, "after_bytes");
            if (const auto* x = st.get("for_ms"))
                stall.for_ms = count(*x, "for_ms");
            n.stall = stall;
        }
        if (const auto* v = t.get("reset")) {
            const auto& rt = table(*v, "reset");
            check_keys(rt, "reset", {"side", "after_bytes"});
            ResetSpec reset;
            if (const auto* x = rt.get("side"))
                reset.side = side(*x, "side");
            if (const auto* x = rt.get("after_bytes"))
                reset.after_bytes = count(*x, "after_bytes");
            n.reset = reset;
        }
        return n;
    }

    ServerSpec server(const toml::table& t) const {
        check_keys(t, "[server]", {"files", "disk_bytes_max", "timeout_ms"});
        ServerSpec s;
        if (const auto* v = t.get("files")) {
            for (auto&& [key, node] : table(*v, "files")) {
                if (!is_valid_name(key.str())) {
                    fail(key.source(),
                         fmt::format("server file name \"{}\" is not a valid ferry name",
                                     key.str()));
                }
                s.files[std::string(key.str())] = string(node, key.str());
            }
        }
        if (const auto* v = t.get("disk_bytes_max"))
            s.disk_bytes_max = count(*v, "disk_bytes_max");
        if (const auto* v = t.get("timeout_ms")) {
            s.timeout_ms = count(*v, "timeout_ms");
            if (s.timeout_ms == 0)
                fail(*v, "\"timeout_ms\" must be at least 1");
        }
        return s;
    }

    ClientSpec client(const toml::node& node, ScenarioProtocol protocol) const {
        const auto& t = table(node, "client");
        check_keys(t, "[[client]]", {"steps", "timeout_ms"});
        const toml::node* steps = t.get("steps");
        if (!steps)
            fail(t.source(), "a [[client]] needs \"steps\"");
        const auto* a = steps->as_array();
        if (!a || a->empty())
            fail(*steps, "\"steps\" must be a non-empty list of steps");
        ClientSpec c;
        if (const auto* v = t.get("timeout_ms")) {
            c.timeout_ms = count(*v, "timeout_ms");
            if (c.timeout_ms == 0)
                fail(*v, "\"timeout_ms\" must be at least 1");
        }
        for (const auto& item : *a)
            c.steps.push_back(step(item, protocol));
        return c;
    }

    Step step(const toml::node& node, ScenarioProtocol protocol) const {
        const auto& t = table(node, "step");
        check_keys(t, "a step", {"put", "get", "dir", "size", "content", "expect_error"});
        Step s;
        s.line = static_cast<int>(t.source().begin.line);
        if (const auto* v = t.get("expect_error")) {
            const auto code = count(*v, "expect_error");
            if (code < 100 || code > 999)
                fail(*v, "\"expect_error\" must be an ERR code such as 403");
            if (protocol == ScenarioProtocol::naive) {
                fail(*v, "the naive protocol has no ERR replies to expect");
            }
            s.expect_error = static_cast<int>(code);
        }
        const int verbs =
            (t.contains("put") ? 1 : 0) + (t.contains("get") ? 1 : 0) + (t.contains("dir") ? 1 : 0);
        if (verbs != 1)
            fail(t.source(), "a step needs exactly one of put, get or dir");
        if (const auto* v = t.get("put")) {
            s.kind = Step::Kind::put;
            s.name = string(*v, "put");
            const auto* size = t.get("size");
            const auto* content = t.get("content");
            if ((size != nullptr) == (content != nullptr)) {
                fail(t.source(), "a put step needs exactly one of size or content");
            }
            if (size)
                s.size = count(*size, "size");
            if (content)
                s.content = string(*content, "content");
            return s;
        }
        if (t.contains("size") || t.contains("content")) {
            fail(t.source(), "size and content belong to put steps only");
        }
        if (protocol == ScenarioProtocol::naive) {
            fail(t.source(), "the naive protocol can only put (the chapter has no get or dir)");
        }
        if (const auto* v = t.get("get")) {
            s.kind = Step::Kind::get;
            s.name = string(*v, "get");
            return s;
        }
        if (!boolean(*t.get("dir"), "dir"))
            fail(*t.get("dir"), "write the step as { dir = true }");
        s.kind = Step::Kind::dir;
        return s;
    }

    Expectation expect(const toml::table& t) const {
        check_keys(t, "[expect]", {"outcome", "error", "files"});
        Expectation e;
        if (const auto* v = t.get("outcome")) {
            const std::string o = string(*v, "outcome");
            if (o == "pass") {
                e.outcome = Outcome::pass;
            } else if (o == "deadlock") {
                e.outcome = Outcome::deadlock;
            } else if (o == "error") {
                e.outcome = Outcome::error;
            } else if (o == "timeout") {
                e.outcome = Outcome::timeout;
            } else {
                fail(*v,
                     fmt::format("\"outcome\" must be pass, deadlock, error or timeout, not \"{}\"",
                                 o));
            }
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
                if (f.size && f.content && *f.size != f.content->size()) {
                    fail(ft.source(), "size and content disagree");
                }
                files[std::string(key.str())] = f;
            }
            e.files = std::move(files);
        }
        return e;
    }

  private:
    std::string path_;
};

}  // namespace

Scenario parse_scenario(std::string_view text, const std::filesystem::path& path) {
    toml::table root;
    try {
        root = toml::parse(text, path.string());
    } catch (const toml::parse_error& e) {
        throw ScenarioError(fmt::format("{}:{}:{}: {}", path.string(), e.source().begin.line,
                                        e.source().begin.column, e.description()));
    }
    return Reader(path).scenario(root, path);
}

Scenario parse_scenario_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw ScenarioError(fmt::format("{}: cannot read the file", path.string()));
    std::ostringstream text;
    text << in.rdbuf();
    return parse_scenario(text.str(), path);
}

}  // namespace ferry::harness
