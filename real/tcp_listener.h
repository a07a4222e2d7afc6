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
    ///
    /// Out of descriptors, the listener gives up a descriptor it keeps in
    /// reserve to take the waiting client anyway, and says so through
    /// out_of_descriptors(): the caller should answer that client at once
    /// and close it. The reserve is taken back by the next accept().
    std::unique_ptr<TcpConnection> accept(std::optional<Duration> timeout = std::nullopt);
    /// The last accept() returned a client only thanks to the reserve.
    bool out_of_descriptors() const { return out_of_descriptors_; }
    /// Wakes accept() from another thread (or a signal handler: async-signal-safe).
    void interrupt();
    bool interrupted() const;
    /// Closes the listening socket, so new clients are refused at once
    /// rather than queued (graceful shutdown). Not while accept() runs.
    void stop_listening();

  private:
    /// Takes a waiting client with the reserve descriptor; none if there is
    /// no reserve or no client.
    std::unique_ptr<TcpConnection> accept_on_reserve();
    std::unique_ptr<TcpConnection> accept_now(int& error);

    int fd_ = -1;
    int wake_fd_ = -1;     ///< eventfd written by interrupt()
    int reserve_fd_ = -1;  ///< /dev/null, held to be given up when descriptors run out
    bool out_of_descriptors_ = false;
    HostPort local_;
    const Clock& clock_;
};

}  // namespace ferry
