#pragma once
// Connection over a simulated TCP connection (mirrors real/tcp_connection.h).
// It does everything the Connection contract allows: sends take a prefix,
// reads come back short, peers stall, reset and half-close, and every
// blocking call honours call_deadline() in virtual time.

#include <cstdint>
#include <span>
#include <string>

#include "protocol/connection.h"
#include "sim/faults.h"

namespace ferry::sim {

class SimNetwork;
struct SimLink;

class SimConnection final : public Connection {
  public:
    SimConnection(SimNetwork& network, SimLink& link, Side side);
    ~SimConnection() override;  ///< closes

    std::size_t send(std::span<const std::byte> bytes) override;
    std::size_t recv(std::span<std::byte> buffer) override;
    void shutdown_send() override;
    void close() override;
    std::string peer_name() const override;

    /// Closes abortively, so the peer sees a reset (TcpConnection::reset).
    void reset();

    std::uint64_t id() const;
    Side side() const { return side_; }

  private:
    void throw_unless_usable(const char* call) const;
    /// Reset by the peer with bytes that arrived before the RST still unread:
    /// recv() returns them first, as a kernel does.
    bool readable_after_reset() const;
    [[noreturn]] void throw_timed_out(const char* call) const;

    SimNetwork& network_;
    SimLink& link_;
    Side side_;
};

}  // namespace ferry::sim
