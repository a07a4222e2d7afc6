#pragma once
// The ferry workload's operations, typed: what each generic Operation of a
// case asks a ferry/1 client to do — honest PUT, GET and DIR, and the
// dishonest variants (a digest wrong in one hex digit, a size that disagrees
// with the body, a body cut short, a request line trickled a byte at a time,
// junk after a body, a malformed request line).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ferry/harness/workload_case.h"
#include "ferry/protocol/clock.h"
#include "ferry/sim/compact_bytes.h"

namespace ferry::workloads {

struct FerryOp {
    enum class Verb { put, get, dir, raw };
    Verb verb = Verb::dir;
    std::string name;                         ///< put, get
    sim::CompactBytes content;                ///< put: the bytes of the file
    std::string content_digest;               ///< put: their digest, 32 hex digits
    std::optional<int> expect_error;          ///< the ERR code the step must get
    std::optional<unsigned> flip_digest;      ///< put: this hex digit of the digest is wrong
    std::optional<std::uint64_t> declare;     ///< put: the size the line declares
    std::optional<std::uint64_t> cut;         ///< put: body bytes sent before closing
    std::optional<std::uint64_t> trickle_ms;  ///< put, get: gap between request-line bytes
    std::optional<std::uint64_t> pause_ms;    ///< idle this long before the request
    std::string junk;                         ///< put: a line sent after the body
    std::string raw_line;                     ///< raw: the request line sent, without its '\n'
    bool unchecked = false;  ///< get, dir: lines without checks, as a request typed by hand
    /// put: streamed (PUTS, the digest in a trailer); honest, by FerryClient
    /// with its fallback to PUT when the server is from before PUTS.
    bool streamed = false;
    /// streamed put: frames of this many bytes, written by the workload.
    std::optional<std::uint64_t> frame;
    /// streamed put: this line (without '\n') goes before the first frame's.
    std::optional<std::string> frame_line;
    /// The client pipelines: a streamed put is written as it is, no fallback.
    bool pipelined = false;

    /// Anything but an honest request: the client drops its connection after.
    bool dishonest() const;
    /// Sent on a connection of its own, which the op reads itself.
    bool own_connection() const { return dishonest() || unchecked; }
    /// The size the PUT line declares.
    std::uint64_t declared_size() const { return declare.value_or(content.size()); }
    /// The request line this op sends, with its '\n': checked like
    /// FerryClient's (a raw line as it is).
    std::string request_line() const;
    /// A streamed put's body as the workload writes it: frames of
    /// frame_bytes() (after frame_line, if any), checked like FerryClient's,
    /// and the trailer with the declared size and the (flipped) digest; only
    /// the frames of the first cut bytes when cut.
    std::string stream_body() const;
    std::uint64_t frame_bytes() const { return frame.value_or(1000); }
    /// Written by the workload rather than by FerryClient (so a server from
    /// before PUTS refuses it with no fallback).
    bool writes_own_stream() const { return streamed && (dishonest() || pipelined); }
    /// What the client sends at most: request line and body (twice for a
    /// streamed put that may fall back to PUT).
    std::uint64_t wire_bytes() const;
};

/// The typed form of op, its payload generated from seed when it gives a size.
FerryOp ferry_op(const harness::Operation& op, std::uint64_t seed, std::size_t client,
                 std::size_t index);

/// Whether ferry/1 (docs/protocol.md) allows name: 1 to 255 bytes of
/// [A-Za-z0-9._-], not starting with '.' or '-'. Written from the spec, apart from
/// protocol/names.cpp, so the model does not share the code it checks.
bool name_allowed_by_spec(std::string_view name);

/// The digest of content as ferry/1 sends it: 32 lowercase hex digits.
std::string digest_hex(std::string_view content);

}  // namespace ferry::workloads
