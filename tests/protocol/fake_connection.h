#pragma once
// Test doubles for protocol/ unit tests, in the spirit of the chapter's
// MockRequest: a ScriptedConnection that hands out prearranged input (as few
// bytes per recv as asked) and records everything sent, a ManualClock, and a
// GoogleMock MockConnection for tests that assert on the calls themselves.

#include <gmock/gmock.h>

#include <fmt/core.h>
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "ferry/protocol/connection.h"
#include "ferry/protocol/span_reader.h"
#include "ferry/protocol/store.h"

namespace ferry::testing {

class ManualClock : public Clock {
  public:
    Instant now() const override { return now_; }
    void advance(Duration d) { now_ = now_ + d; }
    void set(Instant at) { now_ = at; }

  private:
    Instant now_{};
};

/// What a ScriptedConnection does once its input is used up.
enum class AtEndOfInput {
    end_of_stream,  ///< recv returns 0
    stall,          ///< the peer says nothing more: recv times out at its deadline
    reset,          ///< recv throws ErrorKind::reset
};

class ScriptedConnection : public Connection {
  public:
    explicit ScriptedConnection(std::string input, std::size_t recv_bytes_max = SIZE_MAX,
                                AtEndOfInput at_end = AtEndOfInput::end_of_stream)
        : Connection(clock_),
          input_(std::move(input)),
          recv_bytes_max_(recv_bytes_max),
          at_end_(at_end) {}

    std::size_t do_send(std::span<const std::byte> bytes) override {
        if (closed_ || send_shut_)
            throw ConnectionError(ErrorKind::closed, "send after close");
        if (send_fails_after_ && sent_.size() >= *send_fails_after_) {
            throw ConnectionError(ErrorKind::reset, "peer reset");
        }
        std::size_t n = std::min(bytes.size(), send_bytes_max_);
        if (send_fails_after_)
            n = std::min(n, *send_fails_after_ - sent_.size());
        sent_.append(as_text(bytes.first(n)));
        ++send_calls_;
        return n;
    }

    std::size_t do_recv(std::span<std::byte> buffer) override {
        if (closed_)
            throw ConnectionError(ErrorKind::closed, "recv after close");
        ++recv_calls_;
        if (buffer.empty())
            return 0;
        if (offset_ == input_.size()) {
            switch (at_end_) {
                case AtEndOfInput::end_of_stream:
                    return 0;
                case AtEndOfInput::reset:
                    throw ConnectionError(ErrorKind::reset, "peer reset");
                case AtEndOfInput::stall: {
                    const Deadline deadline = call_deadline();
                    if (!deadline)
                        throw std::logic_error("stalled recv with no deadline would hang");
                    clock_.set(*deadline);
                    throw ConnectionError(ErrorKind::timed_out, "recv timed out");
                }
            }
        }
        const std::size_t n = std::min({buffer.size(), recv_bytes_max_, input_.size() - offset_});
        std::memcpy(buffer.data(), input_.data() + offset_, n);
        offset_ += n;
        return n;
    }

    void shutdown_send() override { send_shut_ = true; }
    void close() override { closed_ = true; }
    std::string peer_name() const override { return "scripted peer"; }

    void limit_send_bytes(std::size_t n) { send_bytes_max_ = n; }
    void fail_sends_after(std::size_t bytes) { send_fails_after_ = bytes; }

    const std::string& sent() const { return sent_; }
    std::size_t unread_bytes() const { return input_.size() - offset_; }
    bool closed() const { return closed_; }
    bool send_shut() const { return send_shut_; }
    int recv_calls() const { return recv_calls_; }
    int send_calls() const { return send_calls_; }
    ManualClock& manual_clock() { return clock_; }

  private:
    ManualClock clock_;
    std::string input_;
    std::size_t offset_ = 0;
    std::size_t recv_bytes_max_;
    std::size_t send_bytes_max_ = SIZE_MAX;
    std::optional<std::size_t> send_fails_after_;
    AtEndOfInput at_end_;
    std::string sent_;
    bool closed_ = false;
    bool send_shut_ = false;
    int recv_calls_ = 0;
    int send_calls_ = 0;
};

class MockConnection : public Connection {
  public:
    MockConnection() : Connection(clock_) {}
    MOCK_METHOD(std::size_t, do_send, (std::span<const std::byte> bytes), (override));
    MOCK_METHOD(std::size_t, do_recv, (std::span<std::byte> buffer), (override));
    MOCK_METHOD(void, shutdown_send, (), (override));
    MOCK_METHOD(void, close, (), (override));
    MOCK_METHOD(std::string, peer_name, (), (const, override));

  private:
    ManualClock clock_;
};

/// A FileReader that owns its bytes (the string is a base, so it exists
/// before the SpanReader that views it).
struct OwnedString {
    std::string text;
};
class BytesReader : private OwnedString, public SpanReader {
  public:
    explicit BytesReader(std::string bytes)
        : OwnedString{std::move(bytes)}, SpanReader(as_bytes(text)) {}
};

/// A file that cannot be viewed in place and hands out at most
/// read_bytes_max bytes per read_at, like a slow disk.
class CopyOnlyReader : public FileReader {
  public:
    CopyOnlyReader(std::string bytes, std::size_t read_bytes_max)
        : bytes_(std::move(bytes)), read_bytes_max_(read_bytes_max) {}
    std::uint64_t size_bytes() const override { return bytes_.size(); }
    std::size_t read_at(std::uint64_t offset, std::span<std::byte> buffer) const override {
        ++reads;
        return copy_at(as_bytes(bytes_), offset,
                       buffer.first(std::min(buffer.size(), read_bytes_max_)));
    }
    mutable int reads = 0;

  private:
    std::string bytes_;
    std::size_t read_bytes_max_;
};

/// Deterministic test payload: byte i of a payload of size n for seed s.
inline std::string payload(std::size_t size, std::uint64_t seed = 1) {
    std::string bytes(size, '\0');
    std::uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
    for (auto& c : bytes) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c = static_cast<char>(x & 0xff);
    }
    return bytes;
}

inline std::vector<std::byte> to_bytes(std::string_view text) {
    const auto bytes = as_bytes(text);
    return {bytes.begin(), bytes.end()};
}

inline std::string to_string(const std::vector<std::byte>& bytes) {
    return std::string(as_text(bytes));
}

}  // namespace ferry::testing
