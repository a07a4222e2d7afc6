#include "ferry/sim/sim_connection.h"

#include <algorithm>

#include <fmt/core.h>

#include "ferry/sim/sim_link.h"
#include "ferry/sim/sim_network.h"

namespace ferry::sim {

SimConnection::SimConnection(SimNetwork& network, SimLink& link, Side side)
    : Connection(network.simulation()), network_(network), link_(link), side_(side) {}

SimConnection::~SimConnection() {
    close();
}

std::uint64_t SimConnection::id() const {
    return link_.id;
}

std::string SimConnection::peer_name() const {
    return link_.end(other(side_)).address;
}

bool SimConnection::usable() const {
    const SimEndpoint& end = link_.end(side_);
    return !end.closed && !end.reset;
}

ConnectionError SimConnection::unusable_error(const char* call) const {
    if (link_.end(side_).closed) {
        return ConnectionError(ErrorKind::closed,
                               fmt::format("{} on a closed connection to {}", call, peer_name()));
    }
    return ConnectionError(ErrorKind::reset,
                           fmt::format("connection to {} was reset", peer_name()));
}

ConnectionError SimConnection::timed_out_error(const char* call) const {
    Simulation& sim = network_.simulation();
    sim.record(TraceKind::timed_out, link_.id, side_, sim.trace().intern(call));
    return ConnectionError(ErrorKind::timed_out,
                           fmt::format("{} from {} timed out", call, peer_name()));
}

void SimConnection::hand_to(ProcessId process) {
    link_.end(side_).owner = process;
}

ProcessId SimConnection::owner() const {
    return link_.end(side_).owner;
}

void SimConnection::take_ownership(SimEndpoint& end) const {
    const ProcessId me = network_.simulation().current_process_id();
    if (me != 0)
        end.owner = me;
}

// send() and recv() have a fast path for the common case (room or data now,
// no stall or reset fault aimed at this side) and a slow one that waits. The
// deadline is worked out only when a call must wait: virtual time stands
// still until then, so it is the same deadline.

std::size_t SimConnection::do_send(std::span<const std::byte> bytes) {
    SimEndpoint& end = link_.end(side_);
    take_ownership(end);
    if (end.closed || end.reset || end.send_shut) [[unlikely]] {
        if (!usable())
            throw unusable_error("send");
        throw ConnectionError(ErrorKind::closed,
                              fmt::format("send to {} after shutdown_send", peer_name()));
    }
    if (bytes.empty())
        return 0;
    Simulation& sim = network_.simulation();
    const NetworkFaults& faults = network_.faults();
    SimStream& stream = link_.from(side_);
    const bool aimed_here = network_.has_faults_for(side_);

    std::optional<std::uint64_t> before_reset;
    if (aimed_here) [[unlikely]] {
        before_reset = network_.bytes_before_reset(link_, side_);
        if (before_reset && *before_reset == 0) {
            network_.fire_reset_fault(link_, side_);
            if (!usable())
                throw unusable_error("send");
        }
    }
    std::uint64_t queued = stream.written - stream.transmitted;
    if (queued >= faults.send_buffer_bytes) [[unlikely]] {
        const Deadline deadline = call_deadline();
        do {
            if (deadline && sim.now() >= *deadline)
                throw timed_out_error("send");
            sim.block(&stream.writers, deadline,
                      WaitInfo{"send", &link_, side_, nullptr, bytes.size(), send_site()});
            if (!usable())
                throw unusable_error("send");
            queued = stream.written - stream.transmitted;
        } while (queued >= faults.send_buffer_bytes);
    }

    std::uint64_t taken = std::min<std::uint64_t>(bytes.size(), faults.send_buffer_bytes - queued);
    if (faults.max_send_bytes != 0)
        taken = std::min<std::uint64_t>(taken, faults.max_send_bytes);
    if (before_reset)
        taken = std::min(taken, *before_reset);
    DecisionSource& decisions = sim.decisions();
    if (decisions.chance(faults.partial_sends))
        taken -= decisions.choose(taken);

    stream.bytes.write(stream.read, stream.written, bytes.first(taken));
    stream.written += taken;
    end.bytes_moved += taken;
    sim.record(TraceKind::send, link_.id, side_, bytes.size(), taken);
    network_.pump(link_, side_);
    if (before_reset && *before_reset == taken)
        network_.fire_reset_fault(link_, side_);
    return taken;
}

bool SimConnection::readable_after_reset() const {
    const SimEndpoint& end = link_.end(side_);
    const SimStream& stream = link_.to(side_);
    return !end.closed && end.reset_by_peer && stream.delivered > stream.read;
}

std::uint64_t SimConnection::wait_readable(std::size_t want) {
    const SimEndpoint& end = link_.end(side_);
    SimStream& stream = link_.to(side_);
    Simulation& sim = network_.simulation();
    Deadline deadline;
    bool deadline_known = false;
    while (true) {
        Deadline stall_end;
        if (!network_.stalled(link_, side_, stall_end)) {
            const std::uint64_t available = stream.delivered - stream.read;
            if (available > 0)
                return available;
            if (stream.fin_delivered)  // and everything before it was read
                return 0;
        } else if (end.reset) {
            // A stalled reader reads nothing, so what arrived before the
            // RST is no reason to wait: the reset is all it learns.
            throw unusable_error("recv");
        }
        if (!deadline_known) {
            deadline = call_deadline();
            deadline_known = true;
        }
        if (deadline && sim.now() >= *deadline)
            throw timed_out_error("recv");
        sim.block(&stream.readers, earliest(deadline, stall_end),
                  WaitInfo{"recv", &link_, side_, nullptr, want, recv_site()});
        if (!usable() && !readable_after_reset())
            throw unusable_error("recv");
    }
}

std::size_t SimConnection::do_recv(std::span<std::byte> buffer) {
    SimEndpoint& end = link_.end(side_);
    take_ownership(end);
    if ((end.closed || end.reset) && !readable_after_reset()) [[unlikely]]
        throw unusable_error("recv");
    if (buffer.empty())
        return 0;
    Simulation& sim = network_.simulation();
    const NetworkFaults& faults = network_.faults();
    SimStream& stream = link_.to(side_);
    const bool aimed_here = network_.has_faults_for(side_);

    std::uint64_t available = stream.delivered - stream.read;
    std::optional<std::uint64_t> before_reset;
    if (available == 0 || aimed_here) [[unlikely]] {
        if (aimed_here) {
            before_reset = network_.bytes_before_reset(link_, side_);
            if (before_reset && *before_reset == 0) {
                network_.fire_reset_fault(link_, side_);
                if (!usable())
                    throw unusable_error("recv");
            }
        }
        available = wait_readable(buffer.size());
        if (available == 0) {  // the end of the stream, everything before it read
            sim.record(TraceKind::recv, link_.id, side_, buffer.size(), 0);
            return 0;
        }
        if (const auto before_stall = network_.bytes_before_stall(link_, side_)) {
            available = std::min(available, *before_stall);
        }
        if (before_reset)
            available = std::min(available, *before_reset);
    }

    std::uint64_t taken = std::min<std::uint64_t>(buffer.size(), available);
    DecisionSource& decisions = sim.decisions();
    if (decisions.chance(faults.short_reads))
        taken -= decisions.choose(taken);

    stream.bytes.read(stream.read, buffer.first(taken));
    stream.read += taken;
    if (stream.read == stream.written)
        stream.bytes.release();  // all read: no need to hold its memory meanwhile
    end.bytes_read += taken;
    end.bytes_moved += taken;
    sim.record(TraceKind::recv, link_.id, side_, buffer.size(), taken);
    if (has_unsent(stream))
        network_.pump(link_, other(side_));  // the window opened
    if (before_reset && *before_reset == taken)
        network_.fire_reset_fault(link_, side_);
    return taken;
}

void SimConnection::shutdown_send() {
    if (!usable())
        throw unusable_error("shutdown_send");
    SimEndpoint& end = link_.end(side_);
    if (end.send_shut)
        return;
    end.send_shut = true;
    link_.from(side_).fin_queued = true;
    network_.simulation().record(TraceKind::shutdown_send, link_.id, side_);
    network_.pump(link_, side_);
}

void SimConnection::close() {
    SimEndpoint& end = link_.end(side_);
    if (end.closed)
        return;
    end.closed = true;
    Simulation& sim = network_.simulation();
    const SimStream& incoming = link_.to(side_);
    const bool unread = incoming.delivered > incoming.read;
    sim.record(TraceKind::close, link_.id, side_, unread && !end.reset ? 1 : 0);
    if (end.reset)
        return;
    if (unread) {
        // Closing with unread data aborts the connection, as a kernel does.
        network_.send_rst(link_, side_);
        return;
    }
    if (!end.send_shut) {
        end.send_shut = true;
        link_.from(side_).fin_queued = true;
        network_.pump(link_, side_);
    }
}

void SimConnection::reset() {
    SimEndpoint& end = link_.end(side_);
    if (end.closed)
        return;
    end.closed = true;
    network_.simulation().record(TraceKind::close, link_.id, side_, 1);
    if (!end.reset)
        network_.send_rst(link_, side_);
}

}  // namespace ferry::sim
