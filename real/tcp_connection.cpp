#include "ferry/real/tcp_connection.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <system_error>

#include <fmt/core.h>

#include "ferry/protocol/store.h"
#include "ferry/real/poll_wait.h"

namespace ferry {

namespace {

/// Holds back the SIGPIPE that sendfile(2) raises on a socket that can no
/// longer send (send has MSG_NOSIGNAL; sendfile has no such flag), so a
/// program that did not ignore SIGPIPE gets a ConnectionError, not death:
/// blocked on this thread for the scope, then taken if this scope raised it.
class SigpipeHeldBack {
  public:
    SigpipeHeldBack() {
        sigemptyset(&sigpipe_);
        sigaddset(&sigpipe_, SIGPIPE);
        pthread_sigmask(SIG_BLOCK, &sigpipe_, &old_mask_);
        was_pending_ = is_pending();
    }
    ~SigpipeHeldBack() {
        if (!was_pending_ && is_pending()) {
            const timespec now{0, 0};
            while (sigtimedwait(&sigpipe_, nullptr, &now) < 0 && errno == EINTR) {
            }
        }
        pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    }
    SigpipeHeldBack(const SigpipeHeldBack&) = delete;
    SigpipeHeldBack& operator=(const SigpipeHeldBack&) = delete;

  private:
    bool is_pending() const {
        sigset_t pending;
        sigemptyset(&pending);
        return sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1;
    }

    sigset_t sigpipe_{};
    sigset_t old_mask_{};
    bool was_pending_ = false;
};

std::string error_text(int error) {
    return std::generic_category().message(error);
}

ErrorKind kind_of(int error) {
    return error == ECONNREFUSED ? ErrorKind::refused : ErrorKind::reset;
}

int parse_port(std::string_view port, const std::string& text) {
    if (port.empty()) {
        throw std::invalid_argument(fmt::format("missing port after ':' in address '{}'", text));
    }
    int value = 0;
    const auto [end, error] = std::from_chars(port.data(), port.data() + port.size(), value);
    const bool all_digits = port.find_first_not_of("0123456789") == std::string_view::npos;
    if (!all_digits || end != port.data() + port.size()) {
        throw std::invalid_argument(
            fmt::format("port '{}' is not a decimal number in address '{}'", port, text));
    }
    if (error == std::errc::result_out_of_range || value > 65535) {
        throw std::invalid_argument(
            fmt::format("port {} is out of range 0-65535 in address '{}'", port, text));
    }
    return value;
}

}  // namespace

HostPort parse_host_port(const std::string& text) {
    if (text.empty())
        throw std::invalid_argument("empty address: expected HOST:PORT");
    std::string_view rest = text;
    HostPort result;
    if (rest.front() == '[') {
        const auto close = rest.find(']');
        if (close == std::string_view::npos) {
            throw std::invalid_argument(
                fmt::format("missing ']' after IPv6 address in '{}'", text));
        }
        result.host = std::string(rest.substr(1, close - 1));
        if (result.host.empty()) {
            throw std::invalid_argument(fmt::format("empty host in '[]' in address '{}'", text));
        }
        rest.remove_prefix(close + 1);
        if (rest.empty() || rest.front() != ':') {
            throw std::invalid_argument(
                fmt::format("missing ':' between host and port in address '{}'", text));
        }
        rest.remove_prefix(1);
    } else {
        const auto colon = rest.rfind(':');
        if (colon == std::string_view::npos) {
            throw std::invalid_argument(
                fmt::format("missing ':' between host and port in address '{}'", text));
        }
        if (rest.substr(0, colon).find(':') != std::string_view::npos) {
            throw std::invalid_argument(fmt::format(
                "IPv6 address must be in brackets, as in '[::1]:6789', in address '{}'", text));
        }
        result.host = std::string(rest.substr(0, colon));
        if (result.host.empty()) {
            throw std::invalid_argument(
                fmt::format("missing host before ':' in address '{}'", text));
        }
        rest.remove_prefix(colon + 1);
    }
    result.port = parse_port(rest, text);
    return result;
}

std::string format_host_port(const HostPort& address) {
    if (address.host.find(':') != std::string::npos) {
        return fmt::format("[{}]:{}", address.host, address.port);
    }
    return fmt::format("{}:{}", address.host, address.port);
}

TcpConnection::TcpConnection(int fd, std::string peer_name, const Clock& clock)
    : Connection(clock), fd_(fd), peer_name_(std::move(peer_name)) {
    // Small writes (header lines) go out at once rather than waiting for an
    // ACK. Fails harmlessly on sockets that are not TCP.
    const int on = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

TcpConnection::~TcpConnection() {
    close();
}

void TcpConnection::check_open(const char* call) const {
    if (fd_ < 0) {
        throw ConnectionError(
            ErrorKind::closed,
            fmt::format("{} on connection to {}: already closed", call, peer_name_));
    }
    if (interrupted_.load()) {
        throw ConnectionError(ErrorKind::closed,
                              fmt::format("{} on connection to {}: interrupted", call, peer_name_));
    }
}

void TcpConnection::fail(int error, const char* call) const {
    throw ConnectionError(kind_of(error), fmt::format("{} on connection to {}: {}", call,
                                                      peer_name_, error_text(error)));
}

void TcpConnection::wait_ready(short events, Deadline deadline, const char* call) {
    pollfd fds[1] = {{fd_, events, 0}};
    bool ready = false;
    try {
        ready = detail::poll_until(fds, deadline, clock());
    } catch (const std::system_error& e) {
        fail(e.code().value(), call);
    }
    check_open(call);  // woken by interrupt()
    if (!ready) {
        throw ConnectionError(ErrorKind::timed_out,
                              fmt::format("{} on connection to {}: timed out", call, peer_name_));
    }
}

std::size_t TcpConnection::do_send(std::span<const std::byte> bytes) {
    return send_until(bytes, call_deadline());
}

void TcpConnection::check_can_send(const char* call) const {
    check_open(call);
    if (send_shut_down_) {
        throw ConnectionError(
            ErrorKind::closed,
            fmt::format("{} on connection to {}: sending already shut down", call, peer_name_));
    }
}

std::size_t TcpConnection::send_until(std::span<const std::byte> bytes, Deadline deadline) {
    check_can_send("send");
    if (bytes.empty())
        return 0;
    for (;;) {
        const ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
        if (sent > 0)
            return static_cast<std::size_t>(sent);
        if (sent < 0 && errno == EINTR)
            continue;
        if (sent < 0 && errno != EAGAIN && errno != EWOULDBLOCK)
            fail(errno, "send");
        wait_ready(POLLOUT, deadline, "send");
    }
}

void TcpConnection::make_non_blocking() {
    if (non_blocking_)
        return;
    const int flags = ::fcntl(fd_, F_GETFL);
    if (flags < 0 || ((flags & O_NONBLOCK) == 0 && ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK) != 0))
        fail(errno, "sendfile");
    non_blocking_ = true;
}

std::optional<std::size_t> TcpConnection::do_send_file(const FileReader& file, std::uint64_t offset,
                                                       std::uint64_t count) {
    const int file_fd = file.descriptor();
    if (file_fd < 0 || offset > static_cast<std::uint64_t>(std::numeric_limits<off_t>::max()))
        return std::nullopt;
    check_can_send("sendfile");
    if (count == 0)
        return 0;
    make_non_blocking();
    // Linux moves at most this much in one call.
    constexpr std::uint64_t sendfile_bytes_max = 0x7ffff000;
    const auto bytes = static_cast<std::size_t>(std::min(count, sendfile_bytes_max));
    const Deadline deadline = call_deadline();
    for (;;) {
        auto at = static_cast<off_t>(offset);
        ssize_t sent = 0;
        int error = 0;
        {
            const SigpipeHeldBack held_back;
            sent = ::sendfile(fd_, file_fd, &at, bytes);
            error = errno;
        }
        if (sent > 0)
            return static_cast<std::size_t>(sent);
        if (sent == 0)
            return std::nullopt;  // the file ended early: the caller's read says so
        if (error == EINTR)
            continue;
        if (error == EAGAIN || error == EWOULDBLOCK) {
            wait_ready(POLLOUT, deadline, "sendfile");
            continue;
        }
        if (error == EPIPE || error == ECONNRESET || error == ENOTCONN || error == ETIMEDOUT)
            fail(error, "sendfile");
        // EIO, EINVAL, ENOSYS, ...: the file's side, which read_at reports.
        return std::nullopt;
    }
}

std::size_t TcpConnection::do_recv(std::span<std::byte> buffer) {
    return recv_until(buffer, call_deadline());
}

std::size_t TcpConnection::recv_until(std::span<std::byte> buffer, Deadline deadline) {
    check_open("recv");
    if (buffer.empty())
        return 0;
    for (;;) {
        const ssize_t received = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
        if (received >= 0) {
            // After interrupt() the kernel reports end of stream; say why.
            if (received == 0)
                check_open("recv");
            return static_cast<std::size_t>(received);
        }
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            fail(errno, "recv");
        wait_ready(POLLIN, deadline, "recv");
    }
}

void TcpConnection::shutdown_send() {
    check_open("shutdown_send");
    if (send_shut_down_)
        return;
    if (::shutdown(fd_, SHUT_WR) != 0)
        fail(errno, "shutdown_send");
    send_shut_down_ = true;
}

void TcpConnection::close_fd(bool with_reset) {
    std::lock_guard lock(fd_mutex_);
    if (fd_ < 0)
        return;
    if (with_reset) {
        const linger abortive{1, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &abortive, sizeof abortive);
    }
    ::close(fd_);  // no retry on EINTR: on Linux the descriptor is gone either way
    fd_ = -1;
}

void TcpConnection::close() {
    close_fd(false);
}

void TcpConnection::reset() {
    close_fd(true);
}

void TcpConnection::interrupt() {
    std::lock_guard lock(fd_mutex_);
    interrupted_.store(true);
    if (fd_ >= 0)
        ::shutdown(fd_, SHUT_RDWR);
}

namespace {

/// Connects one socket to one resolved address; returns the descriptor, or -1
/// with error set (timed_out is signalled by ETIMEDOUT).
int connect_one(const addrinfo& address, Deadline deadline, const Clock& clock, int& error) {
    const int fd = ::socket(address.ai_family, address.ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK,
                            address.ai_protocol);
    if (fd < 0) {
        error = errno;
        return -1;
    }
    if (::connect(fd, address.ai_addr, address.ai_addrlen) == 0)
        return fd;
    if (errno != EINPROGRESS && errno != EINTR) {
        error = errno;
        ::close(fd);
        return -1;
    }
    pollfd fds[1] = {{fd, POLLOUT, 0}};
    bool ready = false;
    try {
        ready = detail::poll_until(fds, deadline, clock);
    } catch (const std::system_error& e) {
        error = e.code().value();
        ::close(fd);
        return -1;
    }
    if (!ready) {
        error = ETIMEDOUT;
        ::close(fd);
        return -1;
    }
    int so_error = 0;
    socklen_t length = sizeof so_error;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &length) != 0)
        so_error = errno;
    if (so_error != 0) {
        error = so_error;
        ::close(fd);
        return -1;
    }
    return fd;
}

}  // namespace

std::unique_ptr<TcpConnection> connect_tcp(const HostPort& address, const Clock& clock,
                                           std::optional<Duration> timeout) {
    const std::string name = format_host_port(address);
    if (address.port < 0 || address.port > 65535) {
        throw std::invalid_argument(
            fmt::format("port {} is out of range 0-65535 in address '{}'", address.port, name));
    }
    Deadline deadline;
    if (timeout)
        deadline = clock.now() + *timeout;

    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(address.port);
    const int status = ::getaddrinfo(address.host.empty() ? nullptr : address.host.c_str(),
                                     port.c_str(), &hints, &found);
    if (status != 0) {
        const std::string reason = status == EAI_SYSTEM ? error_text(errno) : gai_strerror(status);
        throw ConnectionError(
            ErrorKind::reset,
            fmt::format("connect to {}: cannot resolve host '{}': {}", name, address.host, reason));
    }
    std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, &::freeaddrinfo);

    int error = EADDRNOTAVAIL;
    for (const addrinfo* candidate = found; candidate != nullptr; candidate = candidate->ai_next) {
        const int fd = connect_one(*candidate, deadline, clock, error);
        if (fd >= 0)
            return std::make_unique<TcpConnection>(fd, name, clock);
        if (error == ETIMEDOUT && detail::deadline_passed(deadline, clock))
            break;
    }
    if (error == ETIMEDOUT) {
        throw ConnectionError(ErrorKind::timed_out, fmt::format("connect to {}: timed out", name));
    }
    throw ConnectionError(kind_of(error),
                          fmt::format("connect to {}: {}", name, error_text(error)));
}

}  // namespace ferry
