#include "ferry/harness/sim_world.h"

#include <algorithm>

#include <fmt/core.h>

#include "ferry/harness/value_text.h"
#include "ferry/protocol/digest.h"
#include "ferry/protocol/names.h"
#include "ferry/protocol/store.h"
#include "ferry/sim/sim_connection.h"
#include "ferry/sim/sim_network.h"

namespace ferry::harness {

namespace {

constexpr auto restart_delay = std::chrono::milliseconds(1);
/// A boot whose store does not open tries again, waiting twice as long each
/// time, as a supervisor backs off; after this many it gives up.
constexpr std::uint64_t failed_boots_max = 8;

/// A connection of the server's machine while a crash waits for its bytes:
/// counts what it receives, stops a recv exactly at the crash's offset and
/// crashes the machine there. Its calls keep the caller's timeouts.
class CountingConnection final : public Connection {
  public:
    CountingConnection(std::unique_ptr<Connection> inner, SimWorld& world)
        : Connection(inner->clock()), inner_(std::move(inner)), world_(world) {}

    void shutdown_send() override { inner_->shutdown_send(); }
    void close() override { inner_->close(); }
    std::string peer_name() const override { return inner_->peer_name(); }

  protected:
    std::size_t do_send(std::span<const std::byte> bytes) override {
        pass_deadline();
        return inner_->send(bytes, send_site());
    }
    std::size_t do_recv(std::span<std::byte> buffer) override {
        if (!world_.counts_received())
            return pass(buffer);
        const std::uint64_t allowed = world_.bytes_before_crash();
        if (allowed == 0) {
            world_.received(0);
            return pass(buffer);  // on a dead machine: it unwinds in there
        }
        const std::size_t got = pass(buffer.first(std::min<std::uint64_t>(buffer.size(), allowed)));
        world_.received(got);
        return got;
    }

  private:
    std::size_t pass(std::span<std::byte> buffer) {
        pass_deadline();
        return inner_->recv(buffer, recv_site());
    }
    void pass_deadline() {
        inner_->set_timeout(std::nullopt);
        inner_->set_deadline(call_deadline());
    }

    std::unique_ptr<Connection> inner_;
    SimWorld& world_;
};

}  // namespace

/// A simulated listener as the protocol's Listener; it leaves the world's
/// list when it goes, with the process that owns it.
class SimListenerAdapter final : public Listener {
  public:
    SimListenerAdapter(std::unique_ptr<sim::SimListener> listener, SimWorld& world,
                       bool server_machine)
        : listener_(std::move(listener)), world_(world), server_machine_(server_machine) {}
    ~SimListenerAdapter() override { world_.forget(this); }

    std::unique_ptr<Connection> accept(std::optional<Duration> timeout) override {
        std::unique_ptr<Connection> conn = listener_->accept(timeout);
        if (conn && server_machine_ && world_.counts_received())
            return std::make_unique<CountingConnection>(std::move(conn), world_);
        return conn;
    }
    bool closed() const override { return listener_->closed(); }
    void close() { listener_->close(); }

  private:
    std::unique_ptr<sim::SimListener> listener_;
    SimWorld& world_;
    bool server_machine_;
};

SimWorld::SimWorld(sim::Simulation& sim, const FaultPlan& faults, std::uint64_t seed)
    : sim_(sim), faults_(faults), seed_(seed), disk_(sim), node_(sim, "server", &disk_) {
    disk_.set_crash_handler([this] { crash_now(); });
}

SimWorld::~SimWorld() {
    disk_.set_crash_handler(nullptr);
}

std::unique_ptr<Listener> SimWorld::listen(const std::string& address) {
    auto listener = std::make_unique<SimListenerAdapter>(sim_.network().listen(address), *this,
                                                         on_server_machine());
    if (clients_running_ == 0 && boots_ > 1)
        listener->close();  // a restart after the run: nobody is served
    listeners_.push_back(listener.get());
    return listener;
}

World::ConnectResult SimWorld::try_connect(const std::string& address,
                                           std::optional<Duration> timeout) {
    auto result = sim_.network().connect_or_error(address, timeout);
    if (auto* error = std::get_if<ConnectionError>(&result))
        return std::move(*error);
    return std::unique_ptr<Connection>(
        std::move(std::get<std::unique_ptr<sim::SimConnection>>(result)));
}

void SimWorld::spawn(std::string name, std::function<void()> body) {
    sim_.spawn(std::move(name), std::move(body), true);
}

void SimWorld::spawn_client(std::string name, std::function<void()> body) {
    ++clients_running_;
    sim_.spawn(
        std::move(name),
        [this, body = std::move(body)] {
            body();
            // The last client done: the servers stop accepting, so their
            // accept loops return while the run drains.
            if (--clients_running_ == 0) {
                for (SimListenerAdapter* listener : listeners_)
                    listener->close();
            }
        },
        false);
}

void SimWorld::start_server(std::string name, std::function<void(Store&)> boot_body) {
    server_name_ = std::move(name);
    server_boot_ = std::move(boot_body);
    boot();
}

Store& SimWorld::store() {
    if (!store_)
        throw StoreError(StoreErrorKind::io, "the server's machine has no store: it never booted");
    return *store_;
}

void SimWorld::preload_file(const std::string& name, std::string_view content) {
    const auto bytes = as_bytes(content);
    disk_.put_durable_file(name, bytes);
}

void SimWorld::preload_directory(const std::string& name) {
    disk_.put_directory(name);
}

bool SimWorld::on_server_machine() const {
    const sim::ProcessId self = sim_.current_process_id();
    return self != 0 && sim_.group_of(self) == node_.group();
}

}  // namespace ferry::harness

namespace ferry::harness {

void SimWorld::boot() {
    ++boots_;
    node_.spawn(
        server_name_,
        [this] {
            std::unique_ptr<DiskStore> opened;
            try {
                opened = std::make_unique<DiskStore>(node_.mount());
            } catch (const StoreError& e) {
                sim_.annotate(fmt::format("the server cannot start: {}", e.what()));
                if (!sim_.current_process_killed() && ++failed_boots_ < failed_boots_max)
                    boot_later(restart_delay * (std::uint64_t{1} << failed_boots_));
                return;
            }
            failed_boots_ = 0;
            if (boots_ == 1)
                disk_.set_faults(disk_faults());  // the faults strike a running server
            store_ = std::move(opened);           // the dead boot's goes
            alive_ = true;
            server_boot_(*store_);
        },
        true);
}

void SimWorld::boot_later(Duration after) {
    if (boot_pending_)
        return;
    boot_pending_ = true;
    sim_.spawn_in(
        0, "restart",
        [this, after] {
            sim_.delay(after);
            boot_pending_ = false;
            boot();
        },
        true);
}

sim::FsFaults SimWorld::disk_faults() const {
    sim::FsFaults faults = faults_.disk;
    if (faults_.crash && !faults_.crash->after_bytes) {
        faults.crash_at_call = faults_.crash->at_call;
        faults.crash_call_kind = faults_.crash->call_kind;
    }
    return faults;
}

void SimWorld::crash_now() {
    crashed_ = true;
    alive_ = false;
    const sim::CrashFault crash = faults_.crash.value_or(sim::CrashFault{});
    if (crash.power_loss) {
        sim_.annotate("the server's machine loses power");
        power_losses_.push_back(sim_.now());
        node_.crash();
    } else {
        sim_.annotate("the server's machine is killed");
        node_.kill();
    }
    if (crash.restart)
        boot_later(restart_delay);
}

std::uint64_t SimWorld::bytes_before_crash() const {
    const std::uint64_t at = *faults_.crash->after_bytes;
    return at > received_ ? at - received_ : 0;
}

void SimWorld::received(std::uint64_t bytes) {
    received_ += bytes;
    if (received_ >= *faults_.crash->after_bytes && !crashed_)
        crash_now();
}

std::vector<std::string> SimWorld::temporary_files() const {
    std::vector<std::string> temps;
    for (const std::string& name : disk_.names()) {
        if (DiskStore::is_temporary_name(name))
            temps.push_back(name);
    }
    return temps;
}

std::optional<Failure> SimWorld::finish() {
    sim_.stop_processes();
    if (boots_ == 0)
        return std::nullopt;  // no server: nothing on the disk to check
    const std::vector<std::string> left = temporary_files();
    if (!left.empty() && alive_ && disk_.injected_failures() == 0) {
        return Failure{FailureKind::leaked_file, "temporary file after the run",
                       fmt::format("the server's disk holds {} once every upload has ended, "
                                   "and no failing call or crash explains it",
                                   left.front())};
    }
    files_at_end_.emplace();
    for (const std::string& name : disk_.names()) {
        if (!is_valid_name(name))
            continue;
        if (auto content = disk_.file_content(name))  // not a directory
            files_at_end_->emplace_back(name, std::move(*content));
    }
    // Reported once the store is open again: the model reads it after this.
    std::optional<Failure> kept_digest = check_kept_digests("as the run left it");
    node_.crash();  // the power goes after every run: no clean shutdown
    store_.reset();
    alive_ = false;
    disk_.set_faults({});
    try {
        store_ = std::make_unique<DiskStore>(node_.mount());
    } catch (const StoreError& e) {
        return Failure{FailureKind::process_failed, "store does not open after a crash", e.what()};
    }
    if (const std::vector<std::string> after = temporary_files(); !after.empty()) {
        return Failure{FailureKind::leaked_file, "temporary file after a restart",
                       fmt::format("{} is still on the server's disk after a power loss and a "
                                   "restart's cleanup",
                                   after.front())};
    }
    if (kept_digest)
        return kept_digest;
    return check_kept_digests("after a power loss");
}

std::optional<Failure> SimWorld::check_kept_digests(std::string_view when) const {
    // A digest kept with a file is what a GET sends without hashing: one
    // that a reader would take (DiskStore::kept_digest) must describe the
    // file's bytes, whatever raced or crashed. (A temporary file's may not:
    // a crash can keep its digest and lose its bytes; nobody reads it.)
    for (const std::string& name : disk_.names()) {
        if (!is_valid_name(name))
            continue;
        const auto value = disk_.attribute(name, DiskStore::digest_attribute_name());
        const auto bytes = value ? disk_.file_content(name) : std::nullopt;
        if (!bytes)
            continue;
        const auto kept = DiskStore::kept_digest(*value, bytes->size());
        if (!kept || *kept == sim::digest_of(*bytes))
            continue;
        return Failure{FailureKind::wrong_data, "kept digest of other bytes",
                       fmt::format("{} ({} bytes) on the server's disk {} keeps the digest {}, "
                                   "but its bytes hash to {}",
                                   name, bytes->size(), when, *kept, sim::digest_of(*bytes))};
    }
    return std::nullopt;
}

}  // namespace ferry::harness
