#pragma once
// The client/server shape most protocol tests have, in one call.

#include <functional>
#include <string>

#include "ferry/protocol/connection.h"
#include "ferry/sim/simulation.h"

namespace ferry::testing {

/// Listens on address (now, so the client cannot be refused), then spawns
/// "server", which accepts one connection, runs serve on it and closes it,
/// and "client", which connects, runs talk on it and closes it. What either
/// throws is the process's failure (SimResult::failures).
void spawn_pair(sim::Simulation& sim, std::function<void(Connection&)> serve,
                std::function<void(Connection&)> talk, const std::string& address = "server:7");

}  // namespace ferry::testing
