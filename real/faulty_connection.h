#pragma once
// A Connection decorator that injects the simulator's faults into a real TCP
// connection, so one scenario file can run on both backends: capped and
// partial sends, short reads, a stall (this side stops reading), and a reset
// (SO_LINGER 0) after a number of bytes. Every choice comes from one
// function the caller seeds, so a run's faults follow from its seed.
//
// It also tracks which call the protocol is blocked in, so a watchdog can
// name the calls of a hung run ("client recv(127.0.0.1:6789)"). One thread
// may send while another receives.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ferry/protocol/connection.h"
#include "ferry/real/tcp_connection.h"
#include "ferry/real/wire_tap.h"

namespace ferry {

struct InjectedFaults {
    std::uint64_t max_send_bytes = 0;  ///< 0 = no cap
    bool partial_sends = false;        ///< each send takes a random non-empty prefix
    bool short_reads = false;          ///< each recv asks for a random non-empty prefix
    /// Stop reading once this side has received this many bytes ...
    std::optional<std::uint64_t> stall_after_bytes;
    /// ... for this long (none = for ever).
    std::optional<Duration> stall_for;
    /// Reset the connection once this side has sent and received this many
    /// bytes in all.
    std::optional<std::uint64_t> reset_after_bytes;
};

/// Returns a choice in [0, bound), bound ≥ 1.
using ChoiceFn = std::function<std::uint64_t(std::uint64_t bound)>;

class FaultyConnection;

/// The connections of one run, for a watchdog on another thread: each
/// FaultyConnection given a watch is in it from construction to destruction.
class ConnectionWatch {
  public:
    /// Calls visit(const FaultyConnection&) for each live connection, holding
    /// the watch's lock (connections cannot go away meanwhile).
    template <typename Visit>
    void for_each(Visit visit) const {
        std::lock_guard lock(mutex_);
        for (const FaultyConnection* conn : connections_)
            visit(*conn);
    }
    /// Interrupts every live connection.
    void interrupt_all();

  private:
    friend class FaultyConnection;
    void add(FaultyConnection* conn);
    void remove(FaultyConnection* conn);

    mutable std::mutex mutex_;
    std::vector<FaultyConnection*> connections_;
};

class FaultyConnection : public Connection {
  public:
    /// label names this end in messages ("client 1", "server").
    FaultyConnection(std::unique_ptr<TcpConnection> inner, InjectedFaults faults, ChoiceFn choose,
                     std::string label, ConnectionWatch* watch = nullptr);
    ~FaultyConnection() override;

    void shutdown_send() override;
    void close() override;
    std::string peer_name() const override { return inner_->peer_name(); }

    /// "client recv(127.0.0.1:6789)" while a call blocks, empty otherwise.
    /// Thread-safe.
    std::string blocked_call() const;
    /// True while a call blocks that has no deadline: nothing but the peer
    /// can end it. Thread-safe.
    bool blocked_for_ever() const;
    /// Whether a call blocks now, in either direction. Thread-safe.
    bool blocked() const;
    /// Wakes a blocked call (it fails) from another thread: for a watchdog.
    void interrupt();

    const std::string& label() const { return label_; }
    std::uint64_t bytes_sent() const { return sent_bytes_; }
    std::uint64_t bytes_received() const { return received_bytes_; }

    /// Tells tap what this end puts on its socket from now on (for a
    /// capture). Set before the connection is used.
    void tap_into(std::unique_ptr<WireTap> tap) { tap_ = std::move(tap); }
    /// The ports of this end and of its peer (for pairing the two ends of a
    /// connection in a capture); 0 when the socket is closed.
    std::uint16_t local_port() const;
    std::uint16_t peer_port() const;

  protected:
    std::size_t do_send(std::span<const std::byte> bytes) override;
    std::size_t do_recv(std::span<std::byte> buffer) override;

  private:
    class BlockedIn;
    std::uint64_t choose(std::uint64_t bound);
    void maybe_reset();
    void stall();
    std::uint64_t reset_budget() const;
    /// Tells the tap, once, that this end sent its FIN (or, reset, an RST).
    void tell_tap_end(bool reset);

    std::unique_ptr<TcpConnection> inner_;
    InjectedFaults faults_;
    ChoiceFn choose_;
    std::string label_;
    ConnectionWatch* watch_;
    std::unique_ptr<WireTap> tap_;
    std::atomic<bool> tap_finished_{false};  ///< the tap has heard of this end's FIN or RST
    std::atomic<std::uint64_t> sent_bytes_{0};
    std::atomic<std::uint64_t> received_bytes_{0};
    bool stalled_once_ = false;

    /// One thread may send while another receives (a pipelining client):
    /// each direction has its own blocked state, and choices are drawn one
    /// at a time.
    struct Blocked {
        const char* call = nullptr;
        Deadline deadline;
    };
    mutable std::mutex mutex_;  ///< guards sending_, receiving_, interrupted_, choose_
    std::condition_variable wake_;
    Blocked sending_;
    Blocked receiving_;
    bool interrupted_ = false;
};

}  // namespace ferry
