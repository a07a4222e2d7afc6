#pragma once
// Recording: everything a run's pictures are drawn from (views/): every
// trace event (the Trace itself keeps only the last 64), the bytes of each
// segment as it went on the wire, when each process blocked and woke, the
// texts the events name and how the run ended. It only observes: a run
// recorded has the same choices, trace and digest as one that is not.

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/sim/simulation.h"
#include "ferry/sim/trace.h"

namespace ferry::sim {

/// One blocking call: from when a process blocked to when it woke (none
/// when it never did: a deadlock, a run cut short).
struct BlockedInterval {
    std::uint64_t process = 0;
    std::string call;  ///< "recv", "send", "accept", "connect", "delay", ...
    std::uint64_t conn = 0;
    std::uint64_t side = 0;
    std::uint64_t start_ns = 0;
    std::size_t start_event = 0;  ///< how many events were recorded before it began
    std::optional<std::uint64_t> end_ns;
    std::size_t end_event = 0;  ///< how many events were recorded before it ended
};

class Recording {
  public:
    // --- for the simulator ---

    void add_event(const TraceEvent& event) { events_.push_back(event); }
    /// Whether segments' payloads are kept (on by default; only the pcap
    /// needs them, and a 64 MiB transfer keeps 64 MiB).
    bool keeps_payloads() const { return keeps_payloads_; }
    void keep_payloads(bool keep) { keeps_payloads_ = keep; }
    /// Each receiver's buffer and the largest segment (NetworkFaults'
    /// receive_window_bytes and segment_bytes_max), so the pcap can advertise
    /// a zero window where a receiver's buffer had no room a sender would
    /// use; 0 = unknown.
    void set_receive_window(std::uint64_t window_bytes, std::uint64_t segment_bytes_max) {
        receive_window_bytes_ = window_bytes;
        segment_bytes_max_ = segment_bytes_max;
    }
    std::uint64_t receive_window_bytes() const { return receive_window_bytes_; }
    std::uint64_t segment_bytes_max() const { return segment_bytes_max_; }
    /// Room for the payload of the segment whose event is recorded next.
    std::span<std::byte> add_segment_bytes(std::size_t bytes);
    /// Returns the interval's index, for end_block().
    std::size_t begin_block(std::uint64_t process, std::string_view call, std::uint64_t conn,
                            std::uint64_t side, std::uint64_t now_ns);
    void end_block(std::size_t index, std::uint64_t now_ns);
    /// Copies the texts the events name and the processes' names out of the
    /// trace, and how the run ended; call before the simulation goes away.
    void finish(const Trace& trace, std::size_t process_count, const SimResult& result);

    // --- for the views ---

    const std::vector<TraceEvent>& events() const { return events_; }
    /// How many segments' payloads are kept (0 unless keeps_payloads()).
    std::size_t segment_count() const { return segments_.size(); }
    /// The payload of the k-th segment event, as it went on the wire.
    std::span<const std::byte> segment_payload(std::size_t k) const {
        const PayloadPlace& place = segments_.at(k);
        return {chunks_[place.chunk].get() + place.offset, place.bytes};
    }
    const std::vector<BlockedInterval>& blocks() const { return blocks_; }
    std::string_view text(std::uint64_t id) const;
    /// "network" for process 0.
    std::string_view process_name(std::uint64_t process) const;
    /// How many processes ran (ids 1 to this; 0 is the network).
    std::size_t process_count() const {
        return process_names_.empty() ? 0 : process_names_.size() - 1;
    }
    std::uint64_t end_ns() const { return end_ns_; }
    RunStatus status() const { return status_; }
    /// Who waited on whom when the run stopped (a deadlock or a time budget).
    const DeadlockReport& report() const { return report_; }

  private:
    std::vector<TraceEvent> events_;
    /// Payloads live in chunks that are never moved or zeroed: a 64 MiB
    /// transfer's would cost twice over in a growing vector.
    struct PayloadPlace {
        std::size_t chunk = 0;
        std::size_t offset = 0;
        std::size_t bytes = 0;
    };
    static constexpr std::size_t chunk_bytes = 1 << 20;
    std::vector<std::unique_ptr<std::byte[]>> chunks_;
    std::size_t chunk_capacity_ = 0;  ///< of the last chunk
    std::size_t chunk_used_ = 0;      ///< of the last chunk
    std::vector<PayloadPlace> segments_;
    bool keeps_payloads_ = true;
    std::uint64_t receive_window_bytes_ = 0;
    std::uint64_t segment_bytes_max_ = 0;
    std::vector<BlockedInterval> blocks_;
    std::map<std::uint64_t, std::string> texts_;
    std::vector<std::string> process_names_;  ///< index = process id
    std::uint64_t end_ns_ = 0;
    RunStatus status_ = RunStatus::completed;
    DeadlockReport report_;
};

}  // namespace ferry::sim
