#pragma once
// Every fault knob the simulator has, in one place, units last. A default
// NetworkFaults is a calm network: whole sends and reads, 1 ms latency,
// nothing stalls, resets, clogs or refuses; a default FsFaults a disk that
// never fails, and no machine crashes unless a CrashFault says so.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "ferry/protocol/clock.h"
#include "ferry/protocol/filesystem.h"
#include "ferry/sim/decisions.h"

namespace ferry::sim {

/// Which end of a connection: the one that called connect() or the one that
/// accepted it.
enum class Side { client, server };

inline Side other(Side side) {
    return side == Side::client ? Side::server : Side::client;
}
inline const char* to_string(Side side) {
    return side == Side::client ? "client" : "server";
}
inline std::size_t index_of(Side side) {
    return side == Side::client ? 0 : 1;
}

/// One side stops reading: its recv() sees nothing (not even end of stream)
/// from the moment it has read after_bytes, or from at, whichever is given
/// (after_bytes wins when both are), for duration or for ever.
struct StallFault {
    Side side = Side::server;
    std::optional<std::uint64_t> after_bytes;
    std::optional<Instant> at;
    std::optional<Duration> duration;  ///< none = for ever

    friend bool operator==(const StallFault&, const StallFault&) = default;
};

/// The connection is reset once one side has moved after_bytes through its
/// send() and recv() calls together (exactly: a call is cut at the offset).
/// That side's calls fail with reset at once; the peer learns after a latency.
struct ResetFault {
    Side side = Side::server;
    std::uint64_t after_bytes = 0;

    friend bool operator==(const ResetFault&, const ResetFault&) = default;
};

/// From at, for duration, the link delivers nothing in either direction;
/// segments sent meanwhile arrive, in order, once it clears.
struct ClogFault {
    Instant at;
    Duration duration{0};

    friend bool operator==(const ClogFault&, const ClogFault&) = default;
};

struct NetworkFaults {
    /// Cap on the bytes one send() takes; 0 = no cap.
    std::size_t max_send_bytes = 0;
    /// How often a send() takes a random non-empty prefix of what it could.
    Ratio partial_sends = never;
    /// How often a recv() returns a random non-empty prefix of what is buffered.
    Ratio short_reads = never;
    /// Each segment's one-way latency, drawn from [min, max].
    std::uint64_t latency_ms_min = 1;
    std::uint64_t latency_ms_max = 1;
    std::optional<StallFault> stall;
    std::optional<ResetFault> reset;
    std::optional<ClogFault> clog;
    /// How often a connect() is refused although someone listens.
    Ratio refused_connects = never;
    /// How often a segment arrives with one byte flipped: the damage TCP's
    /// 16-bit checksum lets through at scale, which only an end-to-end check
    /// can catch.
    Ratio corrupt_segments = never;
    /// Per direction: bytes send() may queue that are not yet on the wire.
    std::size_t send_buffer_bytes = 256 * 1024;
    /// Per direction: bytes in flight plus bytes received but not yet read.
    std::size_t receive_window_bytes = 256 * 1024;
    /// Largest segment put on the wire.
    std::size_t segment_bytes_max = 64 * 1024;
};

/// Faults of the simulated filesystem (sim_filesystem.h). Call counts are
/// 1-based and count every call of the door (open, write, sync, rename, ...),
/// or only calls of one kind; 0 = never.
struct FsFaults {
    /// Bytes the disk holds (all files' data, written back or not) past which
    /// a write is cut short and the next fails with ENOSPC; 0 = unlimited.
    std::uint64_t capacity_bytes = 0;
    /// The Nth call fails with fail_error and does nothing.
    std::uint64_t fail_call_at = 0;
    std::optional<FsCall> fail_call_kind;  ///< none = count every call
    int fail_error = EIO;
    /// Once a call has failed, every later one (of fail_call_kind) fails too.
    bool failures_persist = false;
    /// How often any call fails, with EIO or ENOSPC (drawn).
    Ratio random_failures = never;
    /// How often a read returns fewer bytes than it could (a non-empty
    /// prefix), as pread(2) may.
    Ratio short_reads = never;
    /// The Nth call crashes the machine instead of running (see
    /// SimFilesystem::set_crash_handler) and fails with EIO.
    std::uint64_t crash_at_call = 0;
    std::optional<FsCall> crash_call_kind;  ///< none = count every call
    /// Each sync() and sync_directory() takes this long in virtual time,
    /// drawn from [min, max], letting other processes run meanwhile (only
    /// inside a process); 0 = they take no time.
    std::uint64_t sync_latency_ms_min = 0;
    std::uint64_t sync_latency_ms_max = 0;
    /// Every call (but a file's close when its handle goes) first takes this
    /// long in virtual time, drawn per call from [min, max]: other processes
    /// run between a process's calls, and between its calls and the time
    /// they take effect (only inside a process; a sync takes its sync
    /// latency on top); 0 = calls take no time, and nothing is drawn.
    std::uint64_t call_latency_ms_min = 0;
    std::uint64_t call_latency_ms_max = 0;
};

/// The server's machine dies once: when it has received after_bytes over
/// all its connections together (exactly: a recv is cut at the offset), or
/// else at the at_call-th call of its filesystem (of call_kind; none = of
/// any kind). A power loss keeps only what the disk had made durable (and
/// what sim_filesystem.h says a crash may keep); a kill -9 keeps the page
/// cache. With restart the machine boots again 1 ms later, its startup
/// cleaning up what the dead one left.
struct CrashFault {
    std::optional<std::uint64_t> after_bytes;
    std::uint64_t at_call = 0;
    std::optional<FsCall> call_kind;
    bool power_loss = true;
    bool restart = true;

    friend bool operator==(const CrashFault&, const CrashFault&) = default;
};

}  // namespace ferry::sim
