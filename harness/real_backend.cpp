#include "harness/real_backend.h"

#include <atomic>
#include <filesystem>
#include <thread>

#include <fmt/core.h>

#include "harness/quota_store.h"
#include "real/disk_store.h"
#include "real/faulty_connection.h"
#include "real/server.h"
#include "real/steady_clock.h"
#include "real/tcp_listener.h"
#include "sim/decisions.h"

namespace ferry::harness {

namespace {

/// A fresh directory under the system's temporary directory, removed with it.
class TemporaryRoot {
  public:
    TemporaryRoot() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "ferry-real-XXXXXX").string();
        if (!::mkdtemp(pattern.data())) {
            throw std::runtime_error(fmt::format("cannot create a temporary root {}", pattern));
        }
        path_ = pattern;
    }
    ~TemporaryRoot() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

InjectedFaults faults_for(const NetworkSpec& network, Side side) {
    InjectedFaults faults;
    faults.max_send_bytes = network.max_send_bytes;
    faults.partial_sends = network.partial_sends;
    faults.short_reads = network.short_reads;
    if (network.stall && network.stall->side == side) {
        faults.stall_after_bytes = network.stall->after_bytes;
        if (network.stall->for_ms)
            faults.stall_for = std::chrono::milliseconds(*network.stall->for_ms);
    }
    if (network.reset && network.reset->side == side) {
        faults.reset_after_bytes = network.reset->after_bytes;
    }
    return faults;
}

/// Each connection draws its faults from its own generator, seeded from the
/// run's seed and the connection's number, so threads share nothing.
ChoiceFn choices_for(std::uint64_t seed, std::uint64_t connection_number) {
    auto prng = std::make_shared<sim::PrngDecisions>(seed * 1000003 + connection_number);
    return [prng](std::uint64_t bound) { return bound <= 1 ? 0 : prng->choose(bound); };
}

void preload(Store& store, const ServerSpec& server) {
    for (const auto& [name, content] : server.files) {
        auto upload = store.begin_upload(name);
        upload->write(as_bytes(content));
        upload->commit();
    }
}

struct Snapshot {
    std::uint64_t bytes_moved = 0;
    std::size_t clients_blocked_for_ever = 0;
    bool server_busy = false;  ///< a server connection is running or waits with a deadline
    bool anyone_waits_with_deadline = false;
    std::string blocked_calls;
};

Snapshot look(const ConnectionWatch& watch) {
    Snapshot snap;
    watch.for_each([&](const FaultyConnection& conn) {
        snap.bytes_moved += conn.bytes_sent() + conn.bytes_received();
        const bool is_client = conn.label().starts_with("client");
        const std::string call = conn.blocked_call();
        const bool for_ever = conn.blocked_for_ever();
        if (!call.empty()) {
            snap.blocked_calls += fmt::format("{}{}", snap.blocked_calls.empty() ? "" : "; ", call);
        }
        if (is_client && for_ever)
            ++snap.clients_blocked_for_ever;
        if (!is_client && !for_ever)
            snap.server_busy = true;
        if (!call.empty() && !for_ever)
            snap.anyone_waits_with_deadline = true;
    });
    return snap;
}

}  // namespace

RunObservation run_on_real(const Scenario& scenario, std::uint64_t seed,
                           const RealOptions& options) {
    const SteadyClock& clock = SteadyClock::instance();
    TemporaryRoot root;
    DiskStore disk(root.path());
    std::unique_ptr<QuotaStore> quota;
    Store* store = &disk;
    if (scenario.server.disk_bytes_max != 0) {
        quota = std::make_unique<QuotaStore>(disk, scenario.server.disk_bytes_max);
        store = quota.get();
    }
    preload(disk, scenario.server);

    ConnectionWatch watch;
    std::atomic<std::uint64_t> connection_number{0};
    TcpListener listener(HostPort{"127.0.0.1", 0}, clock);
    const HostPort address = listener.local_address();

    ServerConfig config;
    config.protocol =
        scenario.protocol == ScenarioProtocol::naive ? ProtocolKind::naive : ProtocolKind::ferry;
    config.naive_chunk_bytes = scenario.chunk_size;
    config.naive_idle_timeout = std::nullopt;  // the chapter's server waits for ever
    config.ferry.chunk_bytes = scenario.chunk_size;
    config.ferry.idle_timeout = std::chrono::milliseconds(scenario.server.timeout_ms);
    config.ferry.header_timeout =
        std::min<Duration>(config.ferry.header_timeout, config.ferry.idle_timeout);
    const InjectedFaults server_faults = faults_for(scenario.network, Side::server);
    config.wrap_connection =
        [&](std::unique_ptr<TcpConnection> conn) -> std::unique_ptr<Connection> {
        return std::make_unique<FaultyConnection>(std::move(conn), server_faults,
                                                  choices_for(seed, ++connection_number), "server",
                                                  &watch);
    };
    Server server(listener, *store, config);
    std::thread server_thread([&] { server.run(); });

    const ContentModel model(scenario, seed);
    RunObservation observation;
    observation.clients.resize(scenario.clients.size());
    std::atomic<std::size_t> clients_done{0};
    std::vector<std::thread> clients;
    for (std::size_t c = 0; c < scenario.clients.size(); ++c) {
        clients.emplace_back([&, c] {
            const InjectedFaults client_faults = faults_for(scenario.network, Side::client);
            const ConnectFn connect = [&, c]() -> std::unique_ptr<Connection> {
                return std::make_unique<FaultyConnection>(
                    connect_tcp(address, clock, std::chrono::seconds(10)), client_faults,
                    choices_for(seed, ++connection_number), fmt::format("client {}", c + 1),
                    &watch);
            };
            try {
                run_client(scenario, c, seed, connect, model, observation.clients[c]);
            } catch (const std::exception& e) {
                observation.clients[c].steps.push_back(
                    {StepResult::Kind::connection_error, 0, e.what()});
            }
            ++clients_done;
        });
    }

    // The watchdog: progress is bytes moving; a deadlock is no progress while
    // every client and the server wait in calls that nothing but the peer can
    // end.
    const Instant start = clock.now();
    const Instant budget_end = start + std::chrono::milliseconds(scenario.time_budget_ms);
    Snapshot last = look(watch);
    Instant last_progress = start;
    while (clients_done < clients.size()) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        const Snapshot now = look(watch);
        const Instant at = clock.now();
        if (now.bytes_moved != last.bytes_moved)
            last_progress = at;
        last = now;
        if (at >= budget_end) {
            observation.end = RunObservation::End::time_budget_exceeded;
            observation.stuck_report = fmt::format("time budget of {} ms spent; blocked: {}",
                                                   scenario.time_budget_ms, now.blocked_calls);
            break;
        }
        const std::size_t running = clients.size() - clients_done;
        if (at - last_progress >= options.quiet_for_deadlock && running > 0 &&
            now.clients_blocked_for_ever == running && !now.server_busy &&
            !now.anyone_waits_with_deadline) {
            observation.end = RunObservation::End::deadlock;
            observation.stuck_report = fmt::format(
                "deadlock: no byte moved for {} ms and nobody has a timeout; blocked: {}",
                options.quiet_for_deadlock.count(), now.blocked_calls);
            break;
        }
    }
    if (observation.end != RunObservation::End::finished)
        watch.interrupt_all();
    for (auto& thread : clients)
        thread.join();
    // Whatever the server still waits for (a stall for ever, a client that
    // vanished) no longer matters: wake it, so stopping takes no time.
    watch.interrupt_all();
    server.stop();
    server_thread.join();
    observation.files = read_all_files(disk);
    return observation;
}

}  // namespace ferry::harness
