// One simulated delay, from the installed ferry::sim alone.

#include <cstdio>

#include "ferry/sim/simulation.h"
#include "ferry/version.h"

int main() {
    ferry::sim::Simulation sim({});
    sim.spawn("sleeper", [&] { sim.delay(std::chrono::seconds(30)); });
    const ferry::sim::SimResult result = sim.run();
    std::printf("ferry %s: %s after %lld virtual seconds\n", FERRY_VERSION,
                result.summary().c_str(),
                static_cast<long long>(result.end_time.since_epoch.count() / 1000000000));
    return result.passed() ? 0 : 1;
}
