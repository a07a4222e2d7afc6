#pragma once
// Helpers for the simulator's tests: a client and a server process over one
// simulated connection, and byte strings.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ferry/sim/decisions.h"
#include "ferry/sim/sim_connection.h"
#include "ferry/sim/sim_network.h"
#include "ferry/sim/simulation.h"

namespace ferry::sim::testing {

inline std::vector<std::byte> bytes_of(std::string_view text) {
    const auto view = as_bytes(text);
    return {view.begin(), view.end()};
}

/// size bytes from a seed.
inline std::vector<std::byte> random_bytes(std::size_t size, std::uint64_t seed) {
    PrngDecisions prng(seed);
    std::vector<std::byte> bytes(size);
    for (auto& byte : bytes)
        byte = static_cast<std::byte>(prng.next_u64() & 0xff);
    return bytes;
}

/// Spawns a server process that listens on "server:1" and accepts one
/// connection, and a client process that connects to it; each body gets its
/// end. The connections close when the bodies return.
inline void spawn_pair(Simulation& sim, std::function<void(SimConnection&)> client,
                       std::function<void(SimConnection&)> server) {
    sim.spawn("server", [&sim, server = std::move(server)] {
        auto listener = sim.network().listen("server:1");
        auto conn = listener->accept();
        server(*conn);
    });
    sim.spawn("client", [&sim, client = std::move(client)] {
        auto conn = sim.network().connect("server:1");
        client(*conn);
    });
}

/// Reads until end of stream (or up to limit bytes).
inline std::vector<std::byte> recv_all(Connection& conn, std::size_t limit = SIZE_MAX) {
    std::vector<std::byte> received;
    std::vector<std::byte> buffer(4096);
    while (received.size() < limit) {
        const std::size_t got = conn.recv(buffer);
        if (got == 0)
            break;
        received.insert(received.end(), buffer.begin(),
                        buffer.begin() + static_cast<std::ptrdiff_t>(got));
    }
    return received;
}

inline Duration ms(std::int64_t count) {
    return std::chrono::milliseconds(count);
}
inline Duration seconds(std::int64_t count) {
    return std::chrono::seconds(count);
}
inline Instant at(Duration since_start) {
    return Instant{since_start};
}

}  // namespace ferry::sim::testing
