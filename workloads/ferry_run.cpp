#include "ferry/workloads/ferry_run.h"

#include <utility>

#include "ferry/harness/stored_files.h"
#include "ferry/protocol/ferry_server.h"
#include "ferry/workloads/ferry_clients.h"
#include "ferry/workloads/ferry_model.h"

namespace ferry::workloads {

namespace {

constexpr std::size_t unlimited_connections = std::size_t{1} << 30;

}  // namespace

FerrySettings FerrySettings::from(const harness::Params& p) {
    FerrySettings s;
    s.chunk_bytes = harness::count_param(p, "chunk_size", 1024);
    s.max_bytes = harness::count_param(p, "max_bytes", 0);
    s.max_connections = harness::count_param(p, "max_connections", 0);
    s.idle_timeout_ms = harness::count_param(p, "idle_timeout_ms", 30'000);
    s.header_timeout_ms = harness::count_param(p, "header_timeout_ms",
                                               std::min<std::uint64_t>(10'000, s.idle_timeout_ms));
    s.old_server = harness::flag_param(p, "old_server");
    if (harness::find_param(p, "drain_at_ms"))
        s.drain_at_ms = harness::count_param(p, "drain_at_ms", 0);
    if (const auto* files = harness::table_param(p, "files"))
        s.files = *files;
    if (const auto* directory = harness::find_param(p, "directory"))
        s.directory = std::get<std::string>(*directory);
    return s;
}

FerryRunState::FerryRunState(harness::World& w, const harness::WorkloadCase& c)
    : world(w), work(c), settings(FerrySettings::from(c.settings)) {
    for (std::size_t client = 0; client < c.clients.size(); ++client) {
        ops.emplace_back();
        for (std::size_t i = 0; i < c.clients[client].ops.size(); ++i)
            ops.back().push_back(ferry_op(c.clients[client].ops[i], w.seed(), client, i));
        for (FerryOp& op : ops.back())
            op.pipelined = harness::flag_param(c.clients[client].options, "pipeline");
        results.emplace_back(ops.back().size());
    }
}

FerryRun::FerryRun(harness::World& world, const harness::WorkloadCase& c)
    : state_(world, c),
      slot_count_(state_.settings.max_connections != 0 ? state_.settings.max_connections
                                                       : unlimited_connections) {
    const FerrySettings& s = state_.settings;
    server_config_.chunk_bytes = s.chunk_bytes;
    server_config_.max_file_bytes = s.max_bytes;
    server_config_.streamed_put = !s.old_server;
    server_config_.idle_timeout = std::chrono::milliseconds(s.idle_timeout_ms);
    server_config_.header_timeout = std::chrono::milliseconds(s.header_timeout_ms);
    if (s.drain_at_ms) {
        server_config_.draining = [this] {
            return !(state_.world.clock().now() < *state_.drain_at());
        };
    }
    handlers_.serve = [this](Connection& conn, std::uint64_t) {
        serve_ferry_connection(conn, state_.world.store(), server_config_);
    };
    handlers_.refuse = [](Connection& conn, SlotsFull) { refuse_busy(conn); };
    loop_options_.on_event = [this](const AcceptEvent& event) {
        std::lock_guard lock(state_.events_mutex);
        state_.server_events.push_back(
            FerryServerEvent{event.kind, event.connection, state_.world.clock().now()});
    };
}

void FerryRun::preload() {
    for (const auto& [name, content] : state_.settings.files)
        state_.world.preload_file(name, content);
    if (state_.settings.directory)
        state_.world.preload_directory(*state_.settings.directory);
}

void FerryRun::start() {
    state_.started = state_.world.clock().now();
    preload();
    state_.world.start_server("server", [this](Store&) {
        // A boot of its own: a restarted server listens afresh, with slots
        // of its own (the dead boot's connections died with it).
        // (Its connections' tasks may outlive the loop: the run owns the slots.)
        std::unique_ptr<Listener> listener = state_.world.listen(ferry_server_address);
        ConnectionSlots* slots = nullptr;
        {
            std::lock_guard lock(state_.events_mutex);
            state_.boots.push_back(state_.server_events.size());
            slots = slots_.emplace_back(std::make_unique<ConnectionSlots>(slot_count_)).get();
        }
        run_accept_loop(*listener, state_.world, *slots, handlers_, loop_options_);
    });
    for (std::size_t c = 0; c < state_.work.clients.size(); ++c)
        spawn_ferry_client(state_, c);
}

std::optional<harness::Failure> FerryRun::check(const harness::FaultPlan& faults, bool finished) {
    std::vector<harness::StoredContents> stored;
    if (auto at_end = state_.world.files_at_end())
        stored.push_back(std::move(*at_end));
    stored.push_back(harness::read_stored_contents(state_.world.store()));
    std::optional<harness::Failure> failure = check_ferry_run(state_, stored, faults, finished);
    checked_files_ = std::move(stored.back());  // moved, not copied: every explored run checks
    return failure;
}

std::optional<harness::StoredContents> FerryRun::files() {
    if (checked_files_)
        return checked_files_;
    return harness::read_stored_contents(state_.world.store());
}

}  // namespace ferry::workloads
