#pragma once
// Where a server gets its connections: a listening endpoint, simulated
// (sim::SimListener) or real (a TcpListener through real/server.h). The
// server's accept loop (accept_loop.h) is written against this, so the
// simulator runs the same loop, limit and refusals as `ferry serve`.

#include <memory>
#include <optional>

#include "ferry/protocol/clock.h"
#include "ferry/protocol/connection.h"

namespace ferry {

class Listener {
  public:
    virtual ~Listener() = default;
    /// Waits up to timeout (none = for ever) for a client. Returns its
    /// connection, or none when the timeout passed or the listener is closed
    /// (closed() then says which). Throws ConnectionError only for a failure
    /// of the listener itself.
    virtual std::unique_ptr<Connection> accept(std::optional<Duration> timeout) = 0;
    /// Whether the listener was closed (or interrupted): accept() will never
    /// return a connection again.
    virtual bool closed() const = 0;
};

}  // namespace ferry
