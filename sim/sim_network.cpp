#include "ferry/sim/sim_network.h"

#include <algorithm>
#include <stdexcept>

#include <fmt/compile.h>
#include <fmt/core.h>

#include "ferry/protocol/connection.h"
#include "ferry/sim/recording.h"
#include "ferry/sim/sim_connection.h"
#include "ferry/sim/sim_link.h"

namespace ferry::sim {

using EventKind = Simulation::EventKind;

namespace {

std::uint64_t ns(Instant at) {
    return static_cast<std::uint64_t>(at.since_epoch.count());
}

/// Segment events carry the receiving side and the offset the segment ends at.
std::uint64_t encode(Side side, std::uint64_t offset) {
    return offset << 1 | index_of(side);
}
Side decode_side(std::uint64_t arg) {
    return (arg & 1) == 0 ? Side::client : Side::server;
}
std::uint64_t decode_offset(std::uint64_t arg) {
    return arg >> 1;
}

/// Keeps the bytes of the segment about to leave stream (after any corruption).
void record_segment_bytes(Recording& recording, const SimStream& stream, std::uint64_t bytes) {
    if (recording.keeps_payloads())
        stream.bytes.read(stream.transmitted, recording.add_segment_bytes(bytes));
}

}  // namespace

// --- SimListener ---

SimListener::SimListener(SimNetwork& network, std::string address, ProcessId owner)
    : network_(network), address_(std::move(address)), owner_(owner) {}

SimListener::~SimListener() {
    close();
}

void SimListener::close() {
    if (closed_)
        return;
    closed_ = true;
    network_.unregister(*this);
    for (SimLink* link : backlog_)
        network_.send_rst(*link, Side::server);
    backlog_.clear();
    acceptors_.wake_all();
}

std::unique_ptr<SimConnection> SimListener::accept(std::optional<Duration> timeout) {
    Simulation& sim = network_.simulation();
    Deadline deadline;
    if (timeout)
        deadline = sim.now() + *timeout;
    while (backlog_.empty()) {
        if (closed_)
            return nullptr;
        if (deadline && sim.now() >= *deadline)
            return nullptr;
        sim.block(&acceptors_, deadline, WaitInfo{"accept", nullptr, Side::server, this});
    }
    SimLink* link = backlog_.front();
    backlog_.erase(backlog_.begin());
    SimEndpoint& end = link->end(Side::server);
    end.owner = sim.current_process_id();
    sim.record(TraceKind::accept, link->id, Side::server,
               sim.trace().intern(link->end(Side::client).address));
    return std::make_unique<SimConnection>(network_, *link, Side::server);
}

// --- SimNetwork ---

SimNetwork::SimNetwork(Simulation& sim, NetworkFaults faults)
    : sim_(sim), faults_(std::move(faults)) {}

SimNetwork::~SimNetwork() = default;

std::unique_ptr<SimListener> SimNetwork::listen(const std::string& address) {
    if (listeners_.count(address) != 0) {
        throw std::invalid_argument(fmt::format("{} is already listened on", address));
    }
    auto listener = std::make_unique<SimListener>(*this, address, sim_.current_process_id());
    listeners_.emplace(address, listener.get());
    sim_.record(TraceKind::listen, 0, Side::server, sim_.trace().intern(address));
    return listener;
}

void SimNetwork::unregister(SimListener& listener) {
    auto it = listeners_.find(listener.address());
    if (it != listeners_.end() && it->second == &listener)
        listeners_.erase(it);
}

std::unique_ptr<SimConnection> SimNetwork::connect(const std::string& address,
                                                   std::optional<Duration> timeout) {
    auto result = connect_or_error(address, timeout);
    if (auto* error = std::get_if<ConnectionError>(&result))
        throw *error;
    return std::move(std::get<std::unique_ptr<SimConnection>>(result));
}

std::variant<std::unique_ptr<SimConnection>, ConnectionError> SimNetwork::connect_or_error(
    const std::string& address, std::optional<Duration> timeout) {
    Deadline deadline;
    if (timeout)
        deadline = sim_.now() + *timeout;
    // Default-initialised (every member has an initialiser); make_unique's
    // value-initialisation would zero the whole link first.
    links_.push_back(std::unique_ptr<SimLink>(new SimLink));
    SimLink& link = *links_.back();
    link.id = links_.size();
    link.server_address = address;
    const ProcessId me = sim_.current_process_id();
    link.end(Side::client).owner = me;
    link.end(Side::client).address =
        fmt::format(FMT_COMPILE("{}:{}"), sim_.process_name(me), 49151 + link.id);
    link.end(Side::server).address = address;
    const std::uint64_t address_id = sim_.trace().intern(address);
    sim_.record(TraceKind::connect, link.id, Side::client, address_id);
    if (sim_.decisions().chance(faults_.refused_connects)) {
        link.refuse = true;
        sim_.record(TraceKind::fault, link.id, Side::client, sim_.trace().intern("refuse connect"));
    }
    sim_.schedule(arrival_time(link.from(Side::client)), EventKind::syn, &link, 0);
    while (link.phase == LinkPhase::connecting) {
        if (deadline && sim_.now() >= *deadline) {
            link.phase = LinkPhase::abandoned;
            sim_.record(TraceKind::timed_out, link.id, Side::client,
                        sim_.trace().intern("connect"));
            return ConnectionError(ErrorKind::timed_out,
                                   fmt::format("connecting to {} timed out", address));
        }
        sim_.block(&link.connect_waiters, deadline, WaitInfo{"connect", &link, Side::client});
    }
    if (link.phase == LinkPhase::refused) {
        sim_.record(TraceKind::refused, link.id, Side::client, address_id);
        return ConnectionError(ErrorKind::refused,
                               fmt::format("{} refused the connection", address));
    }
    sim_.record(TraceKind::established, link.id, Side::client);
    return std::make_unique<SimConnection>(*this, link, Side::client);
}

Instant SimNetwork::arrival_time(SimStream& stream) {
    const std::uint64_t latency_ms =
        sim_.decisions().between(faults_.latency_ms_min, faults_.latency_ms_max);
    Instant at = sim_.now() + std::chrono::milliseconds(latency_ms);
    if (faults_.clog) {
        const Instant clog_end = faults_.clog->at + faults_.clog->duration;
        if (at >= faults_.clog->at && at < clog_end) {
            at = clog_end;
            if (!clog_recorded_) {
                clog_recorded_ = true;
                sim_.record_network(TraceKind::fault, 0, Side::client,
                                    sim_.trace().intern("clogged link"),
                                    static_cast<std::uint64_t>(faults_.clog->duration.count()));
            }
        }
    }
    if (at < stream.last_arrival)
        at = stream.last_arrival;
    stream.last_arrival = at;
    return at;
}

void SimNetwork::corrupt(SimLink& link, Side from, std::uint64_t first, std::uint64_t bytes) {
    // One bit of one byte, as a checksum that lets a corruption through at
    // all lets through the smallest ones.
    const std::uint64_t at = first + sim_.decisions().between(0, bytes - 1);
    const auto bit = static_cast<unsigned>(sim_.decisions().choose(8));
    link.from(from).bytes.flip(at, std::byte{static_cast<unsigned char>(1u << bit)});
    sim_.record_network(TraceKind::fault, link.id, from, sim_.trace().intern("corrupt"), at);
}

void SimNetwork::pump(SimLink& link, Side from) {
    SimStream& stream = link.from(from);
    SimEndpoint& end = link.end(from);
    if (end.reset || end.rst_sent || link.phase == LinkPhase::refused)
        return;
    bool moved = false;
    // Like TCP's silly-window avoidance, a segment goes out only when it
    // carries everything queued or a decent share of the window; otherwise a
    // reader taking a byte at a time would draw a segment per byte.
    const std::uint64_t window = faults_.receive_window_bytes;
    const std::uint64_t worth_sending =
        std::min<std::uint64_t>(std::max<std::uint64_t>(window / 2, 1), faults_.segment_bytes_max);
    while (stream.transmitted < stream.written) {
        const std::uint64_t window_used = stream.transmitted - stream.read;
        if (window_used >= window)
            break;
        const std::uint64_t space = window - window_used;
        const std::uint64_t queued = stream.written - stream.transmitted;
        if (space < queued && space < worth_sending)
            break;
        const std::uint64_t bytes =
            std::min({queued, space, std::uint64_t{faults_.segment_bytes_max}});
        if (sim_.decisions().chance(faults_.corrupt_segments)) [[unlikely]]
            corrupt(link, from, stream.transmitted, bytes);
        if (Recording* recording = sim_.trace().recording()) [[unlikely]]
            record_segment_bytes(*recording, stream, bytes);
        stream.transmitted += bytes;
        moved = true;
        const Instant at = arrival_time(stream);
        sim_.schedule(at, EventKind::segment, &link, encode(other(from), stream.transmitted));
        sim_.record_network(TraceKind::segment, link.id, from, bytes, ns(at));
    }
    if (stream.fin_queued && !stream.fin_transmitted && stream.transmitted == stream.written) {
        stream.fin_transmitted = true;
        sim_.schedule(arrival_time(stream), EventKind::fin, &link, encode(other(from), 0));
    }
    if (moved)
        stream.writers.wake_all();
}

void SimNetwork::send_rst(SimLink& link, Side from) {
    SimEndpoint& end = link.end(from);
    if (end.rst_sent)
        return;
    end.rst_sent = true;
    SimStream& stream = link.from(from);
    stream.written = stream.transmitted;  // what was not sent is dropped
    stream.fin_queued = true;
    stream.fin_transmitted = true;
    sim_.schedule(arrival_time(stream), EventKind::rst, &link, encode(other(from), 0));
    stream.writers.wake_all();
}

void SimNetwork::fire_reset_fault(SimLink& link, Side side) {
    SimEndpoint& end = link.end(side);
    if (end.reset)
        return;
    sim_.record(TraceKind::fault, link.id, side, sim_.trace().intern("reset"), end.bytes_moved);
    send_rst(link, side);
    end.reset = true;
    link.to(side).readers.wake_all();
}

void SimNetwork::kill_group(GroupId group) {
    for (const auto& owned : links_) {
        SimLink& link = *owned;
        for (const Side side : {Side::client, Side::server}) {
            SimEndpoint& end = link.end(side);
            if (end.owner == 0 || end.closed || sim_.group_of(end.owner) != group)
                continue;
            if (side == Side::client && link.phase == LinkPhase::connecting) {
                link.phase = LinkPhase::abandoned;  // a SYN-ACK now gets an RST
                continue;
            }
            end.closed = true;
            send_rst(link, side);
            sim_.record(TraceKind::close, link.id, side, 1);
        }
    }
    std::vector<SimListener*> closing;
    for (const auto& [address, listener] : listeners_) {
        if (listener->owner() != 0 && sim_.group_of(listener->owner()) == group)
            closing.push_back(listener);
    }
    for (SimListener* listener : closing)
        listener->close();
}

std::optional<std::uint64_t> SimNetwork::bytes_before_stall(const SimLink& link, Side side) const {
    if (!faults_.stall || faults_.stall->side != side || !faults_.stall->after_bytes) {
        return std::nullopt;
    }
    if (link.end(side).stall_started)
        return std::nullopt;
    const std::uint64_t read = link.end(side).bytes_read;
    const std::uint64_t after = *faults_.stall->after_bytes;
    return read >= after ? 0 : after - read;
}

std::optional<std::uint64_t> SimNetwork::bytes_before_reset(const SimLink& link, Side side) const {
    if (!faults_.reset || faults_.reset->side != side)
        return std::nullopt;
    const std::uint64_t moved = link.end(side).bytes_moved;
    const std::uint64_t after = faults_.reset->after_bytes;
    return moved >= after ? 0 : after - moved;
}

bool SimNetwork::stalled(SimLink& link, Side side, Deadline& until) {
    until = std::nullopt;
    if (!faults_.stall || faults_.stall->side != side)
        return false;
    const StallFault& stall = *faults_.stall;
    SimEndpoint& end = link.end(side);
    Instant began;
    if (stall.after_bytes) {
        if (end.bytes_read < *stall.after_bytes)
            return false;
        if (!end.stall_started) {
            end.stall_started = true;
            end.stall_began = sim_.now();
            sim_.record(TraceKind::fault, link.id, side, sim_.trace().intern("stall"),
                        end.bytes_read);
        }
        began = end.stall_began;
    } else if (stall.at) {
        if (sim_.now() < *stall.at)
            return false;
        began = *stall.at;
        if (!end.stall_started) {
            end.stall_started = true;
            end.stall_began = began;
            sim_.record(TraceKind::fault, link.id, side, sim_.trace().intern("stall"),
                        end.bytes_read);
        }
    } else {
        return false;
    }
    if (!stall.duration)
        return true;
    const Instant ends_at = began + *stall.duration;
    if (sim_.now() >= ends_at)
        return false;
    until = ends_at;
    return true;
}

void SimNetwork::handle(EventKind kind, SimLink& link, std::uint64_t arg) {
    switch (kind) {
        case EventKind::segment: {
            const Side to = decode_side(arg);
            SimStream& stream = link.to(to);
            SimEndpoint& end = link.end(to);
            if (end.reset)
                return;
            stream.delivered = std::max(stream.delivered, decode_offset(arg));
            if (end.closed) {
                // Data for a socket nobody will read again: the kernel resets.
                send_rst(link, to);
                return;
            }
            sim_.record_network(TraceKind::deliver, link.id, to, stream.delivered - stream.read);
            stream.readers.wake_all();
            return;
        }
        case EventKind::fin: {
            const Side to = decode_side(arg);
            SimStream& stream = link.to(to);
            stream.fin_delivered = true;
            sim_.record_network(TraceKind::fin, link.id, other(to));
            stream.readers.wake_all();
            return;
        }
        case EventKind::rst: {
            const Side to = decode_side(arg);
            SimEndpoint& end = link.end(to);
            if (link.phase == LinkPhase::connecting && to == Side::client) {
                link.phase = LinkPhase::refused;
                link.connect_waiters.wake_all();
                return;
            }
            if (end.reset)
                return;
            end.reset = true;
            end.reset_by_peer = true;
            sim_.record_network(TraceKind::rst, link.id, to);
            link.to(to).readers.wake_all();
            link.from(to).writers.wake_all();
            return;
        }
        case EventKind::syn: {
            auto it = listeners_.find(link.server_address);
            if (link.phase == LinkPhase::abandoned)
                return;
            if (it == listeners_.end() || link.refuse) {
                // Nobody listens: the answer is an RST.
                sim_.schedule(arrival_time(link.from(Side::server)), EventKind::rst, &link,
                              encode(Side::client, 0));
                return;
            }
            it->second->backlog_.push_back(&link);
            it->second->acceptors_.wake_all();
            sim_.schedule(arrival_time(link.from(Side::server)), EventKind::syn_ack, &link, 0);
            return;
        }
        case EventKind::syn_ack: {
            if (link.phase == LinkPhase::abandoned) {
                send_rst(link, Side::client);
                return;
            }
            link.phase = LinkPhase::established;
            link.connect_waiters.wake_all();
            return;
        }
    }
}

ProcessId SimNetwork::describe(const WaitInfo& wait, BlockedProcess& out) const {
    if (wait.listener != nullptr) {
        out.peer_address = wait.listener->address();
        return 0;
    }
    if (wait.link == nullptr)
        return 0;
    const SimLink& link = *wait.link;
    const Side side = wait.side;
    out.conn = link.id;
    out.peer_address = link.end(other(side)).address;
    const SimStream& incoming = link.to(side);
    out.receive_buffer_bytes = incoming.delivered - incoming.read;
    out.in_flight_bytes = incoming.transmitted - incoming.delivered;
    out.peer_send_buffer_bytes = incoming.written - incoming.transmitted;
    const SimStream& outgoing = link.from(side);
    out.send_buffer_bytes = outgoing.written - outgoing.transmitted;
    out.end_of_stream_pending = incoming.fin_queued && !incoming.fin_delivered;
    const SimEndpoint& end = link.end(side);
    out.reads_stalled =
        end.stall_started && faults_.stall &&
        (!faults_.stall->duration || sim_.now() < end.stall_began + *faults_.stall->duration);
    if (out.reads_stalled && std::string_view(wait.call) == "recv") {
        out.waits_on = "a stall fault";
        return 0;
    }
    ProcessId peer = link.end(other(side)).owner;
    if (peer == 0) {
        // Not accepted yet: whoever listens would have to accept it.
        auto it = listeners_.find(link.server_address);
        if (it != listeners_.end())
            peer = it->second->owner();
    }
    out.waits_on = peer == 0 ? "" : std::string(sim_.process_name(peer));
    return peer;
}

}  // namespace ferry::sim
