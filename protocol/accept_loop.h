#pragma once
// A server's accept loop, written once for both backends: accept a client,
// serve it as a task of its own while a slot is free, refuse it otherwise.
// `ferry serve` runs it with a thread per task over real sockets; the
// simulator runs it with a simulated process per task, so an off-by-one in
// the connection limit is as easy to find as one in a body loop.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/protocol/clock.h"
#include "ferry/protocol/connection.h"
#include "ferry/protocol/listener.h"
#include "ferry/protocol/task_runner.h"

namespace ferry {

/// The connections a server is serving, counted against its limit.
/// Thread-safe.
class ConnectionSlots {
  public:
    explicit ConnectionSlots(std::size_t limit) : limit_(limit) {}

    /// Takes a slot; false when all limit() are taken.
    bool try_take();
    /// Gives back a slot taken with try_take().
    void release();
    std::size_t active() const { return active_.load(); }
    std::size_t limit() const { return limit_; }

  private:
    std::atomic<std::size_t> active_{0};
    std::size_t limit_;
};

/// Something the loop did, for logs and for a harness's history.
struct AcceptEvent {
    enum class Kind {
        accepted,     ///< a slot was free: the connection is being served
        refused,      ///< every slot was taken: the client was refused
        finished,     ///< the task serving the connection ended
        not_started,  ///< no task could be started for it: dropped
    };
    Kind kind = Kind::accepted;
    std::uint64_t connection = 0;  ///< 1, 2, ... in the order accepted
    std::size_t active = 0;        ///< connections being served after the event
    std::string_view peer;         ///< the client, in words
    std::string_view detail;       ///< why, for finished with an error and not_started
};

std::string_view to_string(AcceptEvent::Kind kind);

/// What the loop does with a connection.
struct ConnectionHandlers {
    /// Serves a client (the loop's number for it given) on its own task. May
    /// throw std::exception (reported as the finished event's detail); the
    /// loop closes the connection after.
    std::function<void(Connection&, std::uint64_t connection)> serve;
    /// Answers a client past the limit (ferry/1: "ERR 503"); the loop closes
    /// the connection after. May be empty: the client is just closed.
    std::function<void(Connection&)> refuse;
};

struct AcceptLoopOptions {
    /// Names the serving tasks "<name> conn <n>".
    std::string name = "server";
    /// How long one accept waits before after_wait runs; none = for ever.
    std::optional<Duration> accept_wait;
    /// Runs after every accept that returned or timed out, on the loop's task
    /// (a thread-per-task runner reaps finished threads here).
    std::function<void()> after_wait;
    /// Every event, from the loop's task (accepted, refused, not_started) and
    /// from the serving tasks (finished): must be thread-safe over real
    /// sockets.
    std::function<void(const AcceptEvent&)> on_event;
};

/// Accepts and dispatches until the listener is closed. slots, handlers and
/// options must outlive every task the loop started: a task may still run
/// after the loop has returned (whoever closed the listener stops them).
void run_accept_loop(Listener& listener, TaskRunner& tasks, ConnectionSlots& slots,
                     const ConnectionHandlers& handlers, const AcceptLoopOptions& options);

}  // namespace ferry
