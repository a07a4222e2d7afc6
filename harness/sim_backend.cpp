#include "harness/sim_backend.h"

#include <fmt/core.h>

#include "protocol/ferry_server.h"
#include "protocol/naive.h"
#include "sim/sim_connection.h"
#include "sim/sim_network.h"
#include "sim/sim_store.h"
#include "sim/simulation.h"

namespace ferry::harness {

namespace {

constexpr const char* server_address = "server:9000";

sim::Side sim_side(Side side) {
    return side == Side::client ? sim::Side::client : sim::Side::server;
}

}  // namespace

sim::NetworkFaults network_faults(const NetworkSpec& network) {
    sim::NetworkFaults faults;
    faults.max_send_bytes = network.max_send_bytes;
    faults.partial_sends = network.partial_sends ? sim::always : sim::never;
    faults.short_reads = network.short_reads ? sim::always : sim::never;
    faults.latency_ms_min = network.latency_ms_min;
    faults.latency_ms_max = network.latency_ms_max;
    if (network.stall) {
        sim::StallFault stall;
        stall.side = sim_side(network.stall->side);
        stall.after_bytes = network.stall->after_bytes;
        if (network.stall->for_ms)
            stall.duration = std::chrono::milliseconds(*network.stall->for_ms);
        faults.stall = stall;
    }
    if (network.reset) {
        faults.reset = sim::ResetFault{sim_side(network.reset->side), network.reset->after_bytes};
    }
    return faults;
}

SimRun run_on_sim(const Scenario& scenario, std::uint64_t seed, std::ostream* trace_json) {
    sim::SimOptions options;
    options.seed = seed;
    options.faults = network_faults(scenario.network);
    options.time_budget = std::chrono::milliseconds(scenario.time_budget_ms);
    sim::Simulation sim(options);
    sim.trace().write_json_lines_to(trace_json);

    sim::StoreFaults store_faults;
    store_faults.capacity_bytes = scenario.server.disk_bytes_max;
    sim::SimStore store(sim, store_faults);
    for (const auto& [name, content] : scenario.server.files) {
        const auto bytes = as_bytes(content);
        store.put_file(name, {bytes.begin(), bytes.end()});
    }

    FerryServerConfig ferry_config;
    ferry_config.chunk_bytes = scenario.chunk_size;
    ferry_config.idle_timeout = std::chrono::milliseconds(scenario.server.timeout_ms);
    ferry_config.header_timeout =
        std::min<Duration>(ferry_config.header_timeout, ferry_config.idle_timeout);
    UploadNamer namer;
    std::vector<std::unique_ptr<sim::SimConnection>> server_connections;

    // The server: an accept loop, and a process for each connection. Both are
    // daemons: the run is over when the clients are.
    std::unique_ptr<sim::SimListener> listener = sim.network().listen(server_address);
    sim.spawn(
        "server",
        [&] {
            for (std::uint64_t n = 1;; ++n) {
                auto conn = listener->accept();
                if (!conn)
                    continue;
                sim::SimConnection* raw = conn.get();
                server_connections.push_back(std::move(conn));
                sim.spawn(
                    fmt::format("server conn {}", n),
                    [&, raw] {
                        try {
                            if (scenario.protocol == ScenarioProtocol::ferry) {
                                serve_ferry_connection(*raw, store, ferry_config);
                            } else {
                                serve_naive_upload(*raw, store, namer.next(store),
                                                   scenario.chunk_size);
                                raw->close();
                            }
                        } catch (const std::exception&) {
                            // The client sees what this did to the connection;
                            // the trace has the rest.
                            raw->close();
                        }
                    },
                    true);
            }
        },
        true);

    const ContentModel model(scenario, seed);
    RunObservation observation;
    observation.clients.resize(scenario.clients.size());
    std::vector<ConnectFn> connectors;
    for (std::size_t c = 0; c < scenario.clients.size(); ++c) {
        const auto timeout = std::chrono::milliseconds(scenario.clients[c].timeout_ms);
        connectors.push_back([&sim, timeout]() -> std::unique_ptr<Connection> {
            return sim.network().connect(server_address, timeout);
        });
    }
    for (std::size_t c = 0; c < scenario.clients.size(); ++c) {
        sim.spawn(fmt::format("client {}", c + 1), [&, c] {
            run_client(scenario, c, seed, connectors[c], model, observation.clients[c]);
        });
    }

    const sim::SimResult result = sim.run();
    sim.trace().write_json_lines_to(nullptr);

    SimRun run;
    run.digest = result.digest;
    run.events = result.events;
    if (result.status == sim::RunStatus::deadlock) {
        observation.end = RunObservation::End::deadlock;
        observation.stuck_report = result.report.text();
    } else if (result.status == sim::RunStatus::time_budget_exceeded) {
        observation.end = RunObservation::End::time_budget_exceeded;
        observation.stuck_report = fmt::format("time budget of {} ms (virtual) spent\n{}",
                                               scenario.time_budget_ms, result.report.text());
    }
    for (const auto& failure : result.failures) {
        if (failure.process.starts_with("client")) {
            observation.stuck_report +=
                fmt::format("\n{} threw: {}", failure.process, failure.message);
        }
    }
    // The trace's tail as the run left it, before reading the files adds to it.
    std::string recent;
    if (result.status != sim::RunStatus::completed)
        recent = sim.trace().recent_text(20);
    observation.files = read_all_files(store);
    // Unwind the processes still blocked (daemons, a deadlock) now, while the
    // store, the listener and the connections they use are still alive.
    sim.stop_processes();
    run.observation = std::move(observation);
    run.recent_events = std::move(recent);
    return run;
}

}  // namespace ferry::harness
