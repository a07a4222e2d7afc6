#include "ferry/testing/spawn_pair.h"

#include <memory>
#include <utility>

#include "ferry/sim/sim_connection.h"
#include "ferry/sim/sim_network.h"

namespace ferry::testing {

void spawn_pair(sim::Simulation& sim, std::function<void(Connection&)> serve,
                std::function<void(Connection&)> talk, const std::string& address) {
    std::shared_ptr<sim::SimListener> listener = sim.network().listen(address);
    sim.spawn("server", [listener, serve = std::move(serve)] {
        const auto conn = listener->accept();
        serve(*conn);
        conn->close();
    });
    sim.spawn("client", [&sim, address, talk = std::move(talk)] {
        const auto conn = sim.network().connect(address);
        talk(*conn);
        conn->close();
    });
}

}  // namespace ferry::testing
