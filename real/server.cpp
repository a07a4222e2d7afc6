#include "ferry/real/server.h"

#include <array>
#include <chrono>
#include <exception>
#include <set>
#include <string>
#include <system_error>
#include <utility>

#include <fmt/core.h>

#include "ferry/protocol/ferry_wire.h"

namespace ferry {

namespace {

/// How long run() waits in accept() before reaping finished threads anyway.
constexpr auto accept_wait = std::chrono::seconds(1);
/// What a refused client may have sent already that is read and dropped, so
/// that closing sends it a FIN after our ERR line rather than a reset.
constexpr std::size_t refused_bytes_dropped_max = 64 * 1024;

/// Answers "ERR 503 <why>" and closes, without waiting for anything: the
/// line fits in a new connection's empty send buffer.
void refuse_at_once(Connection& conn, std::string_view why) {
    try {
        conn.set_deadline(conn.clock().now());
        send_all(conn, format_err(ErrCode::too_many_connections, why, true));
        conn.shutdown_send();
        std::array<std::byte, 4096> dropped;
        for (std::size_t total = 0; total < refused_bytes_dropped_max;) {
            const std::size_t got = conn.recv(dropped);
            if (got == 0)
                break;
            total += got;
        }
    } catch (const ConnectionError&) {
        // Nothing more is waiting, or the client is gone.
    }
    conn.close();
}
/// How often a graceful shutdown looks whether its connections are done.
constexpr auto drain_poll = std::chrono::milliseconds(10);

}  // namespace

/// An accepted connection, listed for stop() while it lives: stop() reaches
/// the TcpConnection underneath (whatever wraps it) to wake its calls. It
/// also holds a request being served to the server's minimum rate.
class Server::Tracked final : public Connection {
  public:
    Tracked(std::unique_ptr<Connection> inner, Acceptor& acceptor, std::uint64_t id,
            const ServerConfig& config)
        : Connection(inner->clock()),
          inner_(std::move(inner)),
          acceptor_(acceptor),
          id_(id),
          min_rate_bytes_(config.min_rate_bytes),
          min_rate_window_(config.min_rate_window) {}
    ~Tracked() override;

    void shutdown_send() override { inner_->shutdown_send(); }
    void close() override { inner_->close(); }
    std::string peer_name() const override { return inner_->peer_name(); }

    /// The session waits for a request (idle) or serves one, from now.
    void set_idle(bool idle);
    bool draining() const;

  protected:
    std::size_t do_send(std::span<const std::byte> bytes) override {
        return at_min_rate([&] { return inner_->send(bytes, send_site()); });
    }
    std::size_t do_recv(std::span<std::byte> buffer) override {
        return at_min_rate([&] { return inner_->recv(buffer, recv_site()); });
    }
    /// Whatever the connection underneath can: sendfile on a TcpConnection,
    /// nothing on a fault-injecting wrapper (which then sees every send).
    std::optional<std::size_t> do_send_file(const FileReader& file, std::uint64_t offset,
                                            std::uint64_t count) override {
        std::optional<std::size_t> sent;
        at_min_rate([&] {
            sent = inner_->send_file(file, offset, count, send_site());
            return sent.value_or(0);
        });
        return sent;
    }

  private:
    /// Runs one call of the connection underneath with this connection's
    /// deadline, cut short where the minimum rate requires.
    template <typename Call>
    std::size_t at_min_rate(Call call) {
        const Deadline floor =
            rate_armed_ ? Deadline(rate_since_ + min_rate_window_) : Deadline(std::nullopt);
        inner_->set_deadline(earliest(call_deadline(), floor));
        std::size_t moved = 0;
        try {
            moved = call();
        } catch (const ConnectionError& e) {
            if (e.kind() != ErrorKind::timed_out || !floor || clock().now() < *floor)
                throw;
            rate_armed_ = false;  // the ERR 408 that follows may take its time
            throw ConnectionError(
                ErrorKind::timed_out,
                fmt::format("too slow: {} of {} bytes moved in {} ms", rate_moved_, min_rate_bytes_,
                            as_milliseconds(min_rate_window_)));
        }
        rate_moved_ += moved;
        if (rate_moved_ >= min_rate_bytes_) {
            rate_since_ = clock().now();
            rate_moved_ = 0;
        }
        return moved;
    }
    static std::int64_t as_milliseconds(Duration d) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    }

    std::unique_ptr<Connection> inner_;
    Acceptor& acceptor_;
    std::uint64_t id_;
    std::uint64_t min_rate_bytes_;
    Duration min_rate_window_;
    bool rate_armed_ = false;  ///< a request is being served and the floor is on
    Instant rate_since_{};     ///< when rate_moved_ started counting
    std::uint64_t rate_moved_ = 0;
};

/// The TcpListener as the accept loop's Listener: wraps each connection (the
/// harness's fault injection), and keeps the live ones for stop().
class Server::Acceptor final : public Listener {
  public:
    explicit Acceptor(Server& server) : server_(server) {}

    std::unique_ptr<Connection> accept(std::optional<Duration> timeout) override {
        std::unique_ptr<TcpConnection> tcp = server_.listener_.accept(timeout);
        if (!tcp)
            return nullptr;
        if (server_.listener_.out_of_descriptors()) {
            server_.log(fmt::format("{}: refused, out of file descriptors", tcp->peer_name()));
            refuse_at_once(*tcp, "server out of file descriptors");
            return nullptr;
        }
        TcpConnection* raw = tcp.get();
        std::unique_ptr<Connection> conn;
        if (server_.config_.wrap_connection) {
            const std::string peer = tcp->peer_name();
            try {
                // Should it throw, the wrapper has destroyed the connection.
                conn = server_.config_.wrap_connection(std::move(tcp));
            } catch (const std::exception& e) {
                server_.log(fmt::format("{}: failed: {}", peer, e.what()));
                return nullptr;
            }
        } else {
            conn = std::move(tcp);
        }
        std::lock_guard lock(mutex_);
        if (stopping_) {
            conn->close();
            return nullptr;
        }
        const std::uint64_t id = next_id_++;
        live_.emplace(id, Live{raw, std::string(address_of(raw->peer_name()))});
        return std::make_unique<Tracked>(std::move(conn), *this, id, server_.config_);
    }
    bool closed() const override { return server_.listener_.interrupted(); }

    /// Wakes every live connection's calls; connections accepted from now on
    /// are closed at once.
    void interrupt_all() {
        std::lock_guard lock(mutex_);
        stopping_ = true;
        for (auto& [id, live] : live_)
            live.conn->interrupt();
    }
    /// Graceful shutdown: every connection answers its next request ERR 503.
    void start_draining() { draining_.store(true); }
    bool draining() const { return draining_.load(); }
    void set_idle(std::uint64_t id, bool idle) {
        std::lock_guard lock(mutex_);
        forget_idle(id);
        if (idle && !ended_for_room_.contains(id)) {
            const std::uint64_t order = next_idle_order_++;
            idle_.emplace(id, order);
            idle_order_.emplace(order, id);
        }
    }
    /// Ends the connection that has waited longest for a request (from
    /// address, when it is that address that is full), so a new client can
    /// have its slot; false when every connection is serving a request.
    bool make_room(std::string_view address, SlotsFull why) {
        std::lock_guard lock(mutex_);
        for (const auto& [order, id] : idle_order_) {
            const Live& live = live_.at(id);
            if (why == SlotsFull::address && live.address != address)
                continue;
            const std::uint64_t ended = id;
            forget_idle(ended);
            ended_for_room_.insert(ended);
            ++room_made_;
            live.conn->interrupt();
            server_.log(fmt::format("{}: ended while waiting for a request, to make room for {}",
                                    live.conn->peer_name(), address));
            return true;
        }
        return false;
    }
    std::size_t idle() const {
        std::lock_guard lock(mutex_);
        return idle_.size();
    }
    std::uint64_t room_made() const {
        std::lock_guard lock(mutex_);
        return room_made_;
    }
    /// Live connections not waiting for a request: serving one.
    std::size_t busy() {
        std::lock_guard lock(mutex_);
        return live_.size() - idle_.size();
    }
    void forget(std::uint64_t id) {
        std::lock_guard lock(mutex_);
        live_.erase(id);
        forget_idle(id);
        ended_for_room_.erase(id);
    }

  private:
    struct Live {
        TcpConnection* conn;
        std::string address;
    };

    void forget_idle(std::uint64_t id) {
        if (const auto found = idle_.find(id); found != idle_.end()) {
            idle_order_.erase(found->second);
            idle_.erase(found);
        }
    }

    Server& server_;
    mutable std::mutex mutex_;  ///< guards everything below but draining_
    std::map<std::uint64_t, Live> live_;
    /// Live connections waiting for a request, and since when (an order).
    std::map<std::uint64_t, std::uint64_t> idle_;
    std::map<std::uint64_t, std::uint64_t> idle_order_;  ///< idle_ inverted: oldest first
    std::uint64_t next_idle_order_ = 0;
    std::set<std::uint64_t> ended_for_room_;  ///< interrupted by make_room, not yet gone
    std::uint64_t room_made_ = 0;
    std::uint64_t next_id_ = 1;
    bool stopping_ = false;
    std::atomic<bool> draining_{false};
};

Server::Tracked::~Tracked() {
    // Off the list before the connection underneath goes away.
    acceptor_.forget(id_);
}

void Server::Tracked::set_idle(bool idle) {
    acceptor_.set_idle(id_, idle);
    rate_armed_ = !idle && min_rate_bytes_ > 0;
    rate_since_ = clock().now();
    rate_moved_ = 0;
}

bool Server::Tracked::draining() const {
    return acceptor_.draining();
}

/// A thread per task; finished threads are joined by reap() and join_all().
class Server::Threads final : public TaskRunner {
  public:
    void spawn(std::string name, std::function<void()> body) override {
        (void)name;
        std::lock_guard lock(mutex_);
        const std::uint64_t id = next_id_++;
        // std::thread throws std::system_error when no thread can be had.
        threads_.emplace(id, std::thread([this, id, body = std::move(body)] {
                             body();
                             std::lock_guard done(mutex_);
                             finished_.push_back(id);
                         }));
    }
    /// Joins the threads whose bodies have returned.
    void reap() {
        std::vector<std::thread> done;
        {
            std::lock_guard lock(mutex_);
            for (const std::uint64_t id : finished_) {
                const auto found = threads_.find(id);
                done.push_back(std::move(found->second));
                threads_.erase(found);
            }
            finished_.clear();
        }
        // Each has left its body; joining only waits for the thread's exit.
        for (auto& thread : done)
            thread.join();
    }
    void join_all() {
        std::map<std::uint64_t, std::thread> threads;
        {
            std::lock_guard lock(mutex_);
            threads.swap(threads_);
            finished_.clear();
        }
        for (auto& [id, thread] : threads)
            thread.join();
    }
    std::size_t unjoined() const {
        std::lock_guard lock(mutex_);
        return threads_.size();
    }

  private:
    mutable std::mutex mutex_;  ///< guards threads_, finished_, next_id_
    std::map<std::uint64_t, std::thread> threads_;
    std::vector<std::uint64_t> finished_;
    std::uint64_t next_id_ = 1;
};

Server::Server(TcpListener& listener, Store& store, ServerConfig config)
    : listener_(listener),
      store_(store),
      config_(std::move(config)),
      slots_(config_.max_connections, config_.max_connections_per_address),
      acceptor_(std::make_unique<Acceptor>(*this)),
      threads_(std::make_unique<Threads>()) {
    handlers_.serve = [this](Connection& conn, std::uint64_t id) { serve_protocol(conn, id); };
    handlers_.refuse = [this](Connection& conn, SlotsFull why) { refuse(conn, why); };
    handlers_.make_room = [this](std::string_view address, SlotsFull why) {
        return acceptor_->make_room(address, why);
    };
    loop_options_.accept_wait = accept_wait;
    loop_options_.after_wait = [this] { threads_->reap(); };
    loop_options_.on_event = [this](const AcceptEvent& event) { on_event(event); };
}

Server::~Server() {
    stop();
}

void Server::log(const std::string& line) {
    if (!config_.log)
        return;
    std::lock_guard lock(log_mutex_);
    try {
        config_.log(line);
    } catch (...) {
        // A failing log must not take a connection, or the server, down.
    }
}

void Server::on_event(const AcceptEvent& event) {
    const std::string who = fmt::format("conn {} {}", event.connection, event.peer);
    switch (event.kind) {
        case AcceptEvent::Kind::accepted:
            log(fmt::format("{}: accepted ({} active){}", who, event.active,
                            event.detail.empty() ? "" : fmt::format(", {}", event.detail)));
            return;
        case AcceptEvent::Kind::refused:
            log(fmt::format("{}: refused, {} ({} active, limit {}, {} per address)", who,
                            event.detail, event.active, slots_.limit(),
                            slots_.per_address_limit()));
            return;
        case AcceptEvent::Kind::finished:
            if (!event.detail.empty())
                log(fmt::format("{}: failed: {}", who, event.detail));
            log(fmt::format("{}: closed ({} active)", who, event.active));
            return;
        case AcceptEvent::Kind::not_started:
            log(fmt::format("{}: no thread to serve it, dropped: {}", who, event.detail));
            return;
    }
}

void Server::run() {
    {
        std::lock_guard lock(state_mutex_);
        if (running_)
            return;
        running_ = true;
    }
    std::exception_ptr failure;
    try {
        if (!listener_.interrupted())
            run_accept_loop(*acceptor_, *threads_, slots_, handlers_, loop_options_);
    } catch (const std::exception& e) {
        log(fmt::format("accept loop failed: {}", e.what()));
        failure = std::current_exception();
    }
    if (!failure && config_.shutdown_grace > Duration::zero() && !hurry_.load())
        drain();
    acceptor_->interrupt_all();
    threads_->join_all();
    {
        std::lock_guard lock(state_mutex_);
        running_ = false;
    }
    run_returned_.notify_all();
    if (failure)
        std::rethrow_exception(failure);
}

/// Graceful shutdown: new clients are refused, new requests answered ERR
/// 503, and the requests in flight get up to the grace to finish (or until
/// hurry()); run() then closes the connections left, idle or not.
void Server::drain() {
    listener_.stop_listening();
    acceptor_->start_draining();
    const auto grace_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(config_.shutdown_grace).count();
    log(fmt::format("shutting down: {} requests in flight get up to {} ms to finish",
                    acceptor_->busy(), grace_ms));
    const auto deadline = std::chrono::steady_clock::now() + config_.shutdown_grace;
    while (acceptor_->busy() > 0 && !hurry_.load() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(drain_poll);
        threads_->reap();
    }
    if (const std::size_t busy = acceptor_->busy(); busy > 0) {
        log(fmt::format("shutting down: {} requests cut ({})", busy,
                        hurry_.load() ? "signalled again" : "the grace is over"));
    }
}

void Server::stop() {
    hurry_.store(true);
    listener_.interrupt();
    acceptor_->interrupt_all();
    {
        std::unique_lock lock(state_mutex_);
        run_returned_.wait(lock, [this] { return !running_; });
    }
    threads_->join_all();
}

std::size_t Server::waiting_for_requests() const {
    return acceptor_->idle();
}

std::uint64_t Server::connections_ended_for_room() const {
    return acceptor_->room_made();
}

/// Runs on the accept loop's thread, so it never waits on the client.
void Server::refuse(Connection& conn, SlotsFull why) {
    if (config_.protocol != ProtocolKind::ferry)
        return;
    refuse_at_once(conn, why == SlotsFull::address ? fmt::format("too many connections from {}",
                                                                 address_of(conn.peer_name()))
                                                   : std::string(to_string(why)));
}

std::size_t Server::unjoined_threads() const {
    return threads_->unjoined();
}

void Server::serve_protocol(Connection& conn, std::uint64_t id) {
    if (config_.protocol == ProtocolKind::ferry) {
        FerryServerConfig ferry = config_.ferry;
        if (!ferry.log && config_.log) {
            // The session's lines start with the peer's name already.
            ferry.log = [this, id](std::string_view line) {
                log(fmt::format("conn {} {}", id, line));
            };
        }
        if (auto* tracked = dynamic_cast<Tracked*>(&conn)) {
            ferry.idle = [tracked](bool idle) { tracked->set_idle(idle); };
            ferry.draining = [tracked] { return tracked->draining(); };
        }
        serve_ferry_connection(conn, store_, ferry);
        return;
    }
    std::string name;
    {
        std::lock_guard lock(namer_mutex_);
        name = namer_.next(store_);
    }
    // The chapter's server waits for ever on some payloads; a real server
    // gives such a client up after the idle timeout.
    conn.set_timeout(config_.naive_idle_timeout);
    const NaiveServerResult result =
        serve_naive_upload(conn, store_, name, config_.naive_chunk_bytes);
    log(fmt::format("conn {} {}: stored {} bytes as {}, replied {:?}", id, conn.peer_name(),
                    result.stored_bytes, name, result.reply));
}

}  // namespace ferry
