#pragma once
// A server's accept loop, written once for both backends: accept a client,
// serve it as a task of its own while a slot is free, refuse it otherwise.
// `ferry serve` runs it with a thread per task over real sockets; the
// simulator runs it with a simulated process per task, so an off-by-one in
// the connection limit is as easy to find as one in a body loop.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "ferry/protocol/clock.h"
#include "ferry/protocol/connection.h"
#include "ferry/protocol/listener.h"
#include "ferry/protocol/task_runner.h"

namespace ferry {

/// Why a client found no free slot.
enum class SlotsFull {
    no,       ///< it took one
    server,   ///< every slot is taken
    address,  ///< its address holds as many as one address may
};

std::string_view to_string(SlotsFull full);

/// The address part of a peer name ("127.0.0.1:5555" -> "127.0.0.1",
/// "[::1]:80" -> "[::1]"); a name without a port is its own address.
std::string_view address_of(std::string_view peer_name);

/// The connections a server is serving, counted against its limit and
/// against a limit per client address. Thread-safe.
class ConnectionSlots {
  public:
    /// per_address_limit 0: no limit per address.
    explicit ConnectionSlots(std::size_t limit, std::size_t per_address_limit = 0)
        : limit_(limit), per_address_limit_(per_address_limit) {}

    /// Takes a slot for a client at address, unless the server or that
    /// address is full.
    SlotsFull try_take(std::string_view address = {});
    /// Takes a slot whatever the limits: the slot of a connection that was
    /// just told to leave, which gives its own back once it has. active()
    /// may exceed limit() until it has.
    void take_in_place(std::string_view address = {});
    /// Gives back a slot taken for address.
    void release(std::string_view address = {});
    std::size_t active() const;
    std::size_t active_from(std::string_view address) const;
    std::size_t limit() const { return limit_; }
    std::size_t per_address_limit() const { return per_address_limit_; }

  private:
    mutable std::mutex mutex_;  ///< guards active_, by_address_
    std::size_t active_ = 0;
    std::map<std::string, std::size_t, std::less<>> by_address_;  ///< addresses holding a slot
    std::size_t limit_;
    std::size_t per_address_limit_;
};

/// Something the loop did, for logs and for a harness's history.
struct AcceptEvent {
    enum class Kind {
        accepted,     ///< a slot was free: the connection is being served
        refused,      ///< no slot was free: the client was refused (detail: why)
        finished,     ///< the task serving the connection ended
        not_started,  ///< no task could be started for it: dropped
    };
    Kind kind = Kind::accepted;
    std::uint64_t connection = 0;  ///< 1, 2, ... in the order accepted
    std::size_t active = 0;        ///< connections being served after the event
    std::string_view peer;         ///< the client, in words
    /// why, for refused, finished with an error and not_started; for
    /// accepted, whether the client took the slot of a connection ended
    /// to make room for it
    std::string_view detail;
};

std::string_view to_string(AcceptEvent::Kind kind);

/// What the loop does with a connection.
struct ConnectionHandlers {
    /// Serves a client (the loop's number for it given) on its own task. May
    /// throw std::exception (reported as the finished event's detail); the
    /// loop closes the connection after.
    std::function<void(Connection&, std::uint64_t connection)> serve;
    /// Answers a client past a limit (ferry/1: "ERR 503"), on the loop's own
    /// task: it must not wait on the client. The loop closes the connection
    /// after. May be empty: the client is just closed.
    std::function<void(Connection&, SlotsFull why)> refuse;
    /// Asked when a client finds no free slot, before it is refused: may end
    /// one of the connections the server holds that serves nobody (one
    /// waiting for a request; when the address is full, one of that
    /// address's) and return true, and the client takes its slot. May be
    /// empty: the client is refused.
    std::function<bool(std::string_view address, SlotsFull why)> make_room;
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
