#include "ferry/workloads/ferry_workload.h"

#include <algorithm>

#include <fmt/core.h>

#include "ferry/protocol/ferry_wire.h"
#include "ferry/protocol/names.h"
#include "ferry/workloads/ferry_draw.h"
#include "ferry/workloads/ferry_run.h"

namespace ferry::workloads {

namespace {

using namespace harness;

/// An ERR code ferry/1 answers with.
std::optional<std::string> check_err_code(std::string_view key, const ParamValue& value) {
    static constexpr ErrCode codes[] = {ErrCode::bad_request, ErrCode::name_not_allowed,
                                        ErrCode::not_found,   ErrCode::timed_out,
                                        ErrCode::too_large,   ErrCode::digest_mismatch,
                                        ErrCode::internal,    ErrCode::too_many_connections,
                                        ErrCode::disk_full};
    const auto code = std::get<std::uint64_t>(value);
    std::string known;
    for (const ErrCode c : codes) {
        if (static_cast<std::uint64_t>(c) == code)
            return std::nullopt;
        known += fmt::format("{}{}", known.empty() ? "" : ", ", static_cast<int>(c));
    }
    return fmt::format("\"{}\" must be an ERR code ferry/1 answers ({}), not {}", key, known, code);
}

/// Names the server's store can hold.
std::optional<std::string> check_file_names(std::string_view key, const ParamValue& value) {
    for (const auto& [name, content] : std::get<TextTable>(value)) {
        if (!is_valid_name(name))
            return fmt::format("\"{}\" in \"{}\" is not a valid ferry name", name, key);
    }
    return std::nullopt;
}

/// A name the server's store can hold.
std::optional<std::string> check_file_name(std::string_view key, const ParamValue& value) {
    const auto& name = std::get<std::string>(value);
    if (!is_valid_name(name))
        return fmt::format("\"{}\" ({:?}) is not a valid ferry name", key, name);
    return std::nullopt;
}

/// A name is preloaded as a file or as a directory, not both.
std::optional<std::string> check_preloaded(const Params& settings) {
    const auto* directory = find_param(settings, "directory");
    const auto* files = table_param(settings, "files");
    if (!directory || !files)
        return std::nullopt;
    const auto& name = std::get<std::string>(*directory);
    for (const auto& file : *files) {
        if (file.first == name)
            return fmt::format("\"{}\" is both in \"files\" and the \"directory\"", name);
    }
    return std::nullopt;
}

const WorkloadSchema& ferry_schema() {
    static const ParamSpec expect_error{
        "expect_error", ParamKind::count, "the ERR code the step must get", 0,
        false,          check_err_code};
    static const ParamSpec trickle{"trickle_ms", ParamKind::count,
                                   "send the request line a byte at a time, this far apart"};
    static const ParamSpec pause{"pause_ms", ParamKind::count, "wait this long before it"};
    static const ParamSpec unchecked{"unchecked", ParamKind::flag,
                                     "send the line without its check, as typed by hand, on a "
                                     "connection of its own"};
    static const WorkloadSchema schema{
        .settings = {{"chunk_size", ParamKind::count, "bytes per recv and store write (1024)", 1},
                     {"files", ParamKind::text_table, "files the server has before the run", 0,
                      true, check_file_names},
                     {"directory", ParamKind::text,
                      "a name that is a directory on the server before the run (not in files)", 0,
                      true, check_file_name},
                     {"max_bytes", ParamKind::count,
                      "the server refuses larger PUTs with 413 (0 = none)"},
                     {"max_connections", ParamKind::count, "clients served at once; more get 503"},
                     {"idle_timeout_ms", ParamKind::count, "the server's idle timeout (30000)", 1},
                     {"header_timeout_ms", ParamKind::count,
                      "the server's header timeout (10000, at most the idle timeout)", 1},
                     {"old_server", ParamKind::flag,
                      "the server is from before PUTS: it answers ERR 400 unknown command"},
                     {"drain_at_ms", ParamKind::count,
                      "the server begins a graceful shutdown this long into the run: every "
                      "request from then on gets ERR 503 and a close"}},
        .client_options = {{"timeout_ms", ParamKind::count,
                            "how long one blocking call may wait (30000)", 1},
                           {"pipeline", ParamKind::flag,
                            "send every request without waiting for replies"}},
        .verbs =
            {{.verb = "put",
              .primary = "name",
              .params = {{"size", ParamKind::count, "bytes generated from the seed"},
                         {"content", ParamKind::text, "these bytes"},
                         expect_error,
                         {"flip_digest", ParamKind::count, "send a digest wrong in this hex digit"},
                         {"declare", ParamKind::count, "declare this size, send the body as it is"},
                         {"cut", ParamKind::count, "send this much of the body, then close"},
                         trickle,
                         {"junk", ParamKind::text, "send this line after the body"},
                         pause,
                         {"streamed", ParamKind::flag,
                          "streamed (PUTS), falling back to PUT on a server from before it"},
                         {"frame", ParamKind::count,
                          "streamed, in frames of this many bytes the workload writes", 1},
                         {"frame_line", ParamKind::text,
                          "streamed, with this line before the first frame's"}},
              .description = "uploads a file",
              .one_of = {"size", "content"}},
             {.verb = "get",
              .primary = "name",
              .params = {expect_error, trickle, pause, unchecked},
              .description = "downloads a file and checks it against the model"},
             {.verb = "dir",
              .params = {expect_error, pause, unchecked},
              .description = "lists the files and checks the list against the model"},
             {.verb = "raw",
              .primary = "line",
              .params = {expect_error, pause},
              .description = "sends a request line of its own and reads one reply"}},
        .check_settings = check_preloaded,
    };
    return schema;
}

WorkloadCase put_and_get(std::uint64_t size, std::size_t chunk_bytes) {
    WorkloadCase c;
    c.settings.push_back({"chunk_size", std::uint64_t{chunk_bytes}});
    c.clients.push_back(
        ClientPlan{{},
                   {Operation{"put", {{"name", std::string("a.bin")}, {"size", size}}},
                    Operation{"get", {{"name", std::string("a.bin")}}}}});
    return c;
}

class FerryWorkload final : public Workload {
  public:
    std::string_view name() const override { return "ferry"; }
    std::string_view summary() const override {
        return "ferry/1: PUT, GET and DIR from concurrent, pipelining, dishonest and slow "
               "clients, server limits at the edges";
    }
    const WorkloadSchema& schema() const override { return ferry_schema(); }

    WorkloadCase simple_case(std::uint64_t size_bytes) const override {
        WorkloadCase c;
        c.clients.push_back(ClientPlan{
            {}, {Operation{"put", {{"name", std::string("payload.bin")}, {"size", size_bytes}}}}});
        return c;
    }
    std::vector<WorkloadCase> edge_cases(const DrawOptions& options) const override {
        std::vector<WorkloadCase> cases;
        for (std::uint64_t size : ferry_edge_sizes(options.chunk_bytes, options.size_max))
            cases.push_back(put_and_get(size, options.chunk_bytes));
        return cases;
    }
    WorkloadCase draw(sim::DecisionSource& source, const DrawOptions& options) const override {
        return draw_ferry_case(source, options);
    }
    std::uint64_t bytes_in_play(const WorkloadCase& c) const override;
    std::unique_ptr<WorkloadRun> start(World& world, const WorkloadCase& c) const override {
        auto run = std::make_unique<FerryRun>(world, c);
        run->start();
        return run;
    }
};

std::uint64_t FerryWorkload::bytes_in_play(const WorkloadCase& c) const {
    std::uint64_t largest = 0;
    for (const ClientPlan& client : c.clients) {
        for (const Operation& op : client.ops)
            largest = std::max(largest, count_param(op.params, "size", 0));
    }
    std::uint64_t most = 0;
    for (const ClientPlan& client : c.clients) {
        std::uint64_t bytes = 0;
        for (const Operation& op : client.ops) {
            const ParamValue* content = find_param(op.params, "content");
            bytes += 64 + (op.verb == "get" ? largest
                           : content        ? std::get<std::string>(*content).size()
                                            : count_param(op.params, "size", 0));
        }
        most = std::max(most, bytes);
    }
    return most;
}

}  // namespace

std::unique_ptr<harness::Workload> make_ferry_workload() {
    return std::make_unique<FerryWorkload>();
}

}  // namespace ferry::workloads
