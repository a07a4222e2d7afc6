#include "ferry/views/tcp_frame.h"

#include <array>
#include <bit>
#include <cstring>
#include <stdexcept>

namespace ferry::views {

namespace {

constexpr std::size_t ethernet_bytes = 14;
constexpr std::size_t ip_bytes = 20;
constexpr std::size_t tcp_bytes = 20;

void put_le32(std::byte* at, std::uint32_t value) {
    for (int i = 0; i < 4; ++i)
        at[i] = std::byte{static_cast<unsigned char>((value >> (8 * i)) & 0xff)};
}
void put_le16(std::byte* at, std::uint16_t value) {
    at[0] = std::byte{static_cast<unsigned char>(value & 0xff)};
    at[1] = std::byte{static_cast<unsigned char>(value >> 8)};
}

void write_bytes(std::ostream& out, std::span<const std::byte> bytes) {
    out.write(reinterpret_cast<const char*>(bytes.data()),
              static_cast<std::streamsize>(bytes.size()));
}

/// The ones'-complement sum of bytes as 16-bit big-endian words, unfolded.
/// (Eight bytes at a time: a 64-bit word hi·2³² + lo adds the same as hi +
/// lo modulo 0xffff, which is all the folded sum keeps, and so does a 32-bit
/// one, hi·2¹⁶ + lo. Each 64-bit word adds at most 2³³ to the sum: a frame's
/// 65,535 bytes cannot overflow it.)
std::uint64_t ones_sum(std::span<const std::byte> bytes, std::uint64_t sum) {
    std::size_t i = 0;
    for (; i + 8 <= bytes.size(); i += 8) {
        std::uint64_t word = 0;
        std::memcpy(&word, bytes.data() + i, 8);
        if constexpr (std::endian::native == std::endian::little)
            word = __builtin_bswap64(word);
        sum += (word >> 32) + (word & 0xffffffff);
    }
    for (; i + 4 <= bytes.size(); i += 4) {
        std::uint32_t word = 0;
        std::memcpy(&word, bytes.data() + i, 4);
        if constexpr (std::endian::native == std::endian::little)
            word = __builtin_bswap32(word);
        sum += word;
    }
    for (; i + 1 < bytes.size(); i += 2) {
        sum += static_cast<std::uint32_t>(std::to_integer<std::uint8_t>(bytes[i])) << 8 |
               std::to_integer<std::uint8_t>(bytes[i + 1]);
    }
    if (i < bytes.size())
        sum += static_cast<std::uint32_t>(std::to_integer<std::uint8_t>(bytes[i])) << 8;
    return sum;
}

std::uint16_t folded_complement(std::uint64_t sum) {
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return static_cast<std::uint16_t>(~sum & 0xffff);
}
void put_be16(std::byte* at, std::uint16_t value) {
    at[0] = std::byte{static_cast<unsigned char>(value >> 8)};
    at[1] = std::byte{static_cast<unsigned char>(value & 0xff)};
}
void put_be32(std::byte* at, std::uint32_t value) {
    put_be16(at, static_cast<std::uint16_t>(value >> 16));
    put_be16(at + 2, static_cast<std::uint16_t>(value & 0xffff));
}

/// A locally administered MAC address made from an IPv4 address.
void put_mac(std::byte* at, std::uint32_t ip) {
    at[0] = std::byte{0x02};
    at[1] = std::byte{0x00};
    put_be32(at + 2, ip);
}

void fill_ip_header(std::byte* ip, const TcpFrame& frame, std::size_t total_bytes) {
    ip[0] = std::byte{0x45};  // IPv4, 20-byte header
    ip[1] = std::byte{0};
    put_be16(ip + 2, static_cast<std::uint16_t>(total_bytes));
    put_be16(ip + 4, frame.ip_id);
    put_be16(ip + 6, 0x4000);  // don't fragment
    ip[8] = std::byte{64};     // TTL
    ip[9] = std::byte{6};      // TCP
    put_be16(ip + 10, 0);
    put_be32(ip + 12, frame.source_ip);
    put_be32(ip + 16, frame.dest_ip);
    put_be16(ip + 10, internet_checksum(std::span<const std::byte>(ip, ip_bytes)));
}

void fill_tcp_header(std::byte* tcp, const TcpFrame& frame) {
    put_be16(tcp, frame.source_port);
    put_be16(tcp + 2, frame.dest_port);
    put_be32(tcp + 4, frame.seq);
    put_be32(tcp + 8, frame.ack);
    tcp[12] = std::byte{(tcp_bytes / 4) << 4};
    tcp[13] = std::byte{frame.flags};
    put_be16(tcp + 14, frame.window);
    put_be16(tcp + 16, 0);  // checksum, below
    put_be16(tcp + 18, 0);  // urgent pointer
}

/// The TCP checksum over the pseudo-header, the header and the payload.
std::uint16_t tcp_checksum(const TcpFrame& frame, const std::byte* tcp_header) {
    std::uint64_t sum = 0;
    sum += frame.source_ip >> 16;
    sum += frame.source_ip & 0xffff;
    sum += frame.dest_ip >> 16;
    sum += frame.dest_ip & 0xffff;
    sum += 6;
    sum += tcp_bytes + frame.payload.size();
    sum = ones_sum(std::span<const std::byte>(tcp_header, tcp_bytes), sum);
    return folded_complement(ones_sum(frame.payload, sum));
}

}  // namespace

std::uint16_t internet_checksum(std::span<const std::byte> bytes, std::uint32_t sum) {
    return folded_complement(ones_sum(bytes, sum));
}

void write_pcap_header(std::ostream& out) {
    std::array<std::byte, 24> header{};
    put_le32(header.data(), 0xa1b23c4d);  // nanosecond resolution
    put_le16(header.data() + 4, 2);
    put_le16(header.data() + 6, 4);
    put_le32(header.data() + 8, 0);   // GMT
    put_le32(header.data() + 12, 0);  // accuracy
    put_le32(header.data() + 16, 262144);
    put_le32(header.data() + 20, 1);  // LINKTYPE_ETHERNET
    write_bytes(out, header);
}

void write_tcp_frame(std::ostream& out, const TcpFrame& frame) {
    if (frame.payload.size() > tcp_frame_payload_max)
        throw std::logic_error("a TCP frame's payload is larger than IPv4 allows");
    const std::size_t frame_bytes = ethernet_bytes + ip_bytes + tcp_bytes + frame.payload.size();
    // The record header and the frame's headers; the payload follows as it is.
    std::array<std::byte, 16 + ethernet_bytes + ip_bytes + tcp_bytes> head{};
    put_le32(head.data(), static_cast<std::uint32_t>(frame.time_ns / 1'000'000'000));
    put_le32(head.data() + 4, static_cast<std::uint32_t>(frame.time_ns % 1'000'000'000));
    put_le32(head.data() + 8, static_cast<std::uint32_t>(frame_bytes));
    put_le32(head.data() + 12, static_cast<std::uint32_t>(frame_bytes));
    std::byte* ethernet = head.data() + 16;
    put_mac(ethernet, frame.dest_ip);
    put_mac(ethernet + 6, frame.source_ip);
    put_be16(ethernet + 12, 0x0800);
    fill_ip_header(ethernet + ethernet_bytes, frame, ip_bytes + tcp_bytes + frame.payload.size());
    std::byte* tcp = ethernet + ethernet_bytes + ip_bytes;
    fill_tcp_header(tcp, frame);
    put_be16(tcp + 16, tcp_checksum(frame, tcp));
    write_bytes(out, head);
    write_bytes(out, frame.payload);
}

}  // namespace ferry::views
