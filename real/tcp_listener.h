#pragma once
// A listening TCP socket on IPv4 or IPv6.

#include <memory>
#include <optional>

#include "ferry/protocol/clock.h"
#include "ferry/real/tcp_connection.h"

namespace ferry {

class TcpListener {
  public:
    /// Binds and listens on address (port 0 = the kernel chooses). Throws
    /// std::system_error naming the address.
    TcpListener(const HostPort& address, const Clock& clock, int backlog = 512);
    ~TcpListener();
    TcpListener(const TcpListener&) = delete;
    TcpListener& operator=(const TcpListener&) = delete;

    /// The address actually bound (with the kernel's port for port 0).
    HostPort local_address() const { return local_; }
    /// Waits for a client until timeout (none = for ever); returns none on
    /// timeout or once interrupt() was called.
    std::unique_ptr<TcpConnection> accept(std::optional<Duration> timeout = std::nullopt);
    /// Wakes accept() from another thread (or a signal handler: async-signal-safe).
    void interrupt();
    bool interrupted() const;
    /// Closes the listening socket, so new clients are refused at once
    /// rather than queued (graceful shutdown). Not while accept() runs.
    void stop_listening();

  private:
    int fd_ = -1;
    int wake_fd_ = -1;  ///< eventfd written by interrupt()
    HostPort local_;
    const Clock& clock_;
};

}  // namespace ferry
