#pragma once
// protocol/ — protocol logic written once, in blocking style.
//
//   clock.h        the runtime's clock and deadlines (no wall clock here)
//   connection.h   the Connection contract and the helpers built on it
//   store.h        the Store interface (uploads, readers, listing)
//   filesystem.h   the door every filesystem call of a disk store goes through
//   listener.h     where a server gets connections; task_runner.h, how it
//                  runs them concurrently (threads, simulated processes)
//   accept_loop.h  a server's accept loop: connection limit and refusals
//   memory_store.h an in-memory Store for tests
//   names.h        which file names ferry/1 accepts
//   printable.h    text from a peer made safe for a terminal or a log
//   digest.h       XXH3-128 digests as 32 hex digits
//   naive.h        the textbook chapter's chunked upload, bugs included
//   ferry_wire.h   ferry/1 header lines: parsing and formatting
//   ferry_server.h ferry/1 request handling for one connection
//   ferry_client.h ferry/1 PUT, GET and DIR from the client side
//
// Nothing here knows about sim/ or real/: both implement Connection, Clock and
// Store, and run this code unchanged.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ferry/protocol/call_site.h"
#include "ferry/protocol/clock.h"

namespace ferry {

class FileReader;

/// Why a connection operation failed.
enum class ErrorKind {
    reset,      ///< the peer reset the connection (RST, broken pipe)
    timed_out,  ///< the deadline or per-call timeout passed with nothing moved
    refused,    ///< nobody listens at the address connected to
    closed,     ///< this side already closed the connection (or shut down sending)
};

std::string_view to_string(ErrorKind kind);

class ConnectionError : public std::runtime_error {
  public:
    ConnectionError(ErrorKind kind, const std::string& message)
        : std::runtime_error(message), kind_(kind) {}
    ErrorKind kind() const { return kind_; }

  private:
    ErrorKind kind_;
};

/// One end of a reliable, ordered byte stream (TCP or its simulation).
///
/// The contract, which every implementation honours and the simulator
/// exercises to the full:
/// - send(bytes) takes *some* of the bytes, at least one unless given none,
///   and returns how many; it blocks while none can be taken (the peer is not
///   reading and the buffers are full). Callers that need all of it sent use
///   send_all().
/// - recv(buffer) returns how many bytes arrived, at least one, or 0 at end of
///   stream (the peer shut down sending or closed); it blocks while none are
///   available. It may return fewer bytes than asked for even when more are on
///   the way: short reads are normal. recv with an empty buffer returns 0.
/// - shutdown_send() half-closes: the peer's recv returns 0 once it has read
///   everything sent before. This side can still recv.
/// - close() releases the connection; it is idempotent. Later calls fail with
///   ErrorKind::closed.
/// - Failures throw ConnectionError with a kind. A blocking call that has
///   moved nothing when its deadline passes throws ErrorKind::timed_out; the
///   deadline of a call is the earlier of set_deadline()'s instant and
///   set_timeout()'s duration after the call started.
///
/// Implementations override do_send() and do_recv(); callers call send() and
/// recv(), which note where in the caller's source the call was made (a
/// simulated deadlock report then says "blocked in recv at kv.cpp:42"). A
/// decorator passes the place on: inner.recv(buffer, recv_site()).
class Connection {
  public:
    explicit Connection(const Clock& clock) : clock_(&clock) {}
    virtual ~Connection() = default;
    Connection(const Connection&) = delete;
    Connection& operator=(const Connection&) = delete;

    /// Leave where defaulted: it is the caller's place in its source.
    std::size_t send(std::span<const std::byte> bytes, CallSite where = CallSite::current()) {
        send_site_ = where;
        return do_send(bytes);
    }
    std::size_t recv(std::span<std::byte> buffer, CallSite where = CallSite::current()) {
        recv_site_ = where;
        return do_recv(buffer);
    }
    /// Sends some of the count bytes of file at offset straight from the
    /// file, where the connection can (a kernel socket: sendfile(2)): how many
    /// were taken, at least one unless count is 0, as send() would. None when
    /// it cannot, for this file or at all (the default): the caller then reads
    /// the bytes and send()s them. Throws ConnectionError as send() does.
    std::optional<std::size_t> send_file(const FileReader& file, std::uint64_t offset,
                                         std::uint64_t count,
                                         CallSite where = CallSite::current()) {
        send_site_ = where;
        return do_send_file(file, offset, count);
    }
    virtual void shutdown_send() = 0;
    virtual void close() = 0;
    /// The peer, in words, for messages: "127.0.0.1:6789", "server".
    virtual std::string peer_name() const = 0;

    /// How long one blocking call may wait with nothing moved; none = for ever.
    void set_timeout(std::optional<Duration> per_call) { timeout_ = per_call; }
    /// An instant after which every blocking call fails; none = no deadline.
    void set_deadline(Deadline deadline) { deadline_ = deadline; }
    const Clock& clock() const { return *clock_; }

  protected:
    virtual std::size_t do_send(std::span<const std::byte> bytes) = 0;
    virtual std::size_t do_recv(std::span<std::byte> buffer) = 0;
    virtual std::optional<std::size_t> do_send_file(const FileReader& file, std::uint64_t offset,
                                                    std::uint64_t count) {
        (void)file;
        (void)offset;
        (void)count;
        return std::nullopt;
    }

    /// Where the send() or recv() in progress was called from.
    const CallSite& send_site() const { return send_site_; }
    const CallSite& recv_site() const { return recv_site_; }

    /// The deadline for a blocking call that starts now.
    Deadline call_deadline() const {
        Deadline per_call;
        if (timeout_)
            per_call = clock_->now() + *timeout_;
        return earliest(deadline_, per_call);
    }

  private:
    const Clock* clock_;
    std::optional<Duration> timeout_;
    Deadline deadline_;
    CallSite send_site_;
    CallSite recv_site_;
};

/// The peer broke the protocol: a line too long, the stream ended early.
class ProtocolError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Each helper's where is its caller's place in its source (see Connection):
// leave it defaulted.

/// Sends every byte, calling send() until all are taken (the chapter's loop).
void send_all(Connection& conn, std::span<const std::byte> bytes,
              CallSite where = CallSite::current());
void send_all(Connection& conn, std::string_view text, CallSite where = CallSite::current());

/// Receives exactly buffer.size() bytes unless the stream ends first; returns
/// how many arrived (fewer only at end of stream).
std::size_t recv_exact(Connection& conn, std::span<std::byte> buffer,
                       CallSite where = CallSite::current());

/// Receives one line ending in '\n' and returns it without the '\n'. Reads one
/// byte at a time so that nothing after the newline is consumed. Returns none
/// when the stream ends before the first byte; throws ProtocolError when the
/// stream ends mid-line or the line (with its '\n') exceeds max_bytes.
std::optional<std::string> recv_line(Connection& conn, std::size_t max_bytes,
                                     CallSite where = CallSite::current());

/// Views text as bytes, and bytes as text.
inline std::span<const std::byte> as_bytes(std::string_view text) {
    return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}
inline std::string_view as_text(std::span<const std::byte> bytes) {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

}  // namespace ferry
