#pragma once
// One simulated client-server transfer of the real protocol code: a client
// process uploads a payload (generated from the seed) to a server process,
// over the simulated network with the given faults, and the run is judged:
// passed, failed (with what differed or which error ended it), deadlock (with
// the report) or time budget exceeded. `ferry sim` is a thin shell over this.

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "sim/decisions.h"
#include "sim/faults.h"
#include "sim/simulation.h"

namespace ferry::sim {

enum class ProtocolKind { naive, ferry };

std::string_view to_string(ProtocolKind protocol);

struct TransferSpec {
    ProtocolKind protocol = ProtocolKind::ferry;
    std::uint64_t size_bytes = 0;
    /// Bytes per recv/send chunk; 0 = the protocol's default (naive 1024,
    /// ferry 64 KiB).
    std::size_t chunk_bytes = 0;
    std::uint64_t seed = 0;
    NetworkFaults faults;
    StoreFaults store_faults;
    Duration time_budget = std::chrono::hours(1);
    /// The ferry/1 client's per-call timeout (the naive client, like the
    /// chapter's, has none).
    Duration client_timeout = std::chrono::seconds(60);
    /// The ferry/1 server's idle timeout.
    Duration server_idle_timeout = std::chrono::seconds(30);
    /// Write the trace here as JSON lines (none = digest only).
    std::ostream* trace_json = nullptr;
    /// Decisions from here instead of a PRNG seeded with seed (a replay).
    DecisionSource* decisions = nullptr;
    /// Record every decision made into this list (for a replay).
    std::vector<std::uint64_t>* record_decisions = nullptr;
    /// Compare the stored file with the payload byte for byte (a benchmark of
    /// bulk speed may rely on the protocol's digest instead and check sizes).
    bool check_stored_bytes = true;
    /// How many of the trace's last events a report that is not passed
    /// carries as text (0 = none: explorers running many failing cases skip
    /// the formatting, about a third of such a run's cost).
    std::size_t recent_events_count = 24;
    /// Fold every event into the report's digest (false: digest 0, for a
    /// search that only wants the verdict and replays what it finds).
    bool trace_digest = true;
    /// The payload; none = generated from the seed.
    std::shared_ptr<const std::vector<std::byte>> payload;
};

enum class Outcome { passed, failed, deadlock, time_budget_exceeded };

std::string_view to_string(Outcome outcome);

struct TransferReport {
    Outcome outcome = Outcome::passed;
    /// For anything but passed: what went wrong, in a sentence or a report.
    std::string detail;
    std::uint64_t digest = 0;
    Instant end_time;
    std::uint64_t events = 0;
    /// For anything but passed: the last events of the trace, readable.
    std::string recent_events;
    DeadlockReport deadlock;
    std::string client_error;  ///< what the client threw, if it did
    std::string server_error;  ///< what the server threw, if it did
    std::uint64_t stored_bytes = 0;
};

TransferReport run_transfer(const TransferSpec& spec);

/// size bytes that depend only on seed.
std::vector<std::byte> payload_for_seed(std::uint64_t seed, std::uint64_t size);
/// The same bytes into out (resized to size), reusing its memory.
void fill_payload_for_seed(std::uint64_t seed, std::uint64_t size, std::vector<std::byte>& out);

/// The name the ferry/1 client uploads as, and the naive server stores as.
inline constexpr const char* transfer_file_name = "payload.bin";
inline constexpr const char* transfer_server_address = "server:9000";

}  // namespace ferry::sim
