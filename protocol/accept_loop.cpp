#include "ferry/protocol/accept_loop.h"

#include <exception>
#include <memory>
#include <string>

#include <fmt/core.h>

namespace ferry {

bool ConnectionSlots::try_take() {
    std::size_t active = active_.load();
    while (active < limit_) {
        if (active_.compare_exchange_weak(active, active + 1))
            return true;
    }
    return false;
}

void ConnectionSlots::release() {
    active_.fetch_sub(1);
}

std::string_view to_string(AcceptEvent::Kind kind) {
    switch (kind) {
        case AcceptEvent::Kind::accepted:
            return "accepted";
        case AcceptEvent::Kind::refused:
            return "refused";
        case AcceptEvent::Kind::finished:
            return "finished";
        case AcceptEvent::Kind::not_started:
            return "not started";
    }
    return "?";
}

namespace {

void report(const AcceptLoopOptions& options, AcceptEvent::Kind kind, std::uint64_t id,
            std::size_t active, const Connection& conn, std::string_view detail = {}) {
    if (!options.on_event)
        return;
    const std::string peer = conn.peer_name();
    options.on_event(AcceptEvent{kind, id, active, peer, detail});
}

/// Closes conn, whatever state it is in.
void close_quietly(Connection& conn) noexcept {
    try {
        conn.close();
    } catch (const std::exception&) {
        // Closing cannot fail in a way anyone could act on.
    }
}

/// The body of a connection's task: serve, close, give the slot back.
/// Exceptions that are not std::exception (a simulation being torn down)
/// pass through.
void serve_in_task(Connection& conn, std::uint64_t id, ConnectionSlots& slots,
                   const ConnectionHandlers& handlers, const AcceptLoopOptions& options) {
    std::string failure;
    try {
        handlers.serve(conn, id);
    } catch (const std::exception& e) {
        failure = e.what();
    }
    close_quietly(conn);
    slots.release();
    report(options, AcceptEvent::Kind::finished, id, slots.active(), conn, failure);
}

void refuse(Connection& conn, std::uint64_t id, const ConnectionSlots& slots,
            const ConnectionHandlers& handlers, const AcceptLoopOptions& options) {
    report(options, AcceptEvent::Kind::refused, id, slots.active(), conn);
    try {
        if (handlers.refuse)
            handlers.refuse(conn);
    } catch (const std::exception&) {
        // The client is gone; it was being turned away anyway.
    }
    close_quietly(conn);
}

}  // namespace

void run_accept_loop(Listener& listener, TaskRunner& tasks, ConnectionSlots& slots,
                     const ConnectionHandlers& handlers, const AcceptLoopOptions& options) {
    for (std::uint64_t next_id = 1;;) {
        std::unique_ptr<Connection> accepted = listener.accept(options.accept_wait);
        if (options.after_wait)
            options.after_wait();
        if (!accepted) {
            if (listener.closed())
                return;
            continue;
        }
        const std::uint64_t id = next_id++;
        if (!slots.try_take()) {
            refuse(*accepted, id, slots, handlers, options);
            continue;
        }
        report(options, AcceptEvent::Kind::accepted, id, slots.active(), *accepted);
        // std::function needs a copyable body.
        std::shared_ptr<Connection> conn(std::move(accepted));
        try {
            tasks.spawn(fmt::format("{} conn {}", options.name, id),
                        [conn, id, &slots, &handlers, &options] {
                            serve_in_task(*conn, id, slots, handlers, options);
                        });
        } catch (const std::exception& e) {
            close_quietly(*conn);
            slots.release();
            report(options, AcceptEvent::Kind::not_started, id, slots.active(), *conn, e.what());
        }
    }
}

}  // namespace ferry
