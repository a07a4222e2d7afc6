#pragma once
// ferry serve: the protocol's accept loop (protocol/accept_loop.h) over a
// TcpListener, with a thread per client, up to a connection limit (past it,
// ferry/1 clients get "ERR 503"). stop() (or a signal, through the listener's
// interrupt) ends accepting, wakes every connection and waits for the threads.

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <thread>
#include <vector>

#include "ferry/protocol/accept_loop.h"
#include "ferry/protocol/ferry_server.h"
#include "ferry/protocol/naive.h"
#include "ferry/protocol/store.h"
#include "ferry/real/tcp_listener.h"

namespace ferry {

enum class ProtocolKind { ferry, naive };

struct ServerConfig {
    ProtocolKind protocol = ProtocolKind::ferry;
    std::size_t naive_chunk_bytes = naive_chunk_bytes_default;
    std::size_t max_connections = 256;
    /// At most this many of them from one client address; 0 = no cap.
    std::size_t max_connections_per_address = 32;
    /// A floor under the rate of a request being served (its line in): each
    /// min_rate_bytes sent or received may take at most min_rate_window, or
    /// the client is answered ERR 408 and closed. A body dripping in one byte
    /// per idle timeout cannot hold a slot for ever. 0 bytes: no floor.
    std::uint64_t min_rate_bytes = 10 * 1024;
    Duration min_rate_window = std::chrono::seconds(10);
    FerryServerConfig ferry;
    /// How long the chapter's server waits for a client; none = for ever, as
    /// in the chapter (the harness uses that to show its deadlocks).
    std::optional<Duration> naive_idle_timeout = std::chrono::seconds(30);
    /// One line per event (connection, request, error), for the server's log.
    std::function<void(std::string_view)> log;
    /// Wraps each accepted connection before it is served (the harness injects
    /// faults and watches calls this way); none = serve it as it is.
    std::function<std::unique_ptr<Connection>(std::unique_ptr<TcpConnection>)> wrap_connection;
    /// Graceful shutdown: once the listener is interrupted, how long
    /// requests in flight may take to finish (new clients are refused, new
    /// requests answered ERR 503, idle connections closed). Zero: stop at
    /// once, cutting them.
    Duration shutdown_grace = Duration::zero();
};

class Server {
  public:
    Server(TcpListener& listener, Store& store, ServerConfig config);
    ~Server();  ///< stops and joins
    Server(const Server&) = delete;
    Server& operator=(const Server&) = delete;

    /// Accepts and serves until stop() or listener.interrupt(); then closes
    /// every connection and waits for their threads. Call it once.
    void run();
    /// Thread-safe; also what a signal handler should trigger (through
    /// TcpListener::interrupt, which is async-signal-safe). Interrupts the
    /// listener and every connection, and returns once every connection
    /// thread is joined and run() (if it runs) has returned.
    void stop();
    /// Async-signal-safe: ends a graceful shutdown's grace now (a second
    /// SIGTERM), or skips it if it has not begun.
    void hurry() noexcept { hurry_.store(true); }
    /// Connections being served now (refused ones never count).
    std::size_t active_connections() const { return slots_.active(); }
    /// Connections waiting for a request (or the rest of its line) now.
    std::size_t waiting_for_requests() const;
    /// Connections ended to make room for a new client, so far.
    std::uint64_t connections_ended_for_room() const;
    /// Connection threads started and not yet joined: finished ones are
    /// reaped as run() goes on, so this stays near active_connections().
    std::size_t unjoined_threads() const;

  private:
    class Acceptor;
    class Threads;
    class Tracked;

    void serve_protocol(Connection& conn, std::uint64_t id);
    void refuse(Connection& conn, SlotsFull why);
    void drain();
    void on_event(const AcceptEvent& event);
    void interrupt_connections();
    void log(const std::string& line);

    TcpListener& listener_;
    Store& store_;
    ServerConfig config_;
    ConnectionSlots slots_;
    ConnectionHandlers handlers_;
    AcceptLoopOptions loop_options_;
    std::unique_ptr<Acceptor> acceptor_;
    std::unique_ptr<Threads> threads_;
    std::mutex namer_mutex_;  ///< guards namer_, apart so naming (a listing) never holds up others
    UploadNamer namer_;
    std::mutex state_mutex_;  ///< guards running_
    bool running_ = false;    ///< run() has not returned yet
    std::condition_variable run_returned_;
    std::mutex log_mutex_;  ///< one log line at a time
    std::atomic<bool> hurry_{false};
    static_assert(std::atomic<bool>::is_always_lock_free, "hurry() must be async-signal-safe");
};

}  // namespace ferry
