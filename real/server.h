#pragma once
// ferry serve: accepts clients on a TcpListener and serves each on its own
// thread with the chosen protocol, up to a connection limit (past it, ferry/1
// clients get "ERR 503"). stop() (or a signal, through the listener's
// interrupt) ends accepting, wakes every connection and waits for the threads.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>

#include "protocol/ferry_server.h"
#include "protocol/naive.h"
#include "protocol/store.h"
#include "real/tcp_listener.h"

namespace ferry {

enum class ProtocolKind { ferry, naive };

struct ServerConfig {
    ProtocolKind protocol = ProtocolKind::ferry;
    std::size_t naive_chunk_bytes = naive_chunk_bytes_default;
    std::size_t max_connections = 256;
    FerryServerConfig ferry;
    /// One line per event (connection, request, error), for the server's log.
    std::function<void(std::string_view)> log;
};

class Server {
public:
    Server(TcpListener& listener, Store& store, ServerConfig config);
    ~Server();  ///< stops and joins

    /// Accepts and serves until stop() or listener.interrupt(); then closes
    /// every connection and waits for their threads.
    void run();
    /// Thread-safe; also what a signal handler should trigger (through
    /// TcpListener::interrupt, which is async-signal-safe).
    void stop();
    std::size_t active_connections() const;

private:
    void serve_one(std::uint64_t id, std::unique_ptr<TcpConnection> conn);
    void reap_finished();

    TcpListener& listener_;
    Store& store_;
    ServerConfig config_;
    UploadNamer namer_;
    std::mutex mutex_;  ///< guards namer_, connections_, threads_, finished_
    std::map<std::uint64_t, TcpConnection*> connections_;
    std::map<std::uint64_t, std::thread> threads_;
    std::vector<std::uint64_t> finished_;
    std::atomic<std::size_t> active_{0};
    std::uint64_t next_id_ = 1;
};

}  // namespace ferry
