#pragma once
// Connection over a simulated TCP connection (mirrors real/tcp_connection.h).
// It does everything the Connection contract allows: sends take a prefix,
// reads come back short, peers stall, reset and half-close, and every
// blocking call honours call_deadline() in virtual time.

#include <cstdint>
#include <span>
#include <string>

#include "ferry/protocol/connection.h"
#include "ferry/sim/faults.h"
#include "ferry/sim/simulation.h"

namespace ferry::sim {

class SimNetwork;
struct SimEndpoint;
struct SimLink;

class SimConnection final : public Connection {
  public:
    SimConnection(SimNetwork& network, SimLink& link, Side side);
    ~SimConnection() override;  ///< closes

    void shutdown_send() override;
    void close() override;
    std::string peer_name() const override;

    /// Closes abortively, so the peer sees a reset (TcpConnection::reset).
    void reset();

    /// Hands this end to process (an accept loop's handler): a deadlock's
    /// wait-for graph then blames process, not the one that accepted or
    /// connected. An end passes by itself to whichever process sends or
    /// receives on it; hand_to is for a handler that blocks elsewhere before
    /// it first does.
    void hand_to(ProcessId process);
    /// The process that holds this end: whoever connected or accepted it,
    /// was handed it, or last sent or received on it.
    ProcessId owner() const;

    std::uint64_t id() const;
    Side side() const { return side_; }

  protected:
    std::size_t do_send(std::span<const std::byte> bytes) override;
    std::size_t do_recv(std::span<std::byte> buffer) override;

  private:
    /// Blocks until bytes are there to read (returns how many) or the
    /// stream has ended with everything before its end read (returns 0);
    /// throws when the connection dies or the call times out. want: the
    /// recv's buffer, for the wait's description.
    std::uint64_t wait_readable(std::size_t want);
    // Errors are made by functions of their own and thrown in the call that
    // fails: each frame between a throw and its catch costs the unwinder
    // about as much as a simulated send, and under the explorer's faults
    // most runs throw.

    /// Neither closed nor reset.
    bool usable() const;
    /// The process calling is the one that holds this end from now on (a
    /// connection handed to a handler process is blamed on the handler in a
    /// deadlock's wait-for graph, not on the process that accepted it).
    void take_ownership(SimEndpoint& end) const;
    /// What a call on a connection that is not usable() fails with.
    [[gnu::noinline]] ConnectionError unusable_error(const char* call) const;
    /// Records the timeout and returns what the call fails with.
    [[gnu::noinline]] ConnectionError timed_out_error(const char* call) const;
    /// Reset by the peer with bytes that arrived before the RST still unread:
    /// recv() returns them first, as a kernel does.
    bool readable_after_reset() const;

    SimNetwork& network_;
    SimLink& link_;
    Side side_;
};

}  // namespace ferry::sim
