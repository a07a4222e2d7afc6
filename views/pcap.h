#pragma once
// A recorded run's TCP traffic as a classic pcap file that tshark and
// Wireshark read: each simulated connection becomes an Ethernet/IPv4/TCP
// conversation with a handshake, sequence and acknowledgement numbers, the
// segments' real payloads, FIN and RST, each frame stamped with the virtual
// time it arrived (the capture point is the receiver's side of the wire).
//
// Addresses: a client process p is 10.1.x.y with x.y = p, a listening
// address the n-th one seen is 10.0.0.n; a client's port is 49151 + the
// connection's id, a server's the number after the last ':' of its address
// (9000 when it has none).

#include <ostream>
#include <string>

#include "ferry/sim/recording.h"

namespace ferry::views {

/// Writes the pcap file to out; recording must keep payloads (throws
/// std::invalid_argument if it does not).
void write_pcap(const sim::Recording& recording, std::ostream& out);
/// The same, as bytes.
std::string pcap_of(const sim::Recording& recording);

}  // namespace ferry::views
