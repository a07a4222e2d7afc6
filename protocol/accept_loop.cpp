#include "ferry/protocol/accept_loop.h"

#include <cassert>
#include <exception>
#include <memory>
#include <string>

#include <fmt/core.h>

namespace ferry {

std::string_view to_string(SlotsFull full) {
    switch (full) {
        case SlotsFull::no:
            return "a slot is free";
        case SlotsFull::server:
            return "too many connections";
        case SlotsFull::address:
            return "too many connections from one address";
    }
    return "?";
}

std::string_view address_of(std::string_view peer_name) {
    const std::size_t colon = peer_name.rfind(':');
    if (colon == std::string_view::npos)
        return peer_name;
    const std::string_view host = peer_name.substr(0, colon);
    // "::1" has colons but no port; "[::1]:80" has both.
    if (host.find(':') != std::string_view::npos && !host.starts_with('['))
        return peer_name;
    return host;
}

SlotsFull ConnectionSlots::try_take(std::string_view address) {
    std::lock_guard lock(mutex_);
    if (active_ >= limit_)
        return SlotsFull::server;
    const auto found = by_address_.find(address);
    const std::size_t from_address = found == by_address_.end() ? 0 : found->second;
    if (per_address_limit_ != 0 && from_address >= per_address_limit_)
        return SlotsFull::address;
    ++active_;
    if (found == by_address_.end())
        by_address_.emplace(address, 1);
    else
        ++found->second;
    return SlotsFull::no;
}

void ConnectionSlots::take_in_place(std::string_view address) {
    std::lock_guard lock(mutex_);
    ++active_;
    const auto found = by_address_.find(address);
    if (found == by_address_.end())
        by_address_.emplace(address, 1);
    else
        ++found->second;
}

void ConnectionSlots::release(std::string_view address) {
    std::lock_guard lock(mutex_);
    const auto found = by_address_.find(address);
    assert(active_ > 0 && found != by_address_.end() && "a slot given back was never taken");
    --active_;
    if (--found->second == 0)
        by_address_.erase(found);
}

std::size_t ConnectionSlots::active() const {
    std::lock_guard lock(mutex_);
    return active_;
}

std::size_t ConnectionSlots::active_from(std::string_view address) const {
    std::lock_guard lock(mutex_);
    const auto found = by_address_.find(address);
    return found == by_address_.end() ? 0 : found->second;
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
void serve_in_task(Connection& conn, std::uint64_t id, const std::string& address,
                   ConnectionSlots& slots, const ConnectionHandlers& handlers,
                   const AcceptLoopOptions& options) {
    std::string failure;
    try {
        handlers.serve(conn, id);
    } catch (const std::exception& e) {
        failure = e.what();
    }
    close_quietly(conn);
    slots.release(address);
    report(options, AcceptEvent::Kind::finished, id, slots.active(), conn, failure);
}

void refuse(Connection& conn, std::uint64_t id, SlotsFull why, const ConnectionSlots& slots,
            const ConnectionHandlers& handlers, const AcceptLoopOptions& options) {
    report(options, AcceptEvent::Kind::refused, id, slots.active(), conn, to_string(why));
    try {
        if (handlers.refuse)
            handlers.refuse(conn, why);
    } catch (const std::exception&) {
        // The client is gone; it was being turned away anyway.
    }
    close_quietly(conn);
}

/// Takes a slot for the client, making room if the handlers can; says why
/// not. made_room tells whether it took an ended connection's slot.
SlotsFull take_slot(std::string_view address, ConnectionSlots& slots,
                    const ConnectionHandlers& handlers, bool& made_room) {
    made_room = false;
    const SlotsFull full = slots.try_take(address);
    if (full == SlotsFull::no || !handlers.make_room || !handlers.make_room(address, full))
        return full;
    slots.take_in_place(address);
    made_room = true;
    return SlotsFull::no;
}

/// Serves the accepted client on a task of its own; its slot is taken.
void dispatch(std::unique_ptr<Connection> accepted, std::uint64_t id, std::string address,
              TaskRunner& tasks, ConnectionSlots& slots, const ConnectionHandlers& handlers,
              const AcceptLoopOptions& options) {
    // std::function needs a copyable body.
    std::shared_ptr<Connection> conn(std::move(accepted));
    try {
        tasks.spawn(fmt::format("{} conn {}", options.name, id),
                    [conn, id, address, &slots, &handlers, &options] {
                        serve_in_task(*conn, id, address, slots, handlers, options);
                    });
    } catch (const std::exception& e) {
        close_quietly(*conn);
        slots.release(address);
        report(options, AcceptEvent::Kind::not_started, id, slots.active(), *conn, e.what());
    }
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
        std::string address(address_of(accepted->peer_name()));
        bool made_room = false;
        if (const SlotsFull full = take_slot(address, slots, handlers, made_room);
            full != SlotsFull::no) {
            refuse(*accepted, id, full, slots, handlers, options);
            continue;
        }
        report(options, AcceptEvent::Kind::accepted, id, slots.active(), *accepted,
               made_room ? "in the slot of a connection ended to make room" : "");
        dispatch(std::move(accepted), id, std::move(address), tasks, slots, handlers, options);
    }
}

}  // namespace ferry
