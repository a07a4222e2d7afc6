#include "kv_workload.h"

#include <array>

#include <fmt/core.h>

#include "ferry/harness/edge_sizes.h"
#include "ferry/harness/op_status.h"
#include "ferry/harness/payload.h"
#include "ferry/protocol/accept_loop.h"
#include "kv_protocol.h"

namespace kv {

using namespace ferry::harness;
using ferry::Instant;

namespace {

constexpr const char* address = "kv:7000";
constexpr std::array<const char*, 3> keys = {"a", "b", "c"};

const WorkloadSchema& kv_schema() {
    static const WorkloadSchema schema{
        .client_options = {{"timeout_ms", ParamKind::count, "per-call timeout (30000)", 1}},
        .verbs = {{.verb = "set",
                   .primary = "key",
                   .params = {{"size", ParamKind::count, "value bytes, generated from the seed"}},
                   .description = "stores a value"},
                  {.verb = "get", .primary = "key", .description = "reads a value back"},
                  {.verb = "del", .primary = "key", .description = "deletes a key"}},
    };
    return schema;
}

/// One SET or DEL that may have changed a key (value none: a DEL).
struct Write {
    std::optional<std::string> value;
    Instant invoked;
    std::optional<Instant> acked;
};

class KvRun final : public WorkloadRun {
  public:
    KvRun(World& world, const WorkloadCase& c, Slips slips)
        : world_(world), case_(c), slips_(slips), slots_(1u << 20) {}

    void start() {
        listener_ = world_.listen(address);
        handlers_.serve = [this](ferry::Connection& conn, std::uint64_t) {
            serve_kv_connection(conn, store_, slips_);
        };
        world_.spawn("server",
                     [this] { run_accept_loop(*listener_, world_, slots_, handlers_, options_); });
        for (std::size_t c = 0; c < case_.clients.size(); ++c)
            world_.spawn_client(fmt::format("client {}", c + 1), [this, c] { run_client(c); });
    }
    const History& history() const override { return history_; }
    std::optional<Failure> check(const FaultPlan& faults, bool finished) override;

  private:
    std::string value_of(std::size_t client, std::size_t index) const {
        const Operation& op = case_.clients[client].ops[index];
        return generated_payload(world_.seed(), client, index, count_param(op.params, "size", 0));
    }
    void run_client(std::size_t client);
    OpEnd perform(KvClient& kv, std::size_t client, std::size_t index);
    std::vector<Write> writes(const std::string& key, const std::vector<OpRecord>& records) const;

    World& world_;
    const WorkloadCase& case_;
    Slips slips_;
    KvStore store_;
    std::unique_ptr<ferry::Listener> listener_;
    ferry::ConnectionSlots slots_;
    ferry::ConnectionHandlers handlers_;
    ferry::AcceptLoopOptions options_;
    History history_;
    std::map<std::pair<std::size_t, std::size_t>, std::optional<std::string>> got_;
    std::mutex got_mutex_;
};

}  // namespace

}  // namespace kv

namespace kv {

namespace {

OpEnd KvRun::perform(KvClient& kv, std::size_t client, std::size_t index) {
    const Operation& op = case_.clients[client].ops[index];
    const std::string key = text_param(op.params, "key");
    if (op.verb == "set") {
        kv.set(key, value_of(client, index));
    } else if (op.verb == "del") {
        kv.del(key);
    } else {
        auto value = kv.get(key);
        std::lock_guard lock(got_mutex_);
        got_[{client, index}] = std::move(value);
    }
    return {};
}

void KvRun::run_client(std::size_t client) {
    const ClientPlan& plan = case_.clients[client];
    const auto timeout = std::chrono::milliseconds(count_param(plan.options, "timeout_ms", 30'000));
    std::unique_ptr<ferry::Connection> conn;
    for (std::size_t i = 0; i < plan.ops.size(); ++i) {
        const std::size_t record = history_.invoke(client, i, plan.ops[i], world_.clock().now());
        OpEnd end;
        try {
            if (!conn) {
                conn = world_.connect(address, timeout);
                conn->set_timeout(timeout);
            }
            KvClient kv(*conn, slips_);
            end = perform(kv, client, i);
        } catch (...) {
            end = end_for_current_exception();
            conn.reset();  // a failed request leaves the connection in an unknown state
        }
        history_.complete(record, world_.clock().now(), end.status, end.code, end.detail);
    }
}

std::vector<Write> KvRun::writes(const std::string& key,
                                 const std::vector<OpRecord>& records) const {
    std::vector<Write> out{{std::nullopt, Instant{}, Instant{}}};  // the start: no value
    for (const OpRecord& r : records) {
        if (r.op->verb == "get" || text_param(r.op->params, "key") != key)
            continue;
        Write w{std::nullopt, r.invoked, std::nullopt};
        if (r.op->verb == "set")
            w.value = value_of(r.client, r.index);
        if (r.status == OpStatus::ok)
            w.acked = r.completed;
        out.push_back(std::move(w));
    }
    return out;
}

/// Whether some acknowledged write began after w was acknowledged and was
/// acknowledged before t (none = ever): w is certainly gone by then.
bool overwritten(const Write& w, const std::vector<Write>& all, std::optional<Instant> t) {
    if (!w.acked)
        return false;
    for (const Write& later : all) {
        if (&later != &w && later.acked && *w.acked < later.invoked && (!t || *later.acked < *t))
            return true;
    }
    return false;
}

/// Whether a read over [from, to] (none: at the end) may see value.
bool allowed(const std::optional<std::string>& value, const std::vector<Write>& all,
             std::optional<Instant> from, std::optional<Instant> to) {
    for (const Write& w : all) {
        if (w.value == value && (!to || !(*to < w.invoked)) && !overwritten(w, all, from))
            return true;
    }
    return false;
}

std::string shown(const std::optional<std::string>& value) {
    return value ? fmt::format("{} bytes", value->size()) : "no value";
}

std::optional<Failure> KvRun::check(const FaultPlan& faults, bool finished) {
    const std::vector<OpRecord> records = history_.records();
    for (const OpRecord& r : records) {
        if (r.op->verb != "get" || r.status != OpStatus::ok)
            continue;
        const std::optional<std::string>& value = got_.at({r.client, r.index});
        if (!allowed(value, writes(text_param(r.op->params, "key"), records), r.invoked,
                     r.completed))
            return Failure{FailureKind::wrong_data, "GET returned what the key never held then",
                           fmt::format("{} returned {}", describe_op(r), shown(value))};
    }
    const auto final_values = store_.snapshot();
    for (const char* key : keys) {
        const auto it = final_values.find(key);
        const std::optional<std::string> value =
            it == final_values.end() ? std::nullopt : std::optional<std::string>(it->second);
        if (!allowed(value, writes(key, records), std::nullopt, std::nullopt))
            return Failure{FailureKind::lost_data, "the store keeps a wrong value",
                           fmt::format("key {} holds {} afterwards", key, shown(value))};
    }
    if (!finished)
        return std::nullopt;
    const ErrorCauses active = error_causes(faults);
    for (const OpRecord& r : records) {
        const ErrorCauses causes =
            r.status == OpStatus::timed_out ? ErrorCause::timeout | ErrorCause::corrupted
            : r.status == OpStatus::connect_failed
                ? ErrorCause::refused | ErrorCause::timeout
                : ErrorCause::reset | ErrorCause::timeout | ErrorCause::corrupted;
        if (r.status != OpStatus::ok && (causes & active) == 0)
            return Failure{
                FailureKind::unexplained_error, std::string(to_string(r.status)),
                fmt::format("{} ended {}: {}", describe_op(r), to_string(r.status), r.detail)};
    }
    return std::nullopt;
}

}  // namespace

}  // namespace kv

namespace kv {

namespace {

Operation keyed(const char* verb, const char* key) {
    return Operation{verb, {{"key", std::string(key)}}, 0};
}

class KvWorkload final : public Workload {
  public:
    explicit KvWorkload(bool buggy) : buggy_(buggy) {}
    std::string_view name() const override { return buggy_ ? "kv-buggy" : "kv"; }
    std::string_view summary() const override {
        return buggy_ ? "kv/1 with two slips: a loop that hangs on an empty value, a length "
                        "taken from one recv"
                      : "kv/1 (examples/kv): SET, GET and DEL on shared keys";
    }
    const WorkloadSchema& schema() const override { return kv_schema(); }

    WorkloadCase simple_case(std::uint64_t size_bytes) const override {
        Operation set = keyed("set", "a");
        set.params.push_back({"size", size_bytes});
        return WorkloadCase{{}, {ClientPlan{{}, {set, keyed("get", "a")}}}};
    }
    WorkloadCase draw(ferry::sim::DecisionSource& source,
                      const DrawOptions& options) const override {
        const auto sizes = chunk_edge_sizes(16, std::min<std::uint64_t>(options.size_max, 200));
        const std::vector<std::uint64_t> edges(sizes.begin(), sizes.end());
        WorkloadCase c;
        for (std::uint64_t client = source.between(1, 3); client > 0; --client) {
            ClientPlan plan;
            for (std::uint64_t n = source.between(1, 5); n > 0; --n) {
                const char* key = keys[source.choose(keys.size())];
                const std::uint64_t kind = source.choose(5);
                plan.ops.push_back(keyed(kind < 2 ? "set" : kind < 4 ? "get" : "del", key));
                if (kind < 2)
                    plan.ops.back().params.push_back({"size", draw_size(source, edges, 200)});
            }
            c.clients.push_back(std::move(plan));
        }
        return c;
    }
    std::uint64_t bytes_in_play(const WorkloadCase& c) const override {
        std::uint64_t most = 0;
        for (const ClientPlan& client : c.clients) {
            std::uint64_t bytes = 0;
            for (const Operation& op : client.ops)
                bytes += 16 + count_param(op.params, "size", 0);
            most = std::max(most, bytes);
        }
        return most;
    }
    KnobSet relevant_knobs() const override {
        // kv keeps its data in memory, on no server machine of the world's:
        // the disk faults and crashes mean nothing to it. And like most
        // protocols on TCP it trusts TCP's checksum: corrupt would only show
        // that it has no check of its own.
        KnobSet set = all_knobs();
        for (const char* knob : {"disk_full", "store_io", "disk_errors", "short_file_reads",
                                 "slow_sync", "slow_disk", "crash", "corrupt"})
            set &= ~(KnobSet{1} << (find_fault_knob(knob) - fault_knobs().data()));
        return set;
    }
    std::unique_ptr<WorkloadRun> start(World& world, const WorkloadCase& c) const override {
        const Slips slips{buggy_, buggy_};
        auto run = std::make_unique<KvRun>(world, c, slips);
        run->start();
        return run;
    }

  private:
    bool buggy_;
};

}  // namespace

std::unique_ptr<Workload> make_kv_workload(bool buggy) {
    return std::make_unique<KvWorkload>(buggy);
}

}  // namespace kv
