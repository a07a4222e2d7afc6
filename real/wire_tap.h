#pragma once
// WireTap: what a FaultyConnection really put on its socket, told as it
// happens, for a capture of a real run (the harness turns it into the same
// pcap the simulator's runs give: docs/seeing-a-run.md).

#include <cstddef>
#include <span>

namespace ferry {

/// One end of one real connection. Calls may come from the thread that sends
/// and the one that receives at once: an implementation locks.
class WireTap {
  public:
    virtual ~WireTap() = default;
    /// The kernel took bytes, in this order on the stream.
    virtual void sent(std::span<const std::byte> bytes) = 0;
    /// This end stopped sending: a FIN (shutdown_send, close, or going away).
    virtual void finished_sending() = 0;
    /// This end reset the connection: an RST (an injected reset).
    virtual void reset() = 0;
};

}  // namespace ferry
