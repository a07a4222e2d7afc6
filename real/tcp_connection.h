#pragma once
// real/ — the same protocol code over POSIX sockets.
//
//   steady_clock.h    the real Clock
//   tcp_connection.h  Connection over a TCP socket; connect_tcp()
//   tcp_listener.h    a listening socket (IPv4 or IPv6) that accepts
//   disk_store.h      a Store confined to one directory, atomic and durable
//   server.h          ferry serve: accept loop, a thread per client, limits
//
// Mirrors sim/: tcp_connection.* <-> sim/sim_connection.*.

#include <memory>
#include <string>

#include "protocol/connection.h"

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

    std::size_t send(std::span<const std::byte> bytes) override;
    std::size_t recv(std::span<std::byte> buffer) override;
    void shutdown_send() override;
    void close() override;
    std::string peer_name() const override { return peer_name_; }

    /// Closes with SO_LINGER 0, so the peer sees a reset.
    void reset();
    /// Shuts the socket down both ways from another thread, waking a call
    /// blocked in send or recv (which then fails). For stopping a server.
    void interrupt();
    int fd() const { return fd_; }

private:
    void wait_ready(short events, const char* call);

    int fd_;
    std::string peer_name_;
};

/// Connects to address within timeout (none = the kernel's own). Throws
/// ConnectionError: refused, timed_out, or reset for other failures, with a
/// message naming the address.
std::unique_ptr<TcpConnection> connect_tcp(const HostPort& address, const Clock& clock,
                                           std::optional<Duration> timeout = std::nullopt);

}  // namespace ferry
