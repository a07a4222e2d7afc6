#include "real/server.h"

#include <chrono>
#include <exception>
#include <string>
#include <system_error>
#include <utility>

#include <fmt/core.h>

namespace ferry {

namespace {

/// How long run() waits in accept() before reaping finished threads anyway.
constexpr auto accept_wait = std::chrono::seconds(1);
/// How long a refused client gets to take its "ERR 503" line.
constexpr auto refuse_timeout = std::chrono::seconds(1);

std::string describe(std::uint64_t id, const Connection& conn) {
    return fmt::format("conn {} {}", id, conn.peer_name());
}

}  // namespace

Server::Server(TcpListener& listener, Store& store, ServerConfig config)
    : listener_(listener), store_(store), config_(std::move(config)) {}

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

void Server::run() {
    {
        std::lock_guard lock(mutex_);
        if (stopping_ || running_)
            return;
        running_ = true;
    }
    std::exception_ptr failure;
    try {
        for (;;) {
            reap_finished();
            std::unique_ptr<TcpConnection> conn = listener_.accept(accept_wait);
            if (!conn) {
                if (listener_.interrupted())
                    break;
                continue;  // a quiet second: reap and wait again
            }
            const std::uint64_t id = next_id_++;
            if (active_.load() >= config_.max_connections) {
                refuse(id, *conn);
                continue;
            }
            const std::string who = describe(id, *conn);
            log(fmt::format("{}: accepted ({} active)", who, active_.load() + 1));
            std::string failed;
            {
                std::lock_guard lock(mutex_);
                if (stopping_)
                    break;
                connections_.emplace(id, conn.get());
                ++active_;
                try {
                    threads_.emplace(id,
                                     std::thread(&Server::serve_one, this, id, std::move(conn)));
                } catch (const std::system_error& e) {
                    // The thread's copy of conn, if made, closed the connection.
                    connections_.erase(id);
                    --active_;
                    failed = e.what();
                }
            }
            if (!failed.empty())
                log(fmt::format("{}: no thread to serve it, dropped: {}", who, failed));
        }
    } catch (const std::exception& e) {
        log(fmt::format("accept loop failed: {}", e.what()));
        failure = std::current_exception();
    } catch (...) {
        log("accept loop failed");
        failure = std::current_exception();
    }
    stop_connections();
    join_all();
    {
        std::lock_guard lock(mutex_);
        running_ = false;
    }
    run_returned_.notify_all();
    if (failure)
        std::rethrow_exception(failure);
}

void Server::stop() {
    listener_.interrupt();
    stop_connections();
    {
        std::unique_lock lock(mutex_);
        run_returned_.wait(lock, [this] { return !running_; });
    }
    join_all();
}

std::size_t Server::active_connections() const {
    return active_.load();
}

std::size_t Server::unjoined_threads() const {
    std::lock_guard lock(mutex_);
    return threads_.size();
}

void Server::stop_connections() {
    std::lock_guard lock(mutex_);
    stopping_ = true;
    for (auto& [id, conn] : connections_)
        conn->interrupt();
}

void Server::join_all() {
    std::map<std::uint64_t, std::thread> threads;
    {
        std::lock_guard lock(mutex_);
        threads.swap(threads_);
        finished_.clear();
    }
    for (auto& [id, thread] : threads)
        thread.join();
}

void Server::reap_finished() {
    std::vector<std::thread> done;
    {
        std::lock_guard lock(mutex_);
        for (const std::uint64_t id : finished_) {
            const auto found = threads_.find(id);
            if (found == threads_.end())
                continue;
            done.push_back(std::move(found->second));
            threads_.erase(found);
        }
        finished_.clear();
    }
    // Each has left serve_one's critical section; joining only waits for the
    // thread's exit.
    for (auto& thread : done)
        thread.join();
}

void Server::refuse(std::uint64_t id, TcpConnection& conn) {
    log(fmt::format("{}: refused, too many connections ({} active, limit {})", describe(id, conn),
                    active_.load(), config_.max_connections));
    try {
        conn.set_timeout(refuse_timeout);
        if (config_.protocol == ProtocolKind::ferry)
            refuse_busy(conn);
        conn.close();
    } catch (const std::exception& e) {
        log(fmt::format("{}: refusing failed: {}", describe(id, conn), e.what()));
    }
}

void Server::serve_one(std::uint64_t id, std::unique_ptr<TcpConnection> conn) {
    const std::string who = describe(id, *conn);
    std::unique_ptr<Connection> wrapped;
    try {
        // The wrapper owns the TcpConnection from here; connections_ keeps
        // pointing at it for stop(). Should the wrapper throw, it has
        // destroyed the connection: mutex_ keeps stop() from reaching it
        // before it leaves connections_.
        if (config_.wrap_connection) {
            std::lock_guard lock(mutex_);
            try {
                wrapped = config_.wrap_connection(std::move(conn));
            } catch (...) {
                connections_.erase(id);
                throw;
            }
        }
        serve_protocol(id, wrapped ? *wrapped : *conn);
    } catch (const std::exception& e) {
        log(fmt::format("{}: failed: {}", who, e.what()));
    } catch (...) {
        log(fmt::format("{}: failed with an unknown exception", who));
    }
    try {
        if (wrapped)
            wrapped->close();
        else if (conn)
            conn->close();
    } catch (...) {
    }
    std::size_t active = 0;
    {
        std::lock_guard lock(mutex_);
        connections_.erase(id);
        finished_.push_back(id);
        active = --active_;
    }
    log(fmt::format("{}: closed ({} active)", who, active));
}

void Server::serve_protocol(std::uint64_t id, Connection& conn) {
    if (config_.protocol == ProtocolKind::ferry) {
        FerryServerConfig ferry = config_.ferry;
        if (!ferry.log && config_.log) {
            // The session's lines start with the peer's name already.
            ferry.log = [this, id](std::string_view line) {
                log(fmt::format("conn {} {}", id, line));
            };
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
    log(fmt::format("{}: stored {} bytes as {}, replied {:?}", describe(id, conn),
                    result.stored_bytes, name, result.reply));
    conn.close();
}

}  // namespace ferry
