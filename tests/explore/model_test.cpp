// A model-based test of ferry/1 (rapidcheck's rc::state): rounds of PUT, GET
// and DIR from one to three concurrent clients, run in the simulator under a
// generated schedule and benign faults, checked against a model — a map from
// name to bytes. Within a round, a GET or DIR of a name that another client
// is PUTting may see the old bytes or the new, never anything else.

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "ferry/protocol/ferry_client.h"
#include "ferry/protocol/ferry_server.h"
#include "ferry/protocol/memory_store.h"
#include "ferry/sim/sim_connection.h"
#include "ferry/sim/sim_network.h"
#include "ferry/sim/simulation.h"
#include "tests/explore/generators.h"

namespace ferry::explore_test {
namespace {

using Files = std::map<std::string, std::string>;

struct Model {
    Files files;
};

struct Server {
    MemoryStore store;  // lives across rounds; each round is a new simulation
};

struct Op {
    enum class Kind { put, get, dir } kind = Kind::dir;
    std::string name;
    std::string content;
};

class StringReader final : public FileReader {
  public:
    explicit StringReader(const std::string& text) : text_(text) {}
    std::uint64_t size_bytes() const override { return text_.size(); }
    std::size_t read_at(std::uint64_t offset, std::span<std::byte> buffer) const override {
        if (offset >= text_.size())
            return 0;
        const std::size_t n = std::min<std::uint64_t>(buffer.size(), text_.size() - offset);
        std::memcpy(buffer.data(), text_.data() + offset, n);
        return n;
    }

  private:
    const std::string& text_;
};

class StringSink final : public ByteSink {
  public:
    void write(std::span<const std::byte> bytes) override {
        text.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    }
    std::string text;
};

const std::vector<std::string> names = {"a", "b.bin", "c-3"};

struct Round : rc::state::Command<Model, Server> {
    std::vector<Op> ops;  // one per client, run concurrently
    std::vector<std::uint64_t> schedule;
    sim::NetworkFaults faults;

    explicit Round(const Model& model) {
        const std::size_t clients = *rc::gen::inRange<std::size_t>(1, 4);
        std::set<std::string> putting;
        for (std::size_t i = 0; i < clients; ++i) {
            Op op;
            op.kind = *rc::gen::element(Op::Kind::put, Op::Kind::get, Op::Kind::dir);
            op.name = *rc::gen::elementOf(names);
            if (op.kind == Op::Kind::put) {
                if (putting.contains(op.name))
                    op.kind = Op::Kind::dir;  // one writer per name per round
                putting.insert(op.name);
                const std::size_t size = *gen_size(16, 70);
                op.content = std::string(size, static_cast<char>('a' + i));
                for (std::size_t j = 0; j < size; j += 7)
                    op.content[j] = static_cast<char>(*rc::gen::inRange(0, 256));
            }
            (void)model;
            ops.push_back(std::move(op));
        }
        schedule = (*gen_schedule()).choices;
        const harness::FaultPlan plan = *gen_faults(harness::benign_knobs(), {16, 64});
        faults = plan.network;
    }

    void apply(Model& model) const override {
        for (const Op& op : ops) {
            if (op.kind == Op::Kind::put)
                model.files[op.name] = op.content;
        }
    }

    void run(const Model& model, Server& server) const override {
        // What each name may hold during the round: its old bytes, or the
        // bytes a client of this round puts.
        std::map<std::string, std::set<std::string>> allowed;
        for (const auto& [name, content] : model.files)
            allowed[name].insert(content);
        std::set<std::string> absent_allowed(names.begin(), names.end());
        for (const auto& [name, content] : model.files)
            absent_allowed.erase(name);
        for (const Op& op : ops) {
            if (op.kind == Op::Kind::put)
                allowed[op.name].insert(op.content);
        }

        sim::RecordedDecisions decisions(schedule);
        sim::SimOptions options;
        options.faults = faults;
        sim::Simulation sim(options, decisions);
        FerryServerConfig config;
        config.chunk_bytes = 16;
        auto listener = sim.network().listen("server:9000");
        std::vector<std::unique_ptr<sim::SimConnection>> accepted;
        sim.spawn(
            "server",
            [&] {
                for (int n = 1;; ++n) {
                    auto conn = listener->accept();
                    sim::SimConnection* raw = conn.get();
                    accepted.push_back(std::move(conn));
                    sim.spawn(
                        fmt::format("server conn {}", n),
                        [&, raw] { serve_ferry_connection(*raw, server.store, config); }, true);
                }
            },
            true);

        std::vector<std::string> errors(ops.size());
        std::vector<std::string> got(ops.size());
        std::vector<std::vector<FileInfo>> listings(ops.size());
        for (std::size_t i = 0; i < ops.size(); ++i) {
            sim.spawn(fmt::format("client {}", i + 1), [&, i] {
                try {
                    auto conn = sim.network().connect("server:9000", std::chrono::seconds(60));
                    conn->set_timeout(std::chrono::seconds(60));
                    FerryClient client(*conn, 16);
                    const Op& op = ops[i];
                    if (op.kind == Op::Kind::put) {
                        client.put(op.name, StringReader(op.content));
                    } else if (op.kind == Op::Kind::get) {
                        StringSink sink;
                        client.get(op.name, sink);
                        got[i] = std::move(sink.text);
                    } else {
                        listings[i] = client.dir();
                    }
                    conn->close();
                } catch (const RemoteError& e) {
                    errors[i] = e.line();
                } catch (const std::exception& e) {
                    errors[i] = std::string("exception: ") + e.what();
                }
            });
        }
        const sim::SimResult result = sim.run();
        sim.stop_processes();
        RC_ASSERT(result.status == sim::RunStatus::completed);

        for (std::size_t i = 0; i < ops.size(); ++i) {
            const Op& op = ops[i];
            if (op.kind == Op::Kind::get && absent_allowed.contains(op.name) &&
                errors[i].starts_with("ERR 404")) {
                continue;  // not there yet, and maybe not put in this round
            }
            RC_ASSERT(errors[i] == "");
            if (op.kind == Op::Kind::get)
                RC_ASSERT(allowed[op.name].contains(got[i]));
            if (op.kind == Op::Kind::dir) {
                for (const FileInfo& info : listings[i]) {
                    bool size_allowed = false;
                    for (const auto& content : allowed[info.name])
                        size_allowed |= content.size() == info.size_bytes;
                    RC_ASSERT(size_allowed);
                }
            }
        }
        // After the round the store holds exactly the model's files.
        Model after = model;
        apply(after);
        Files stored;
        for (const FileInfo& info : server.store.list()) {
            const auto bytes = server.store.file(info.name);
            stored[info.name] =
                std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
        }
        RC_ASSERT(stored == after.files);
    }

    void show(std::ostream& os) const override {
        os << "round:";
        for (std::size_t i = 0; i < ops.size(); ++i) {
            const Op& op = ops[i];
            const char* verb = op.kind == Op::Kind::put   ? "PUT"
                               : op.kind == Op::Kind::get ? "GET"
                                                          : "DIR";
            os << fmt::format(
                " [client {} {} {}{}]", i + 1, verb, op.name,
                op.kind == Op::Kind::put ? fmt::format(" {} bytes", op.content.size()) : "");
        }
        os << " schedule=" << schedule.size() << " choices";
    }
};

RC_GTEST_PROP(FerryModel, putGetDirFromOneToThreeConcurrentClientsMatchAMapFromNameToBytes, ()) {
    Server server;
    rc::state::check(Model{}, server, rc::state::gen::execOneOfWithArgs<Round>());
}

}  // namespace
}  // namespace ferry::explore_test
