#pragma once
// One Ethernet/IPv4/TCP frame, synthesized, with correct IPv4 and TCP
// checksums, appended to a classic libpcap file (LINKTYPE_ETHERNET,
// nanosecond timestamps).

#include <cstddef>
#include <cstdint>
#include <ostream>
#include <span>

namespace ferry::views {

struct TcpFlags {
    static constexpr std::uint8_t fin = 0x01;
    static constexpr std::uint8_t syn = 0x02;
    static constexpr std::uint8_t rst = 0x04;
    static constexpr std::uint8_t psh = 0x08;
    static constexpr std::uint8_t ack = 0x10;
};

struct TcpFrame {
    std::uint64_t time_ns = 0;
    std::uint32_t source_ip = 0;  ///< host order
    std::uint32_t dest_ip = 0;
    std::uint16_t source_port = 0;
    std::uint16_t dest_port = 0;
    std::uint32_t seq = 0;
    std::uint32_t ack = 0;
    std::uint8_t flags = 0;
    std::uint16_t ip_id = 0;
    std::uint16_t window = 65535;  ///< the receive window the sender advertises
    std::span<const std::byte> payload;
};

/// The most payload one frame carries (IPv4's total length is 16 bits).
inline constexpr std::size_t tcp_frame_payload_max = 65535 - 20 - 20;

/// The pcap file header: version 2.4, nanosecond timestamps, Ethernet.
void write_pcap_header(std::ostream& out);
/// One pcap record holding frame; frame.payload at most tcp_frame_payload_max.
void write_tcp_frame(std::ostream& out, const TcpFrame& frame);

/// The Internet checksum (RFC 1071) of bytes, continuing from sum.
std::uint16_t internet_checksum(std::span<const std::byte> bytes, std::uint32_t sum = 0);

}  // namespace ferry::views
