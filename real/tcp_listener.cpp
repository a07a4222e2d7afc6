#include "ferry/real/tcp_listener.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <system_error>

#include <fmt/core.h>

#include "ferry/real/poll_wait.h"

namespace ferry {

namespace {

/// The numeric host and port of a socket address.
HostPort numeric_address(const sockaddr* address, socklen_t length) {
    char host[NI_MAXHOST];
    char port[NI_MAXSERV];
    if (::getnameinfo(address, length, host, sizeof host, port, sizeof port,
                      NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
        return HostPort{"?", 0};
    }
    return HostPort{host, std::atoi(port)};
}

[[noreturn]] void throw_system(int error, const std::string& what) {
    throw std::system_error(error, std::generic_category(), what);
}

using AddressList = std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)>;

/// The addresses to listen on for address (named name in errors).
AddressList resolve_passive(const HostPort& address, const std::string& name) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(address.port);
    const int status = ::getaddrinfo(address.host.empty() ? nullptr : address.host.c_str(),
                                     port.c_str(), &hints, &found);
    const int error = errno;
    if (status == EAI_SYSTEM && error != 0)
        throw_system(error,
                     fmt::format("listen on {}: cannot resolve host '{}'", name, address.host));
    if (status != 0) {
        // Not an errno: std::system_error would append an unrelated one's text.
        throw std::runtime_error(fmt::format("listen on {}: cannot resolve host '{}': {}", name,
                                             address.host, gai_strerror(status)));
    }
    return AddressList(found, &::freeaddrinfo);
}

}  // namespace

TcpListener::TcpListener(const HostPort& address, const Clock& clock, int backlog) : clock_(clock) {
    const std::string name = format_host_port(address);
    if (address.port < 0 || address.port > 65535) {
        throw_system(EINVAL, fmt::format("listen on {}: port out of range 0-65535", name));
    }
    const AddressList addresses = resolve_passive(address, name);
    const addrinfo* found = addresses.get();

    int error = EADDRNOTAVAIL;
    const char* failed_call = "bind";
    for (const addrinfo* candidate = found; candidate != nullptr; candidate = candidate->ai_next) {
        const int fd =
            ::socket(candidate->ai_family, candidate->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                     candidate->ai_protocol);
        if (fd < 0) {
            error = errno;
            failed_call = "socket";
            continue;
        }
        const int on = 1;
        ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        if (::bind(fd, candidate->ai_addr, candidate->ai_addrlen) != 0) {
            error = errno;
            failed_call = "bind";
            ::close(fd);
            continue;
        }
        if (::listen(fd, backlog) != 0) {
            error = errno;
            failed_call = "listen";
            ::close(fd);
            continue;
        }
        fd_ = fd;
        break;
    }
    if (fd_ < 0)
        throw_system(error, fmt::format("{} on {}", failed_call, name));

    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&bound), &length) != 0) {
        error = errno;
        ::close(fd_);
        throw_system(error, fmt::format("getsockname on {}", name));
    }
    local_ = numeric_address(reinterpret_cast<const sockaddr*>(&bound), length);

    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wake_fd_ < 0) {
        error = errno;
        ::close(fd_);
        throw_system(error, fmt::format("eventfd for listener on {}", name));
    }
    reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
}

TcpListener::~TcpListener() {
    stop_listening();
    ::close(wake_fd_);
    if (reserve_fd_ >= 0)
        ::close(reserve_fd_);
}

void TcpListener::stop_listening() {
    if (fd_ >= 0)
        ::close(fd_);
    fd_ = -1;
}

std::unique_ptr<TcpConnection> TcpListener::accept_now(int& error) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    const int fd =
        ::accept4(fd_, reinterpret_cast<sockaddr*>(&peer), &length, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd < 0) {
        error = errno;
        return nullptr;
    }
    const HostPort peer_address = numeric_address(reinterpret_cast<const sockaddr*>(&peer), length);
    return std::make_unique<TcpConnection>(fd, format_host_port(peer_address), clock_);
}

std::unique_ptr<TcpConnection> TcpListener::accept_on_reserve() {
    if (reserve_fd_ < 0)
        return nullptr;
    ::close(reserve_fd_);
    reserve_fd_ = -1;
    int error = 0;
    auto conn = accept_now(error);
    out_of_descriptors_ = conn != nullptr;
    if (!conn)  // nobody waiting after all: keep the reserve
        reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    return conn;
}

std::unique_ptr<TcpConnection> TcpListener::accept(std::optional<Duration> timeout) {
    Deadline deadline;
    if (timeout)
        deadline = clock_.now() + *timeout;
    out_of_descriptors_ = false;
    if (reserve_fd_ < 0)  // given up for the last client; fails while still out
        reserve_fd_ = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    for (;;) {
        if (interrupted() || fd_ < 0)
            return nullptr;
        int error = 0;
        if (auto conn = accept_now(error))
            return conn;
        Deadline wait_until = deadline;
        bool out_of_resources = false;
        switch (error) {
            case EAGAIN:
#if EAGAIN != EWOULDBLOCK
            case EWOULDBLOCK:
#endif
                break;
            case EINTR:
            case ECONNABORTED:
            case EPROTO:
                continue;
            case EMFILE:
            case ENFILE:
                if (auto conn = accept_on_reserve())
                    return conn;
                [[fallthrough]];
            case ENOBUFS:
            case ENOMEM:
                // Out of descriptors or memory: the pending client stays
                // queued. Wait a little for others to finish rather than spin.
                out_of_resources = true;
                wait_until = earliest(deadline, clock_.now() + std::chrono::milliseconds(100));
                break;
            default:
                throw_system(error, fmt::format("accept on {}", format_host_port(local_)));
        }
        pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {fd_, POLLIN, 0}};
        // Out of resources, only the wake descriptor is worth watching.
        const bool ready =
            detail::poll_until(std::span(fds, out_of_resources ? 1 : 2), wait_until, clock_);
        if (!ready && detail::deadline_passed(deadline, clock_))
            return nullptr;
    }
}

void TcpListener::interrupt() {
    // Async-signal-safe: one write(2), and errno is left as it was.
    const int saved_errno = errno;
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t written = ::write(wake_fd_, &one, sizeof one);
    errno = saved_errno;
}

bool TcpListener::interrupted() const {
    pollfd fds[1] = {{wake_fd_, POLLIN, 0}};
    int ready;
    do {
        ready = ::poll(fds, 1, 0);
    } while (ready < 0 && errno == EINTR);
    return ready > 0 && (fds[0].revents & POLLIN) != 0;
}

}  // namespace ferry
