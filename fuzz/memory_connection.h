#pragma once
// A Connection over bytes in memory, for the fuzz targets that run one side
// of ferry/1 against the fuzz input as the other side's bytes: recv hands
// out the input a few bytes at a time, send records everything sent.

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

#include "ferry/protocol/clock.h"
#include "ferry/protocol/connection.h"

namespace ferry::fuzz {

class ManualClock : public Clock {
  public:
    Instant now() const override { return now_; }
    void set(Instant at) { now_ = at; }

  private:
    Instant now_{};
};

/// What the peer does once the input is used up.
enum class AtEnd {
    close,  ///< recv returns 0
    stall,  ///< nothing more arrives: recv times out at its deadline
    reset,  ///< recv throws ErrorKind::reset
};

class MemoryConnection : public Connection {
  public:
    MemoryConnection(std::string_view input, std::size_t recv_bytes_max, AtEnd at_end)
        : Connection(clock_),
          input_(input),
          recv_bytes_max_(std::max<std::size_t>(recv_bytes_max, 1)),
          at_end_(at_end) {}

    std::size_t do_send(std::span<const std::byte> bytes) override {
        if (closed_ || send_shut_)
            throw ConnectionError(ErrorKind::closed, "send after close");
        sent_.append(as_text(bytes));
        return bytes.size();
    }

    std::size_t do_recv(std::span<std::byte> buffer) override {
        if (closed_)
            throw ConnectionError(ErrorKind::closed, "recv after close");
        if (buffer.empty())
            return 0;
        if (offset_ == input_.size())
            return at_end();
        const std::size_t n = std::min({buffer.size(), recv_bytes_max_, input_.size() - offset_});
        std::memcpy(buffer.data(), input_.data() + offset_, n);
        offset_ += n;
        return n;
    }

    void shutdown_send() override { send_shut_ = true; }
    void close() override { closed_ = true; }
    std::string peer_name() const override { return "fuzz peer"; }

    const std::string& sent() const { return sent_; }
    bool closed() const { return closed_; }

  private:
    std::size_t at_end() {
        switch (at_end_) {
            case AtEnd::close:
                return 0;
            case AtEnd::reset:
                throw ConnectionError(ErrorKind::reset, "peer reset");
            case AtEnd::stall:
                break;
        }
        const Deadline deadline = call_deadline();
        if (!deadline)
            throw ConnectionError(ErrorKind::reset, "stalled with no deadline: would hang");
        clock_.set(*deadline);
        throw ConnectionError(ErrorKind::timed_out, "recv timed out");
    }

    ManualClock clock_;
    std::string_view input_;
    std::size_t offset_ = 0;
    std::size_t recv_bytes_max_;
    AtEnd at_end_;
    std::string sent_;
    bool closed_ = false;
    bool send_shut_ = false;
};

}  // namespace ferry::fuzz
