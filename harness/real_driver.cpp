#include "ferry/harness/real_driver.h"

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <thread>

#include <fmt/core.h>

#include "ferry/harness/quota_store.h"
#include "ferry/harness/real_capture.h"
#include "ferry/harness/value_text.h"
#include "ferry/real/disk_store.h"
#include "ferry/real/faulty_connection.h"
#include "ferry/real/steady_clock.h"
#include "ferry/real/tcp_listener.h"
#include "ferry/sim/decisions.h"

namespace ferry::harness {

namespace {

/// A fresh directory under the system's temporary directory, removed with it.
class TemporaryRoot {
  public:
    TemporaryRoot() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "ferry-real-XXXXXX").string();
        if (!::mkdtemp(pattern.data()))
            throw std::runtime_error(fmt::format("cannot create a temporary root {}", pattern));
        path_ = pattern;
    }
    ~TemporaryRoot() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    TemporaryRoot(const TemporaryRoot&) = delete;
    TemporaryRoot& operator=(const TemporaryRoot&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

InjectedFaults injected(const FaultPlan& plan, sim::Side side) {
    const sim::NetworkFaults& n = plan.network;
    InjectedFaults faults;
    faults.max_send_bytes = n.max_send_bytes;
    faults.partial_sends = n.partial_sends.numerator != 0;
    faults.short_reads = n.short_reads.numerator != 0;
    if (n.stall && n.stall->side == side) {
        faults.stall_after_bytes = n.stall->after_bytes.value_or(0);
        faults.stall_for = n.stall->duration;
    }
    if (n.reset && n.reset->side == side)
        faults.reset_after_bytes = n.reset->after_bytes;
    return faults;
}

/// A TcpListener as a Listener: each connection it accepts wrapped with the
/// server side's faults. It tells the world when it goes (forget), since
/// the workload run that owns it may end before the world stops.
class RealListener final : public Listener {
  public:
    RealListener(std::unique_ptr<TcpListener> listener,
                 std::function<std::unique_ptr<Connection>(std::unique_ptr<TcpConnection>)> wrap,
                 std::function<void(RealListener*)> forget)
        : listener_(std::move(listener)), wrap_(std::move(wrap)), forget_(std::move(forget)) {}
    ~RealListener() override { forget_(this); }
    RealListener(const RealListener&) = delete;
    RealListener& operator=(const RealListener&) = delete;
    std::unique_ptr<Connection> accept(std::optional<Duration> timeout) override {
        auto conn = listener_->accept(timeout);
        if (!conn)
            return nullptr;
        return wrap_(std::move(conn));
    }
    bool closed() const override { return listener_->interrupted(); }
    void interrupt() { listener_->interrupt(); }

  private:
    std::unique_ptr<TcpListener> listener_;
    std::function<std::unique_ptr<Connection>(std::unique_ptr<TcpConnection>)> wrap_;
    std::function<void(RealListener*)> forget_;
};

}  // namespace

}  // namespace ferry::harness

namespace ferry::harness {

namespace {

class RealWorld final : public World {
  public:
    RealWorld(const RunSpec& spec, bool capture) : spec_(spec), disk_(root_.path()) {
        if (capture)
            capture_.emplace();
        if (spec.faults.disk.capacity_bytes != 0)
            quota_ = std::make_unique<QuotaStore>(disk_, spec.faults.disk.capacity_bytes);
    }
    ~RealWorld() override { stop(); }

    const Clock& clock() const override { return SteadyClock::instance(); }
    std::unique_ptr<Listener> listen(const std::string& address) override;
    ConnectResult try_connect(const std::string& address, std::optional<Duration> timeout) override;
    void spawn(std::string name, std::function<void()> body) override {
        start_thread(std::move(name), std::move(body), false);
    }
    void spawn_client(std::string name, std::function<void()> body) override {
        ++clients_running_;
        start_thread(std::move(name), std::move(body), true);
    }
    /// Returns once the server listens (or has ended without), so clients
    /// started next find it.
    void start_server(std::string name, std::function<void(Store&)> boot) override {
        std::unique_lock lock(mutex_);
        const std::size_t listening = ports_.size();
        lock.unlock();
        auto booted = std::make_shared<std::atomic<bool>>(false);
        start_thread(
            std::move(name),
            [this, booted, boot = std::move(boot)] {
                boot(store());
                booted->store(true);
                listened_.notify_all();
            },
            false);
        lock.lock();
        listened_.wait_for(lock, std::chrono::seconds(10),
                           [&] { return ports_.size() > listening || booted->load(); });
    }
    Store& store() override { return quota_ ? static_cast<Store&>(*quota_) : disk_; }
    void preload_file(const std::string& name, std::string_view content) override {
        auto upload = disk_.begin_upload(name);
        upload->write(as_bytes(content));
        upload->commit();
    }
    void preload_directory(const std::string& name) override {
        std::filesystem::create_directory(root_.path() / name);
    }
    void sleep(Duration duration) override { std::this_thread::sleep_for(duration); }
    void annotate(std::string_view) override {}
    std::uint64_t seed() const override { return spec_.seed; }
    std::string_view backend() const override { return "real"; }

    /// Waits for the clients, watching for a deadlock or a spent budget.
    RunResult::End wait(const RealDriverOptions& options, std::string& stuck_report);
    /// Wakes every call and listener, and joins every thread.
    void stop();
    std::vector<std::string> failures() const {
        std::lock_guard lock(mutex_);
        return failures_;
    }
    /// What crossed the wire, when asked to capture it.
    void fill_capture(sim::Recording& recording) const {
        if (capture_)
            capture_->fill(recording);
    }

  private:
    void start_thread(std::string name, std::function<void()> body, bool client);
    std::unique_ptr<Connection> faulty(std::unique_ptr<TcpConnection> conn, sim::Side side,
                                       std::string label, const std::string& address);

    const RunSpec& spec_;
    TemporaryRoot root_;
    DiskStore disk_;
    std::unique_ptr<QuotaStore> quota_;
    ConnectionWatch watch_;
    std::optional<RealCapture> capture_;
    std::atomic<std::uint64_t> connections_{0};
    std::atomic<std::size_t> clients_running_{0};
    mutable std::mutex mutex_;          ///< guards threads_, listeners_, ports_, failures_
    std::condition_variable listened_;  ///< a listener was added to ports_
    std::vector<std::thread> threads_;
    std::vector<RealListener*> listeners_;
    std::map<std::string, HostPort> ports_;
    std::vector<std::string> failures_;
};

std::unique_ptr<Connection> RealWorld::faulty(std::unique_ptr<TcpConnection> conn, sim::Side side,
                                              std::string label, const std::string& address) {
    // Each connection draws its cuts from its own generator, seeded from the
    // run's seed and the connection's number.
    auto prng = std::make_shared<sim::PrngDecisions>(spec_.seed * 1000003 + ++connections_);
    ChoiceFn choose = [prng](std::uint64_t bound) { return bound <= 1 ? 0 : prng->choose(bound); };
    auto faulty = std::make_unique<FaultyConnection>(std::move(conn), injected(spec_.faults, side),
                                                     std::move(choose), std::move(label), &watch_);
    if (capture_) {
        const std::uint16_t client_port =
            side == sim::Side::client ? faulty->local_port() : faulty->peer_port();
        faulty->tap_into(capture_->tap(side, client_port, address));
    }
    return faulty;
}

std::unique_ptr<Listener> RealWorld::listen(const std::string& address) {
    auto tcp = std::make_unique<TcpListener>(HostPort{"127.0.0.1", 0}, clock());
    const HostPort bound = tcp->local_address();
    auto listener = std::make_unique<RealListener>(
        std::move(tcp),
        [this, address](std::unique_ptr<TcpConnection> conn) {
            return faulty(std::move(conn), sim::Side::server, "server", address);
        },
        [this](RealListener* gone) {
            std::lock_guard lock(mutex_);
            std::erase(listeners_, gone);
        });
    std::lock_guard lock(mutex_);
    ports_[address] = bound;
    listeners_.push_back(listener.get());
    listened_.notify_all();
    return listener;
}

}  // namespace

}  // namespace ferry::harness

namespace ferry::harness {

namespace {

World::ConnectResult RealWorld::try_connect(const std::string& address,
                                            std::optional<Duration> timeout) {
    HostPort port;
    {
        std::lock_guard lock(mutex_);
        const auto it = ports_.find(address);
        if (it == ports_.end())
            return ConnectionError(ErrorKind::refused,
                                   fmt::format("nobody listens at {}", address));
        port = it->second;
    }
    try {
        return faulty(connect_tcp(port, clock(), timeout.value_or(std::chrono::seconds(10))),
                      sim::Side::client, fmt::format("client {}", address), address);
    } catch (const ConnectionError& e) {
        return e;
    }
}

void RealWorld::start_thread(std::string name, std::function<void()> body, bool client) {
    std::lock_guard lock(mutex_);
    threads_.emplace_back([this, name = std::move(name), body = std::move(body), client] {
        try {
            body();
        } catch (const std::exception& e) {
            std::lock_guard failed(mutex_);
            failures_.push_back(fmt::format("{} threw: {}", name, e.what()));
        }
        if (client)
            --clients_running_;
    });
}

struct Snapshot {
    std::uint64_t bytes_moved = 0;
    bool anyone_waits_with_deadline = false;
    std::string blocked_calls;
};

Snapshot look(const ConnectionWatch& watch) {
    Snapshot snap;
    watch.for_each([&](const FaultyConnection& conn) {
        snap.bytes_moved += conn.bytes_sent() + conn.bytes_received();
        const std::string call = conn.blocked_call();
        if (!call.empty())
            snap.blocked_calls += fmt::format("{}{}", snap.blocked_calls.empty() ? "" : "; ", call);
        if (conn.blocked() && !conn.blocked_for_ever())
            snap.anyone_waits_with_deadline = true;
    });
    return snap;
}

RunResult::End RealWorld::wait(const RealDriverOptions& options, std::string& stuck_report) {
    // Progress is bytes moving; a deadlock is no progress while every call
    // blocked waits without a deadline (nothing but the peer could end it).
    const auto start = std::chrono::steady_clock::now();
    Snapshot last = look(watch_);
    auto last_progress = start;
    while (clients_running_ > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
        const Snapshot now = look(watch_);
        const auto at = std::chrono::steady_clock::now();
        if (now.bytes_moved != last.bytes_moved)
            last_progress = at;
        last = now;
        if (at - start >= spec_.time_budget) {
            stuck_report = fmt::format("time budget of {} ms spent; blocked: {}",
                                       whole_ms(spec_.time_budget), now.blocked_calls);
            return RunResult::End::time_budget;
        }
        if (at - last_progress >= options.quiet_for_deadlock && !now.blocked_calls.empty() &&
            !now.anyone_waits_with_deadline) {
            stuck_report = fmt::format(
                "deadlock: no byte moved for {} ms and nobody has a timeout; blocked: {}",
                options.quiet_for_deadlock.count(), now.blocked_calls);
            return RunResult::End::deadlock;
        }
    }
    return RunResult::End::finished;
}

void RealWorld::stop() {
    std::vector<std::thread> threads;
    {
        std::lock_guard lock(mutex_);
        for (RealListener* listener : listeners_)
            listener->interrupt();
        threads.swap(threads_);
    }
    // Whatever the servers still wait for no longer matters: wake them.
    watch_.interrupt_all();
    for (auto& thread : threads)
        thread.join();
}

}  // namespace

RunResult run_on_real(const Workload& workload, const RunSpec& spec,
                      const RealDriverOptions& options) {
    RealWorld world(spec, options.recording != nullptr);
    std::unique_ptr<WorkloadRun> run = workload.start(world, spec.work);
    RunResult result;
    result.end = world.wait(options, result.stuck_report);
    if (result.end == RunResult::End::deadlock)
        result.failure = Failure{FailureKind::deadlock, "", result.stuck_report};
    else if (result.end == RunResult::End::time_budget)
        result.failure = Failure{FailureKind::time_budget, "", result.stuck_report};
    world.stop();
    const std::vector<std::string> failures = world.failures();
    if (!result.failure && !failures.empty())
        result.failure = Failure{FailureKind::process_failed, "", failures.front()};
    std::optional<Failure> model = run->check(spec.faults, result.end == RunResult::End::finished);
    if (!result.failure)
        result.failure = std::move(model);
    result.history = run->history().records();
    result.files = run->files();
    run.reset();  // the connections it still holds close: their FINs are captured too
    if (options.recording != nullptr)
        world.fill_capture(*options.recording);
    return result;
}

}  // namespace ferry::harness
