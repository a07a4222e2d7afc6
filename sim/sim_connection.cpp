#include "sim/sim_connection.h"

#include <algorithm>

#include <fmt/core.h>

#include "sim/sim_link.h"
#include "sim/sim_network.h"

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

void SimConnection::throw_unless_usable(const char* call) const {
    const SimEndpoint& end = link_.end(side_);
    if (end.closed) {
        throw ConnectionError(ErrorKind::closed,
                              fmt::format("{} on a closed connection to {}", call, peer_name()));
    }
    if (end.reset) {
        throw ConnectionError(ErrorKind::reset,
                              fmt::format("connection to {} was reset", peer_name()));
    }
}

void SimConnection::throw_timed_out(const char* call) const {
    Simulation& sim = network_.simulation();
    sim.record(TraceKind::timed_out, link_.id, side_, sim.trace().intern(call));
    throw ConnectionError(ErrorKind::timed_out,
                          fmt::format("{} from {} timed out", call, peer_name()));
}

std::size_t SimConnection::send(std::span<const std::byte> bytes) {
    throw_unless_usable("send");
    SimEndpoint& end = link_.end(side_);
    if (end.send_shut) {
        throw ConnectionError(ErrorKind::closed,
                              fmt::format("send to {} after shutdown_send", peer_name()));
    }
    if (bytes.empty())
        return 0;
    Simulation& sim = network_.simulation();
    const NetworkFaults& faults = network_.faults();
    const Deadline deadline = call_deadline();

    const std::optional<std::uint64_t> before_reset = network_.bytes_before_reset(link_, side_);
    if (before_reset && *before_reset == 0) {
        network_.fire_reset_fault(link_, side_);
        throw_unless_usable("send");
    }

    SimStream& stream = link_.from(side_);
    std::uint64_t space = 0;
    while (true) {
        throw_unless_usable("send");
        const std::uint64_t queued = stream.written - stream.transmitted;
        space = queued < faults.send_buffer_bytes ? faults.send_buffer_bytes - queued : 0;
        if (space > 0)
            break;
        if (deadline && sim.now() >= *deadline)
            throw_timed_out("send");
        sim.block(&stream.writers, deadline, WaitInfo{"send", &link_, side_});
    }

    std::uint64_t taken = std::min<std::uint64_t>(bytes.size(), space);
    if (faults.max_send_bytes != 0)
        taken = std::min<std::uint64_t>(taken, faults.max_send_bytes);
    if (before_reset)
        taken = std::min(taken, *before_reset);
    if (sim.decisions().chance(faults.partial_sends))
        taken -= sim.decisions().choose(taken);

    stream.bytes.write(stream.read, stream.written, bytes.first(taken));
    stream.written += taken;
    end.bytes_moved += taken;
    sim.record(TraceKind::send, link_.id, side_, bytes.size(), taken);
    network_.pump(link_, side_);
    if (before_reset && *before_reset == taken)
        network_.fire_reset_fault(link_, side_);
    return taken;
}

std::size_t SimConnection::recv(std::span<std::byte> buffer) {
    throw_unless_usable("recv");
    if (buffer.empty())
        return 0;
    Simulation& sim = network_.simulation();
    const NetworkFaults& faults = network_.faults();
    const Deadline deadline = call_deadline();
    SimEndpoint& end = link_.end(side_);

    const std::optional<std::uint64_t> before_reset = network_.bytes_before_reset(link_, side_);
    if (before_reset && *before_reset == 0) {
        network_.fire_reset_fault(link_, side_);
        throw_unless_usable("recv");
    }

    SimStream& stream = link_.to(side_);
    std::uint64_t available = 0;
    while (true) {
        throw_unless_usable("recv");
        Deadline stall_end;
        if (!network_.stalled(link_, side_, stall_end)) {
            available = stream.delivered - stream.read;
            if (available > 0)
                break;
            if (stream.fin_delivered) {  // and everything before it was read
                sim.record(TraceKind::recv, link_.id, side_, buffer.size(), 0);
                return 0;
            }
        }
        if (deadline && sim.now() >= *deadline)
            throw_timed_out("recv");
        sim.block(&stream.readers, earliest(deadline, stall_end), WaitInfo{"recv", &link_, side_});
    }

    std::uint64_t taken = std::min<std::uint64_t>(buffer.size(), available);
    if (const auto before_stall = network_.bytes_before_stall(link_, side_)) {
        taken = std::min(taken, *before_stall);
    }
    if (before_reset)
        taken = std::min(taken, *before_reset);
    if (sim.decisions().chance(faults.short_reads))
        taken -= sim.decisions().choose(taken);

    stream.bytes.read(stream.read, buffer.first(taken));
    stream.read += taken;
    end.bytes_read += taken;
    end.bytes_moved += taken;
    sim.record(TraceKind::recv, link_.id, side_, buffer.size(), taken);
    network_.pump(link_, other(side_));  // the window opened
    if (before_reset && *before_reset == taken)
        network_.fire_reset_fault(link_, side_);
    return taken;
}

void SimConnection::shutdown_send() {
    throw_unless_usable("shutdown_send");
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
