#pragma once
// What one run of the ferry workload shares between its server, its client
// processes and its check: the settings, each client's typed operations and
// what they got back, the history, and the server's accept events.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ferry/harness/history.h"
#include "ferry/harness/workload_case.h"
#include "ferry/harness/world.h"
#include "ferry/protocol/accept_loop.h"
#include "ferry/protocol/store.h"
#include "ferry/sim/compact_bytes.h"
#include "ferry/workloads/ferry_ops.h"

namespace ferry::workloads {

inline constexpr const char* ferry_server_address = "server:9000";

/// The workload's settings, typed.
struct FerrySettings {
    std::size_t chunk_bytes = 1024;
    std::uint64_t max_bytes = 0;      ///< 0 = no limit
    std::size_t max_connections = 0;  ///< 0 = no limit
    std::uint64_t idle_timeout_ms = 30'000;
    std::uint64_t header_timeout_ms = 10'000;
    bool old_server = false;  ///< the server answers PUTS as one from before it: ERR 400
    /// The server begins a graceful shutdown this long after the run starts:
    /// from then on it answers every request ERR 503 and closes.
    std::optional<std::uint64_t> drain_at_ms;
    harness::TextTable files;  ///< preloaded
    /// A name that is a directory in the store before the run: uploads to it
    /// are refused (403), GETs find no file (404), DIR does not list it.
    std::optional<std::string> directory;

    static FerrySettings from(const harness::Params& settings);
};

/// What an operation got back, beside its OpRecord.
struct FerryOpResult {
    std::optional<std::size_t> record;             ///< its history record, once invoked
    std::optional<sim::CompactBytes> got;          ///< GET: the bytes received
    std::optional<std::vector<FileInfo>> listing;  ///< DIR
    /// PUT with junk: how the junk line was answered (refused 400 is right).
    std::optional<std::pair<harness::OpStatus, int>> junk_reply;
    bool after_error = false;  ///< pipelined: unanswered because an earlier request failed
};

/// The server's accept loop, as it happened.
struct FerryServerEvent {
    AcceptEvent::Kind kind = AcceptEvent::Kind::accepted;
    std::uint64_t connection = 0;
    Instant at;
};

struct FerryRunState {
    harness::World& world;
    const harness::WorkloadCase& work;
    FerrySettings settings;
    std::vector<std::vector<FerryOp>> ops;            ///< by client, then operation
    std::vector<std::vector<FerryOpResult>> results;  ///< the same shape
    harness::History history;
    std::mutex events_mutex;
    std::vector<FerryServerEvent> server_events;
    /// Where each boot of the server begins in server_events.
    std::vector<std::size_t> boots;
    /// When the run started, on the world's clock.
    Instant started;

    /// When the server begins its graceful shutdown, if it does: the one
    /// instant both the server's draining and the model's judgement use.
    std::optional<Instant> drain_at() const {
        if (!settings.drain_at_ms)
            return std::nullopt;
        return started + std::chrono::milliseconds(*settings.drain_at_ms);
    }

    FerryRunState(harness::World& w, const harness::WorkloadCase& c);
};

}  // namespace ferry::workloads
