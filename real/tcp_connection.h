#pragma once
// real/ — the same protocol code over POSIX sockets.
//
//   steady_clock.h    the real Clock
//   tcp_connection.h  Connection over a TCP socket; connect_tcp()
//   tcp_listener.h    a listening socket (IPv4 or IPv6) that accepts
//   disk_store.h      a Store confined to one directory, atomic and durable,
//                     reaching the filesystem only through protocol/filesystem.h
//   posix_filesystem.h that door to the kernel (openat2, RESOLVE_BENEATH, flock)
//   faulty_filesystem.h a door that fails the Nth call of another, for tests
//   server.h          ferry serve: the protocol's accept loop, a thread per client
//
// Mirrors sim/: tcp_connection.* <-> sim/sim_connection.*,
// posix_filesystem.* <-> sim/sim_filesystem.*.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "ferry/protocol/connection.h"

namespace ferry {

/// host:port; host may be a name, an IPv4 address, or an IPv6 address in
/// brackets ("[::1]:6789").
struct HostPort {
    std::string host;
    int port = 0;
};

/// Parses "HOST:PORT"; throws std::invalid_argument naming the bad part.
HostPort parse_host_port(const std::string& text);
std::string format_host_port(const HostPort& address);

class TcpConnection : public Connection {
  public:
    /// Takes ownership of a connected socket.
    TcpConnection(int fd, std::string peer_name, const Clock& clock);
    ~TcpConnection() override;

    /// send() and recv() with their deadline given, not read from this
    /// connection's timeout and deadline: a decorator whose sends and
    /// receives run on two threads passes its own (one thread may send while
    /// another receives; TcpConnection keeps no other per-call state).
    std::size_t send_until(std::span<const std::byte> bytes, Deadline deadline);
    std::size_t recv_until(std::span<std::byte> buffer, Deadline deadline);
    void shutdown_send() override;
    void close() override;
    std::string peer_name() const override { return peer_name_; }

    /// Closes with SO_LINGER 0, so the peer sees a reset. Idempotent.
    void reset();
    /// Shuts the socket down both ways from another thread, waking a call
    /// blocked in send or recv (which then fails with ErrorKind::closed, as
    /// does every later call). Never closes the descriptor, so it cannot hit a
    /// reused one. Thread-safe; for stopping a server.
    void interrupt();
    /// The socket, or -1 once closed. Only for the thread that owns this.
    int fd() const { return fd_; }

  protected:
    std::size_t do_send(std::span<const std::byte> bytes) override;
    std::size_t do_recv(std::span<std::byte> buffer) override;
    /// sendfile(2) from the file's descriptor (FileReader::descriptor), as
    /// much as the socket takes now; none when the file has no descriptor or
    /// sendfile cannot read it (the caller's read then reports why).
    std::optional<std::size_t> do_send_file(const FileReader& file, std::uint64_t offset,
                                            std::uint64_t count) override;

  private:
    /// Throws ErrorKind::closed unless this side may still send.
    void check_can_send(const char* call) const;
    /// Makes the socket non-blocking (once), so sendfile takes what fits now
    /// and waits in poll, within the deadline, like send.
    void make_non_blocking();
    /// Throws ErrorKind::closed if close(), reset() or interrupt() came first.
    void check_open(const char* call) const;
    /// Waits until the socket is ready for events or deadline passes
    /// (ErrorKind::timed_out).
    void wait_ready(short events, Deadline deadline, const char* call);
    [[noreturn]] void fail(int error, const char* call) const;
    void close_fd(bool with_reset);

    int fd_;  ///< written only by the owning thread, under fd_mutex_
    std::string peer_name_;
    std::mutex fd_mutex_;  ///< orders close() against interrupt() from another thread
    std::atomic<bool> interrupted_{false};
    bool send_shut_down_ = false;
    bool non_blocking_ = false;  ///< known to be, by make_non_blocking
};

/// Connects to address within timeout (none = the kernel's own). Throws
/// ConnectionError: refused, timed_out, or reset for other failures, with a
/// message naming the address.
std::unique_ptr<TcpConnection> connect_tcp(const HostPort& address, const Clock& clock,
                                           std::optional<Duration> timeout = std::nullopt);

}  // namespace ferry
