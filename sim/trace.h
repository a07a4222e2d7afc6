#pragma once
// The simulation's trace: every event with its virtual time, folded into an
// XXH3 digest (two runs with one seed and the same inputs give one digest),
// kept in a small ring for failure reports, and optionally written as JSON
// lines.
//
// Events are fixed-size records of integers; text (process names, addresses,
// file names, messages) goes in as its own 64-bit XXH3 hash, so the digest
// covers the text, and a table maps hashes back to text for printing.

#include <array>
#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "ferry/protocol/clock.h"
#include "ferry/sim/text_table.h"

namespace ferry::sim {

enum class TraceKind : std::uint64_t {
    spawn,          ///< a: process name
    run,            ///< the scheduler switched to process
    finish,         ///< process returned
    fail,           ///< process threw; a: message
    delay,          ///< a: ns
    listen,         ///< a: address
    connect,        ///< a: address
    refused,        ///< a: address
    accept,         ///< a: peer address
    established,    ///< the connecting side learnt the connection is up
    send,           ///< a: bytes offered, b: bytes taken
    recv,           ///< a: buffer bytes, b: bytes returned
    segment,        ///< side sent it; a: bytes, b: arrival ns
    deliver,        ///< side receives; a: bytes now buffered
    shutdown_send,  ///< side half-closed
    fin,            ///< side's FIN arrived at the peer
    close,          ///< side closed; a: 1 when it aborted with unread data
    rst,            ///< side learnt of a reset
    timed_out,      ///< a call on side gave up; a: call name
    fault,          ///< a: what, b: a number
    store_begin,    ///< a: name, b: upload number
    store_write,    ///< a: upload number, b: bytes
    store_commit,   ///< a: name, b: bytes
    store_abort,    ///< a: upload number, b: bytes discarded
    store_open,     ///< a: name, b: bytes (or the error)
    store_list,     ///< a: files
    store_fault,    ///< a: what, b: upload number
    store_crash,    ///< a: uploads lost
    note,           ///< a: text, from the workload or test code (an annotation)
    kill,           ///< a group of processes was killed; a: group, b: processes
    fs_open,        ///< a: name, b: file id
    fs_write,       ///< a: file id, b: bytes taken
    fs_read,        ///< a: file id, b: bytes returned
    fs_sync,        ///< a: file id, b: bytes now durable
    fs_stat,        ///< a: name (0 for an open file), b: file id
    fs_lock,        ///< a: file id
    fs_close,       ///< a: file id
    fs_list,        ///< a: entries
    fs_rename,      ///< a: from, b: to
    fs_unlink,      ///< a: name
    fs_sync_dir,    ///< a: entry changes made durable
    fs_error,       ///< a filesystem call failed; a: call, b: errno
    fs_fault,       ///< an injected failure; a: call, b: errno
    fs_crash,       ///< the disk crashed; a: entry changes kept, b: entry changes lost
    fs_get_attr,    ///< a: file id, b: the value's bytes
    fs_set_attr,    ///< a: file id, b: the value's bytes
    count_,
};

std::string_view to_string(TraceKind kind);

enum class TraceField { a, b };
/// Whether an event of kind holds a text id (from Trace::intern) in field.
bool carries_text(TraceKind kind, TraceField field);

class Recording;

/// One event; only integers, so it hashes the same everywhere. (No default
/// member values: the ring of recent events is left uninitialised.)
struct TraceEvent {
    std::uint64_t time_ns;
    TraceKind kind;
    std::uint64_t process;  ///< 0 = the network itself
    std::uint64_t conn;     ///< 0 = none
    std::uint64_t side;     ///< 0 client, 1 server
    std::uint64_t a;
    std::uint64_t b;
};

class Trace {
  public:
    Trace();
    ~Trace();
    Trace(const Trace&) = delete;
    Trace& operator=(const Trace&) = delete;

    void record(const TraceEvent& event) {
        record(event.time_ns, event.kind, event.process, event.conn, event.side, event.a, event.b);
    }
    /// The same, field by field: written straight into the ring (building a
    /// TraceEvent first and copying it costs a store-forwarding stall).
    void record(std::uint64_t time_ns, TraceKind kind, std::uint64_t process, std::uint64_t conn,
                std::uint64_t side, std::uint64_t a, std::uint64_t b) {
        if (stopped_)
            return;
        TraceEvent& slot = recent_[event_count_ % recent_capacity];
        slot.time_ns = time_ns;
        slot.kind = kind;
        slot.process = process;
        slot.conn = conn;
        slot.side = side;
        slot.a = a;
        slot.b = b;
        ++event_count_;
        if (event_count_ - hashed_count_ == recent_capacity)
            flush_hash();
        if (json_out_ != nullptr)
            write_json(slot);
        if (recording_ != nullptr) [[unlikely]]
            record_into_recording(slot);
    }

    /// An id for text: its hash, so the same for the same text in any run.
    std::uint64_t intern(std::string_view text);
    /// The text of an id from intern(); "?" for an unknown one.
    std::string_view text(std::uint64_t id) const;

    /// Names process id (ids start at 1, in spawn order); returns the name's
    /// text id.
    std::uint64_t name_process(std::uint64_t process, std::string_view name);
    std::string_view process_name(std::uint64_t process) const;

    /// Writes each event from now on as one JSON line to out (none to stop).
    void write_json_lines_to(std::ostream* out) { json_out_ = out; }
    /// Copies each event from now on into recording too (none to stop).
    void record_into(Recording* recording) { recording_ = recording; }
    Recording* recording() const { return recording_; }
    /// Stops recording (used while a simulation is torn down).
    void stop() { stopped_ = true; }
    /// Whether events are folded into digest() (on by default); off, the
    /// ring of recent events still fills and digest() is 0.
    void set_digest_enabled(bool enabled) { digest_enabled_ = enabled; }

    std::uint64_t digest();
    std::uint64_t event_count() const { return event_count_; }

    /// The last events (at most recent_capacity), oldest first, one per line.
    std::string recent_text(std::size_t max_events = recent_capacity) const;
    std::string format_readable(const TraceEvent& event) const;
    std::string format_json(const TraceEvent& event) const;

    static constexpr std::size_t recent_capacity = 64;

  private:
    /// Folds the events not yet hashed into the digest. Events are hashed a
    /// ring-full at a time: XXH3 streaming gives the same digest however the
    /// bytes are split, and one call per 64 events is much cheaper.
    void flush_hash();
    void write_json(const TraceEvent& event);
    void record_into_recording(const TraceEvent& event);

    /// xxHash's XXH3_state_t, in place (trace.cpp checks that it fits): a
    /// simulation is made per run, and each allocation shows.
    static constexpr std::size_t hash_state_bytes = 576;
    alignas(64) std::byte hash_state_[hash_state_bytes];
    std::array<TraceEvent, recent_capacity> recent_;  ///< only [count - 64, count) are set
    std::uint64_t event_count_ = 0;
    std::uint64_t hashed_count_ = 0;
    TextTable texts_;
    boost::container::small_vector<std::uint64_t, 4> process_names_;  ///< text id per process id
    std::ostream* json_out_ = nullptr;
    Recording* recording_ = nullptr;
    bool stopped_ = false;
    bool digest_enabled_ = true;
};

/// A digest as 16 lowercase hex digits.
std::string digest_to_hex(std::uint64_t digest);

}  // namespace ferry::sim
