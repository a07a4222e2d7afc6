#pragma once
// The state of one simulated TCP connection, shared by its two SimConnection
// ends and the SimNetwork that moves its bytes. Internal to sim/.
//
// Each direction is one stream of bytes with four offsets, in order:
//   read <= delivered <= transmitted <= written
// [read, delivered) sits in the receiver's buffer, [delivered, transmitted)
// is in flight, [transmitted, written) waits in the sender's send buffer. The
// receive window bounds transmitted - read, the send buffer bounds
// written - transmitted. Segments carry no bytes, only the offset they end
// at: the bytes stay in one ring per direction.

#include <array>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "ferry/protocol/clock.h"
#include "ferry/sim/faults.h"
#include "ferry/sim/simulation.h"

namespace ferry::sim {

/// Bytes addressed by stream offset; grows (by powers of two) as needed.
class ByteRing {
  public:
    /// Stores bytes at offset at; [live_begin, at) must survive.
    void write(std::uint64_t live_begin, std::uint64_t at, std::span<const std::byte> bytes) {
        const std::uint64_t needed = at + bytes.size() - live_begin;
        if (needed > capacity_)
            grow(live_begin, at, needed);
        copy_in(at, bytes);
    }
    /// Frees the ring; only when no byte in it is live. A connection's
    /// streams are mostly empty between requests, and thousands of
    /// connections at a few KiB each add up.
    void release() {
        data_.reset();
        capacity_ = 0;
    }
    /// Flips the bits of mask in the byte at offset at (a corruption fault).
    void flip(std::uint64_t at, std::byte mask) { data_[at & (capacity_ - 1)] ^= mask; }
    /// Copies out.size() bytes starting at offset at.
    void read(std::uint64_t at, std::span<std::byte> out) const {
        if (out.empty())
            return;  // and a released ring has no bytes to point into
        const std::uint64_t start = at & (capacity_ - 1);
        const std::uint64_t first = std::min<std::uint64_t>(out.size(), capacity_ - start);
        std::memcpy(out.data(), data_.get() + start, first);
        if (first < out.size())
            std::memcpy(out.data() + first, data_.get(), out.size() - first);
    }

  private:
    void copy_in(std::uint64_t at, std::span<const std::byte> bytes) {
        if (bytes.empty())
            return;
        const std::uint64_t start = at & (capacity_ - 1);
        const std::uint64_t first = std::min<std::uint64_t>(bytes.size(), capacity_ - start);
        std::memcpy(data_.get() + start, bytes.data(), first);
        if (first < bytes.size()) {
            std::memcpy(data_.get(), bytes.data() + first, bytes.size() - first);
        }
    }
    void grow(std::uint64_t live_begin, std::uint64_t live_end, std::uint64_t needed) {
        // From the first write's size up (a reply stream of a few dozen
        // bytes should not take 4 KiB), doubling from then on.
        std::uint64_t capacity = capacity_ == 0 ? 256 : capacity_;
        while (capacity < needed)
            capacity *= 2;
        ByteRing bigger;
        bigger.data_ = std::make_unique_for_overwrite<std::byte[]>(capacity);
        bigger.capacity_ = capacity;
        // The live bytes, in at most two pieces of this ring, go straight to
        // their places in the bigger one.
        for (std::uint64_t at = live_begin; at < live_end;) {
            const std::uint64_t start = at & (capacity_ - 1);
            const std::uint64_t piece = std::min(live_end - at, capacity_ - start);
            bigger.copy_in(at, std::span<const std::byte>(data_.get() + start, piece));
            at += piece;
        }
        *this = std::move(bigger);
    }

    std::unique_ptr<std::byte[]> data_;
    std::uint64_t capacity_ = 0;
};

/// One direction of a connection, named by the side that sends on it.
struct SimStream {
    ByteRing bytes;
    std::uint64_t read = 0;         ///< taken by the receiver's recv()
    std::uint64_t delivered = 0;    ///< arrived at the receiver
    std::uint64_t transmitted = 0;  ///< put on the wire
    std::uint64_t written = 0;      ///< taken by the sender's send()
    bool fin_queued = false;        ///< the sender shut down; FIN follows written
    bool fin_transmitted = false;
    bool fin_delivered = false;
    Instant last_arrival;  ///< segments arrive in the order sent
    WaitQueue readers;     ///< the receiver, blocked in recv()
    WaitQueue writers;     ///< the sender, blocked in send()
};

/// Whether the sender has bytes or a FIN not yet on the wire.
inline bool has_unsent(const SimStream& stream) {
    return stream.transmitted < stream.written || (stream.fin_queued && !stream.fin_transmitted);
}

/// One end's state.
struct SimEndpoint {
    ProcessId owner = 0;  ///< the process that connected or accepted it
    std::string address;
    bool send_shut = false;  ///< shutdown_send() or close() was called
    bool closed = false;     ///< close() or reset(): later calls fail with closed
    bool reset = false;      ///< an RST arrived (or a reset fault fired here)
    /// The reset came from the peer (an RST arrived): like a kernel, recv()
    /// still returns what had arrived before it, then fails with reset.
    bool reset_by_peer = false;
    bool rst_sent = false;
    std::uint64_t bytes_read = 0;   ///< by recv(), for stalls
    std::uint64_t bytes_moved = 0;  ///< by send() and recv(), for reset faults
    bool stall_started = false;
    Instant stall_began;
};

enum class LinkPhase { connecting, established, refused, abandoned };

struct SimLink {
    std::uint64_t id = 0;
    LinkPhase phase = LinkPhase::connecting;
    bool refuse = false;  ///< a refused_connects fault fired for this connect
    std::string server_address;
    std::array<SimStream, 2> streams;  ///< by sending side
    std::array<SimEndpoint, 2> ends;
    WaitQueue connect_waiters;

    SimStream& from(Side side) { return streams[index_of(side)]; }
    SimStream& to(Side side) { return streams[index_of(other(side))]; }
    SimEndpoint& end(Side side) { return ends[index_of(side)]; }
    const SimStream& from(Side side) const { return streams[index_of(side)]; }
    const SimStream& to(Side side) const { return streams[index_of(other(side))]; }
    const SimEndpoint& end(Side side) const { return ends[index_of(side)]; }
};

}  // namespace ferry::sim
