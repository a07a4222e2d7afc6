#include "ferry/views/pcap.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <sstream>
#include <stdexcept>
#include <vector>

#include "ferry/views/tcp_frame.h"

namespace ferry::views {

namespace {

using sim::TraceEvent;
using sim::TraceKind;

/// window: an ACK that only advertises a receive window, sent when a
/// delivery leaves a receiver's buffer without room a sender would use (a
/// zero window) and when a read makes that room again (a window update), so
/// Wireshark's TCP analysis shows a stalled reader as [TCP ZeroWindow] and
/// [TCP Window Update]. The room a sender uses is the simulator's rule
/// against silly windows (sim_network.cpp's pump): half the buffer or a
/// whole segment, whichever is less; a receiver that avoids silly windows
/// (RFC 1122, 4.2.3.3) advertises nothing smaller.
enum class PacketKind { syn, syn_ack, handshake_ack, data, fin, rst, refused, window };

/// One packet before its numbers are known: what crossed, when, from which
/// side (0 client, 1 server) of which connection.
struct Packet {
    std::uint64_t time_ns = 0;
    int rank = 1;  ///< 0 for the handshake: first among packets of one instant
    std::size_t order = 0;
    std::uint64_t conn = 0;
    std::uint64_t from = 0;
    PacketKind kind = PacketKind::data;
    std::uint64_t length = 0;
    std::size_t segment = 0;  ///< a data packet's: which segment event it is
    std::uint16_t window = 65535;
};

struct Endpoints {
    std::array<std::uint32_t, 2> ip{};
    std::array<std::uint16_t, 2> port{};
    std::uint64_t established_ns = 0;
};

std::uint16_t port_of(std::string_view address) {
    const std::size_t colon = address.rfind(':');
    unsigned port = 0;
    if (colon != std::string_view::npos) {
        const char* first = address.data() + colon + 1;
        const char* last = address.data() + address.size();
        const auto [end, error] = std::from_chars(first, last, port);
        if (error == std::errc{} && end == last && port > 0 && port <= 65535)
            return static_cast<std::uint16_t>(port);
    }
    return 9000;
}

class PacketCollector {
  public:
    explicit PacketCollector(const sim::Recording& recording)
        : recording_(recording),
          window_bytes_(recording.receive_window_bytes()),
          opening_bytes_(std::min(std::max<std::uint64_t>(window_bytes_ / 2, 1),
                                  recording.segment_bytes_max())) {}

    void collect() {
        for (const TraceEvent& event : recording_.events())
            take(event);
    }
    std::vector<Packet>& packets() { return packets_; }
    const std::map<std::uint64_t, Endpoints>& endpoints() const { return endpoints_; }

  private:
    void add(std::uint64_t time_ns, const TraceEvent& event, std::uint64_t from, PacketKind kind,
             std::uint64_t length = 0) {
        Packet packet;
        packet.time_ns = time_ns;
        packet.rank = kind == PacketKind::syn_ack || kind == PacketKind::handshake_ack ? 0 : 1;
        packet.order = packets_.size();
        packet.conn = event.conn;
        packet.from = from;
        packet.kind = kind;
        packet.length = length;
        packet.segment = segment_count_;
        packets_.push_back(packet);
    }

    void take(const TraceEvent& event) {
        switch (event.kind) {
            case TraceKind::connect:
                connect(event);
                return add(event.time_ns, event, 0, PacketKind::syn);
            case TraceKind::established:
                endpoints_[event.conn].established_ns = event.time_ns;
                add(event.time_ns, event, 1, PacketKind::syn_ack);
                return add(event.time_ns, event, 0, PacketKind::handshake_ack);
            case TraceKind::refused:
                return add(event.time_ns, event, 1, PacketKind::refused);
            case TraceKind::segment: {
                const std::uint64_t arrives = std::max(event.b, established(event.conn));
                add(arrives, event, event.side, PacketKind::data, event.a);
                ++segment_count_;
                return;
            }
            case TraceKind::fin:
                return add(event.time_ns, event, event.side, PacketKind::fin);
            case TraceKind::rst:
                return add(event.time_ns, event, 1 - event.side, PacketKind::rst);
            case TraceKind::deliver:
                return delivered(event);
            case TraceKind::recv:
                return read(event);
            default:
                return;
        }
    }

    /// Whether a receiver with buffered bytes has no room a sender would use.
    bool closed_window(std::uint64_t buffered) const {
        return window_bytes_ != 0 &&
               window_bytes_ - std::min(buffered, window_bytes_) < opening_bytes_;
    }

    /// A segment arrived: event.a bytes are now buffered at event.side.
    void delivered(const TraceEvent& event) {
        std::uint64_t& buffered = buffered_[{event.conn, event.side}];
        const bool was_closed = closed_window(buffered);
        buffered = event.a;
        if (!was_closed && closed_window(buffered))
            add_window(event, 0);
    }

    /// event.side's process read event.b bytes.
    void read(const TraceEvent& event) {
        std::uint64_t& buffered = buffered_[{event.conn, event.side}];
        const bool was_closed = closed_window(buffered);
        buffered -= std::min(buffered, event.b);
        if (was_closed && !closed_window(buffered))
            add_window(event, window_bytes_ - buffered);
    }

    void add_window(const TraceEvent& event, std::uint64_t window_bytes) {
        add(event.time_ns, event, event.side, PacketKind::window);
        packets_.back().window =
            static_cast<std::uint16_t>(std::min<std::uint64_t>(window_bytes, 65535));
    }

    void connect(const TraceEvent& event) {
        const std::string address(recording_.text(event.a));
        auto [server, added] = server_ips_.emplace(
            address, 0x0a000001 + static_cast<std::uint32_t>(server_ips_.size()));
        Endpoints& ends = endpoints_[event.conn];
        ends.ip = {0x0a010000 + static_cast<std::uint32_t>(event.process & 0xffff), server->second};
        ends.port = {static_cast<std::uint16_t>(49152 + (event.conn - 1) % 16383),
                     port_of(address)};
    }

    std::uint64_t established(std::uint64_t conn) const {
        auto it = endpoints_.find(conn);
        return it == endpoints_.end() ? 0 : it->second.established_ns;
    }

    const sim::Recording& recording_;
    std::vector<Packet> packets_;
    std::map<std::uint64_t, Endpoints> endpoints_;
    std::map<std::string, std::uint32_t> server_ips_;
    std::size_t segment_count_ = 0;
    std::uint64_t window_bytes_;
    std::uint64_t opening_bytes_;  ///< the least room a sender sends into
    /// Bytes arrived and not yet read, by (connection, side).
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::uint64_t> buffered_;
};

/// Sequence state of one connection as its packets are written in order.
struct ConnState {
    std::array<std::uint32_t, 2> isn{};
    std::array<std::uint64_t, 2> sent{};      ///< payload bytes each side sent
    std::array<std::uint64_t, 2> received{};  ///< payload bytes each side has seen arrive
    std::array<bool, 2> fin_sent{};
    std::array<bool, 2> fin_seen{};  ///< the peer's FIN arrived
    std::array<std::uint16_t, 2> ip_id{};
};

class FrameWriter {
  public:
    FrameWriter(const sim::Recording& recording, const std::map<std::uint64_t, Endpoints>& ends)
        : recording_(recording), endpoints_(ends) {}

    void write(std::ostream& out, const Packet& packet) {
        auto it = endpoints_.find(packet.conn);
        if (it == endpoints_.end())
            return;  // a connection with no connect recorded: nothing to address it with
        ConnState& state = state_of(packet.conn);
        const std::uint64_t from = packet.from;
        const std::uint64_t to = 1 - from;
        TcpFrame frame;
        frame.time_ns = packet.time_ns;
        frame.source_ip = it->second.ip[from];
        frame.dest_ip = it->second.ip[to];
        frame.source_port = it->second.port[from];
        frame.dest_port = it->second.port[to];
        frame.ack = state.isn[to] + 1 + static_cast<std::uint32_t>(state.received[from]) +
                    (state.fin_seen[from] ? 1 : 0);
        frame.flags = flags_of(packet.kind);
        frame.window = packet.window;
        if (packet.kind == PacketKind::data)
            return write_data(out, packet, state, frame);
        frame.seq = state.isn[from] + (packet.kind == PacketKind::syn ? 0 : 1) +
                    static_cast<std::uint32_t>(state.sent[from]) + (state.fin_sent[from] ? 1 : 0);
        if (packet.kind == PacketKind::syn_ack)
            frame.seq = state.isn[from];
        if (packet.kind == PacketKind::syn)
            frame.ack = 0;
        frame.ip_id = state.ip_id[from]++;
        write_tcp_frame(out, frame);
        if (packet.kind == PacketKind::fin) {
            state.fin_sent[from] = true;
            state.fin_seen[to] = true;
        }
    }

  private:
    static std::uint8_t flags_of(PacketKind kind) {
        switch (kind) {
            case PacketKind::syn:
                return TcpFlags::syn;
            case PacketKind::syn_ack:
                return TcpFlags::syn | TcpFlags::ack;
            case PacketKind::handshake_ack:
            case PacketKind::window:
                return TcpFlags::ack;
            case PacketKind::data:
                return TcpFlags::psh | TcpFlags::ack;
            case PacketKind::fin:
                return TcpFlags::fin | TcpFlags::ack;
            case PacketKind::rst:
            case PacketKind::refused:
                return TcpFlags::rst | TcpFlags::ack;
        }
        return 0;
    }

    void write_data(std::ostream& out, const Packet& packet, ConnState& state, TcpFrame frame) {
        const std::uint64_t from = packet.from;
        const std::span<const std::byte> bytes = recording_.segment_payload(packet.segment);
        for (std::uint64_t done = 0; done < packet.length;) {
            const std::uint64_t piece =
                std::min<std::uint64_t>(packet.length - done, tcp_frame_payload_max);
            frame.seq = state.isn[from] + 1 + static_cast<std::uint32_t>(state.sent[from]);
            frame.payload = bytes.subspan(done, piece);
            frame.ip_id = state.ip_id[from]++;
            write_tcp_frame(out, frame);
            state.sent[from] += piece;
            state.received[1 - from] += piece;
            done += piece;
        }
    }

    ConnState& state_of(std::uint64_t conn) {
        auto [it, added] = states_.try_emplace(conn);
        if (added) {
            // Fixed, distinct initial sequence numbers: the same in every run.
            it->second.isn = {static_cast<std::uint32_t>(0x10000000u + conn * 0x1000u),
                              static_cast<std::uint32_t>(0x20000000u + conn * 0x1000u)};
        }
        return it->second;
    }

    const sim::Recording& recording_;
    const std::map<std::uint64_t, Endpoints>& endpoints_;
    std::map<std::uint64_t, ConnState> states_;
};

}  // namespace

void write_pcap(const sim::Recording& recording, std::ostream& out) {
    if (!recording.keeps_payloads())
        throw std::invalid_argument("a pcap needs a recording that keeps segments' payloads");
    PacketCollector collector(recording);
    collector.collect();
    std::vector<Packet>& packets = collector.packets();
    std::sort(packets.begin(), packets.end(), [](const Packet& a, const Packet& b) {
        if (a.time_ns != b.time_ns)
            return a.time_ns < b.time_ns;
        if (a.rank != b.rank)
            return a.rank < b.rank;
        return a.order < b.order;
    });
    write_pcap_header(out);
    FrameWriter writer(recording, collector.endpoints());
    for (const Packet& packet : packets)
        writer.write(out, packet);
}

std::string pcap_of(const sim::Recording& recording) {
    std::ostringstream out;
    write_pcap(recording, out);
    return std::move(out).str();
}

}  // namespace ferry::views
