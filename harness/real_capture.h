#pragma once
// RealCapture: what the connections of a run on real sockets put on the wire
// (each FaultyConnection's WireTap), turned into the sim::Recording the views
// draw from, so a real run gets the same pcap a simulated one does: a
// connection per TCP conversation, its segments as the kernel took them, with
// the wall-clock time since the run began, FINs and injected resets.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "ferry/real/wire_tap.h"
#include "ferry/sim/faults.h"
#include "ferry/sim/recording.h"

namespace ferry::harness {

class RealCapture {
  public:
    RealCapture();

    /// A tap for one end of the connection whose client end has port
    /// client_port, to address (the workload's name for where it connects:
    /// "server:9000"). Both ends' taps name the same client_port.
    std::unique_ptr<WireTap> tap(sim::Side side, std::uint16_t client_port,
                                 const std::string& address);

    /// Fills recording, empty before, with what crossed; call once the run's
    /// connections are gone.
    void fill(sim::Recording& recording) const;

  private:
    class EndTap;
    enum class What { opened, data, fin, rst };
    struct Crossing {
        std::uint64_t time_ns;
        std::uint64_t conn;
        std::uint64_t side;
        What what;
        std::string address;  ///< opened only
        std::vector<std::byte> bytes;
    };
    void add(Crossing crossing);
    std::uint64_t now_ns() const;

    std::int64_t began_ns_;
    mutable std::mutex mutex_;  ///< guards everything below
    std::vector<Crossing> crossings_;
    std::vector<std::uint16_t> client_ports_;  ///< index = conn - 1
};

}  // namespace ferry::harness
