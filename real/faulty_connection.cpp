#include "ferry/real/faulty_connection.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>

#include <fmt/core.h>

namespace ferry {

/// Marks the connection as blocked in a call for as long as it lives.
class FaultyConnection::BlockedIn {
  public:
    BlockedIn(FaultyConnection& conn, Blocked& state, const char* call, Deadline deadline)
        : conn_(conn), state_(state) {
        std::lock_guard lock(conn_.mutex_);
        state_.call = call;
        state_.deadline = deadline;
    }
    ~BlockedIn() {
        std::lock_guard lock(conn_.mutex_);
        state_.call = nullptr;
    }
    BlockedIn(const BlockedIn&) = delete;
    BlockedIn& operator=(const BlockedIn&) = delete;

  private:
    FaultyConnection& conn_;
    Blocked& state_;
};

std::uint64_t FaultyConnection::choose(std::uint64_t bound) {
    std::lock_guard lock(mutex_);
    return choose_(bound);
}

void ConnectionWatch::add(FaultyConnection* conn) {
    std::lock_guard lock(mutex_);
    connections_.push_back(conn);
}

void ConnectionWatch::remove(FaultyConnection* conn) {
    std::lock_guard lock(mutex_);
    std::erase(connections_, conn);
}

void ConnectionWatch::interrupt_all() {
    std::lock_guard lock(mutex_);
    for (FaultyConnection* conn : connections_)
        conn->interrupt();
}

FaultyConnection::FaultyConnection(std::unique_ptr<TcpConnection> inner, InjectedFaults faults,
                                   ChoiceFn choose, std::string label, ConnectionWatch* watch)
    : Connection(inner->clock()),
      inner_(std::move(inner)),
      faults_(faults),
      choose_(std::move(choose)),
      label_(std::move(label)),
      watch_(watch) {
    if (watch_)
        watch_->add(this);
}

FaultyConnection::~FaultyConnection() {
    if (watch_)
        watch_->remove(this);
    if (inner_->fd() >= 0)
        tell_tap_end(false);  // the socket closes with inner_: a FIN
}

namespace {

std::uint16_t port_of(int fd, bool peer) {
    sockaddr_in address{};
    socklen_t length = sizeof address;
    const int got = peer ? getpeername(fd, reinterpret_cast<sockaddr*>(&address), &length)
                         : getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    return got == 0 && address.sin_family == AF_INET ? ntohs(address.sin_port) : 0;
}

}  // namespace

std::uint16_t FaultyConnection::local_port() const {
    return inner_->fd() < 0 ? 0 : port_of(inner_->fd(), false);
}

std::uint16_t FaultyConnection::peer_port() const {
    return inner_->fd() < 0 ? 0 : port_of(inner_->fd(), true);
}

std::uint64_t FaultyConnection::reset_budget() const {
    if (!faults_.reset_after_bytes)
        return UINT64_MAX;
    const std::uint64_t moved = sent_bytes_ + received_bytes_;
    return *faults_.reset_after_bytes > moved ? *faults_.reset_after_bytes - moved : 0;
}

void FaultyConnection::maybe_reset() {
    if (faults_.reset_after_bytes && reset_budget() == 0) {
        tell_tap_end(true);
        inner_->reset();
        throw ConnectionError(ErrorKind::reset,
                              fmt::format("{} reset the connection to {} after {} bytes (injected)",
                                          label_, peer_name(), *faults_.reset_after_bytes));
    }
}

std::size_t FaultyConnection::do_send(std::span<const std::byte> bytes) {
    if (bytes.empty())
        return 0;
    maybe_reset();
    std::size_t n = bytes.size();
    if (faults_.max_send_bytes != 0)
        n = std::min<std::uint64_t>(n, faults_.max_send_bytes);
    if (faults_.partial_sends)
        n = 1 + choose(n);
    n = std::min<std::uint64_t>(n, reset_budget());
    const Deadline deadline = call_deadline();
    BlockedIn blocked(*this, sending_, "send", deadline);
    const std::size_t sent = inner_->send_until(bytes.first(n), deadline);
    if (tap_)
        tap_->sent(bytes.first(sent));
    sent_bytes_ += sent;
    return sent;
}

std::size_t FaultyConnection::do_recv(std::span<std::byte> buffer) {
    if (buffer.empty())
        return 0;
    maybe_reset();
    if (faults_.stall_after_bytes && !stalled_once_ &&
        received_bytes_ >= *faults_.stall_after_bytes) {
        stall();
    }
    std::size_t n = buffer.size();
    if (faults_.stall_after_bytes && !stalled_once_) {
        n = std::min<std::uint64_t>(n, *faults_.stall_after_bytes - received_bytes_);
    }
    if (faults_.short_reads)
        n = 1 + choose(n);
    n = std::min<std::uint64_t>(n, reset_budget());
    const Deadline deadline = call_deadline();
    BlockedIn blocked(*this, receiving_, "recv", deadline);
    const std::size_t got = inner_->recv_until(buffer.first(n), deadline);
    received_bytes_ += got;
    return got;
}

void FaultyConnection::stall() {
    // This side stops reading: the peer's sends fill the kernel's buffers and
    // then block, exactly as when a real process stops calling recv.
    stalled_once_ = true;
    const Deadline deadline = call_deadline();
    BlockedIn blocked(*this, receiving_, "recv (stalled)", deadline);
    Deadline until = deadline;
    if (faults_.stall_for)
        until = earliest(deadline, clock().now() + *faults_.stall_for);
    std::unique_lock lock(mutex_);
    while (!interrupted_ && (!until || clock().now() < *until)) {
        if (until) {
            wake_.wait_for(lock, std::chrono::milliseconds(5));
        } else {
            wake_.wait(lock);
        }
    }
    if (interrupted_)
        throw ConnectionError(ErrorKind::closed, fmt::format("{} interrupted", label_));
    if (deadline && clock().now() >= *deadline) {
        throw ConnectionError(ErrorKind::timed_out,
                              fmt::format("{} timed out waiting for {}", label_, peer_name()));
    }
}

void FaultyConnection::tell_tap_end(bool reset) {
    if (!tap_ || tap_finished_.exchange(true))
        return;
    if (reset) {
        tap_->reset();
    } else {
        tap_->finished_sending();
    }
}

void FaultyConnection::shutdown_send() {
    inner_->shutdown_send();
    tell_tap_end(false);
}

void FaultyConnection::close() {
    if (inner_->fd() >= 0)
        tell_tap_end(false);
    inner_->close();
}

std::string FaultyConnection::blocked_call() const {
    std::lock_guard lock(mutex_);
    std::string text;
    for (const Blocked* b : {&sending_, &receiving_}) {
        if (b->call != nullptr)
            text += fmt::format("{}{} {}({})", text.empty() ? "" : "; ", label_, b->call,
                                inner_->peer_name());
    }
    return text;
}

bool FaultyConnection::blocked_for_ever() const {
    std::lock_guard lock(mutex_);
    return (sending_.call != nullptr && !sending_.deadline) ||
           (receiving_.call != nullptr && !receiving_.deadline);
}

bool FaultyConnection::blocked() const {
    std::lock_guard lock(mutex_);
    return sending_.call != nullptr || receiving_.call != nullptr;
}

void FaultyConnection::interrupt() {
    {
        std::lock_guard lock(mutex_);
        interrupted_ = true;
    }
    wake_.notify_all();
    inner_->interrupt();
}

}  // namespace ferry
