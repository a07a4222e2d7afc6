#include "ferry/workloads/naive_workload.h"

#include <algorithm>

#include <fmt/core.h>

#include "ferry/harness/edge_sizes.h"
#include "ferry/harness/op_status.h"
#include "ferry/harness/payload.h"
#include "ferry/harness/stored_files.h"
#include "ferry/protocol/accept_loop.h"
#include "ferry/protocol/naive.h"
#include "ferry/protocol/span_reader.h"

namespace ferry::workloads {

namespace {

using namespace harness;

constexpr const char* server_address = "server:9000";
constexpr std::size_t unlimited_connections = std::size_t{1} << 30;

const WorkloadSchema& naive_schema() {
    static const WorkloadSchema schema{
        .settings = {{"chunk_size", ParamKind::count,
                      "the chapter's CHUNK_SIZE: bytes per recv (default 1024)", 1}},
        .client_options = {{"timeout_ms", ParamKind::count,
                            "accepted for scenario files; the chapter's client has no timeout"}},
        .verbs = {{.verb = "put",
                   .primary = "name",
                   .params = {{"size", ParamKind::count, "bytes generated from the seed"},
                              {"content", ParamKind::text, "these bytes"}},
                   .description = "uploads on a connection of its own (the server names the "
                                  "file upload-N)",
                   .one_of = {"size", "content"}}},
    };
    return schema;
}

/// The bytes a put sends.
std::string put_payload(const Operation& op, std::uint64_t seed, std::size_t client,
                        std::size_t index) {
    if (const ParamValue* content = find_param(op.params, "content"))
        return std::get<std::string>(*content);
    return generated_payload(seed, client, index, count_param(op.params, "size", 0));
}

class NaiveRun final : public WorkloadRun {
  public:
    NaiveRun(World& world, const WorkloadCase& c)
        : world_(world),
          case_(c),
          chunk_bytes_(count_param(c.settings, "chunk_size", naive_chunk_bytes_default)),
          slots_(unlimited_connections) {
        for (std::size_t client = 0; client < c.clients.size(); ++client) {
            payloads_.emplace_back();
            for (std::size_t i = 0; i < c.clients[client].ops.size(); ++i)
                payloads_.back().push_back(
                    put_payload(c.clients[client].ops[i], world.seed(), client, i));
        }
    }

    void start() {
        handlers_.serve = [this](Connection& conn, std::uint64_t) {
            std::string name;
            name = namer_.next(world_.store());
            serve_naive_upload(conn, world_.store(), name, chunk_bytes_);
        };
        world_.start_server("server", [this](Store&) {
            std::unique_ptr<Listener> listener = world_.listen(server_address);
            run_accept_loop(*listener, world_, slots_, handlers_, loop_options_);
        });
        for (std::size_t c = 0; c < case_.clients.size(); ++c)
            world_.spawn_client(fmt::format("client {}", c + 1), [this, c] { run_client(c); });
    }

    const History& history() const override { return history_; }
    std::optional<Failure> check(const FaultPlan& faults, bool finished) override;
    std::optional<StoredContents> files() override { return read_stored_contents(world_.store()); }

  private:
    void run_client(std::size_t client);
    void put(std::size_t client, std::size_t index);
    std::optional<Failure> check_reply(const OpRecord& r, const TextTable& stored) const;
    bool was_sent(std::string_view content) const;
    std::string closest_tag(std::string_view content) const;

    World& world_;
    const WorkloadCase& case_;
    std::size_t chunk_bytes_;
    std::vector<std::vector<std::string>> payloads_;  ///< by client, then operation
    ConnectionSlots slots_;
    ConnectionHandlers handlers_;
    AcceptLoopOptions loop_options_;
    UploadNamer namer_;
    History history_;
};

void NaiveRun::run_client(std::size_t client) {
    for (std::size_t i = 0; i < case_.clients[client].ops.size(); ++i)
        put(client, i);
}

void NaiveRun::put(std::size_t client, std::size_t index) {
    const std::string& payload = payloads_[client][index];
    const std::size_t record =
        history_.invoke(client, index, case_.clients[client].ops[index], world_.clock().now());
    OpEnd end;
    try {
        // The chapter's client: no timeout, one connection per upload.
        auto conn = world_.connect(server_address, std::nullopt);
        const NaiveClientResult result =
            naive_put(*conn, SpanReader(as_bytes(payload)), chunk_bytes_);
        conn->close();
        if (result.reply.empty()) {
            end = {OpStatus::cut, 0, "the server closed without a reply"};
        } else if (result.reply != std::to_string(payload.size())) {
            end = {OpStatus::wrong, 0,
                   fmt::format("sent {} bytes but the server replied \"{}\"", payload.size(),
                               result.reply)};
        } else {
            end = {OpStatus::ok, 0, result.reply};
        }
    } catch (...) {
        end = end_for_current_exception();
    }
    history_.complete(record, world_.clock().now(), end.status, end.code, std::move(end.detail));
}

}  // namespace
}  // namespace ferry::workloads

namespace ferry::workloads {

namespace {

/// The errors each status may come from, for the chapter's protocol: it has
/// no error replies, so a store failure closes the connection.
ErrorCauses naive_causes(OpStatus status) {
    switch (status) {
        case OpStatus::cut:
            return ErrorCause::reset | ErrorCause::timeout | ErrorCause::disk_full |
                   ErrorCause::store_io | ErrorCause::corrupted;
        case OpStatus::connect_failed:
            return ErrorCause::refused | ErrorCause::timeout;
        case OpStatus::timed_out:
            return static_cast<ErrorCauses>(ErrorCause::timeout);
        default:
            return 0;
    }
}

/// How a stored file relates to what was sent.
std::string file_tag(std::string_view stored, std::string_view sent) {
    if (stored.size() < sent.size() && sent.starts_with(stored))
        return "truncated file";
    if (stored.size() > sent.size() && stored.starts_with(sent))
        return "overlong file";
    return "corrupted file";
}

}  // namespace

bool NaiveRun::was_sent(std::string_view content) const {
    for (const auto& client : payloads_) {
        if (std::find(client.begin(), client.end(), content) != client.end())
            return true;
    }
    return false;
}

std::string NaiveRun::closest_tag(std::string_view content) const {
    for (const auto& client : payloads_) {
        for (const std::string& sent : client) {
            const std::string tag = file_tag(content, sent);
            if (tag != "corrupted file")
                return tag;
        }
    }
    return "corrupted file";
}

std::optional<Failure> NaiveRun::check_reply(const OpRecord& r, const TextTable& stored) const {
    const std::string& sent = payloads_[r.client][r.index];
    for (const auto& [name, content] : stored) {
        if (content == sent)
            continue;
        const std::string tag = file_tag(content, sent);
        if (tag != "corrupted file") {
            return Failure{FailureKind::wrong_data, tag,
                           fmt::format("{}: {}; the server stored {} as {} bytes", describe_op(r),
                                       r.detail, name, content.size())};
        }
    }
    return Failure{FailureKind::wrong_data, "wrong reply",
                   fmt::format("{}: {}", describe_op(r), r.detail)};
}

std::optional<Failure> NaiveRun::check(const FaultPlan& faults, bool finished) {
    const std::vector<OpRecord> records = history_.records();
    const TextTable stored = read_stored_files(world_.store());
    for (const OpRecord& r : records) {
        if (r.status == OpStatus::wrong)
            return check_reply(r, stored);
    }
    for (const auto& [name, content] : stored) {
        if (!was_sent(content)) {
            return Failure{FailureKind::torn_file, closest_tag(content),
                           fmt::format("the server stored {} ({} bytes), which no upload sent",
                                       name, content.size())};
        }
    }
    if (!finished)
        return std::nullopt;
    const ErrorCauses active = error_causes(faults);
    for (const OpRecord& r : records) {
        if (r.status == OpStatus::ok) {
            const std::string& sent = payloads_[r.client][r.index];
            const bool kept = std::any_of(stored.begin(), stored.end(),
                                          [&](const auto& f) { return f.second == sent; });
            if (!kept) {
                return Failure{
                    FailureKind::lost_data, "nothing stored",
                    fmt::format("{} was acknowledged but no file holds it", describe_op(r))};
            }
        } else if ((naive_causes(r.status) & active) == 0) {
            return Failure{
                FailureKind::unexplained_error, std::string(to_string(r.status)),
                fmt::format("{} ended {}: {}", describe_op(r), to_string(r.status), r.detail)};
        }
    }
    return std::nullopt;
}

}  // namespace ferry::workloads

namespace ferry::workloads {

namespace {

WorkloadCase one_put(std::uint64_t size_bytes, std::optional<std::uint64_t> chunk_bytes) {
    WorkloadCase c;
    if (chunk_bytes)
        c.settings.push_back({"chunk_size", *chunk_bytes});
    Operation put{"put", {{"name", std::string("upload.bin")}, {"size", size_bytes}}};
    c.clients.push_back(ClientPlan{{}, {put}});
    return c;
}

class NaiveWorkload final : public Workload {
  public:
    std::string_view name() const override { return "naive"; }
    std::string_view summary() const override {
        return "the chapter's chunked upload, bugs included: each put on its own connection, "
               "the server stores upload-1, upload-2, ... and replies with the byte count";
    }
    const WorkloadSchema& schema() const override { return naive_schema(); }

    WorkloadCase simple_case(std::uint64_t size_bytes) const override {
        return one_put(size_bytes, std::nullopt);
    }
    std::vector<WorkloadCase> edge_cases(const DrawOptions& options) const override {
        std::vector<WorkloadCase> cases;
        for (std::uint64_t size : chunk_edge_sizes(options.chunk_bytes, options.size_max))
            cases.push_back(one_put(size, options.chunk_bytes));
        return cases;
    }
    WorkloadCase draw(sim::DecisionSource& source, const DrawOptions& options) const override {
        const auto edges = chunk_edge_sizes(options.chunk_bytes, options.size_max);
        const std::vector<std::uint64_t> sizes(edges.begin(), edges.end());
        return one_put(draw_size(source, sizes, options.size_max), options.chunk_bytes);
    }
    std::uint64_t bytes_in_play(const WorkloadCase& c) const override {
        std::uint64_t most = 0;
        for (const ClientPlan& client : c.clients) {
            for (const Operation& op : client.ops) {
                const ParamValue* content = find_param(op.params, "content");
                most =
                    std::max<std::uint64_t>(most, content ? std::get<std::string>(*content).size()
                                                          : count_param(op.params, "size", 0));
            }
        }
        return most;
    }
    std::unique_ptr<WorkloadRun> start(World& world, const WorkloadCase& c) const override {
        auto run = std::make_unique<NaiveRun>(world, c);
        run->start();
        return run;
    }
};

}  // namespace

std::unique_ptr<harness::Workload> make_naive_workload() {
    return std::make_unique<NaiveWorkload>();
}

}  // namespace ferry::workloads
