#pragma once
// ferry/1 header lines (docs/protocol.md): parsing requests and replies,
// formatting both. Pure functions of text; no I/O.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace ferry {

/// A header line, with its '\n', may be at most this long.
inline constexpr std::size_t header_line_bytes_max = 1024;

/// ferry/1 error codes.
enum class ErrCode : int {
    bad_request = 400,
    name_not_allowed = 403,
    not_found = 404,
    timed_out = 408,
    too_large = 413,
    digest_mismatch = 422,
    internal = 500,
    too_many_connections = 503,
    disk_full = 507,
};

struct PutRequest {
    std::string name;
    std::uint64_t size_bytes = 0;
    std::optional<std::string> digest;  ///< 32 lowercase hex digits
};
/// "PUTS <name>": a streamed upload (docs/protocol.md). The body follows as
/// frames, each a "<len>" line and len bytes, and ends with the trailer
/// "END <size> <digest>": the client reads its file once, and can upload
/// what it cannot size beforehand (a pipe).
struct PutStreamRequest {
    std::string name;
};
struct GetRequest {
    std::string name;
};
struct DirRequest {};
using Request = std::variant<PutRequest, GetRequest, DirRequest, PutStreamRequest>;

/// The most bytes one frame of a streamed upload may carry.
inline constexpr std::uint64_t stream_frame_bytes_max = 1024 * 1024;

/// A request line that cannot be served, and the error to answer it with.
struct RequestError {
    ErrCode code;
    std::string message;
};

/// Checked lines (docs/protocol.md): a client may end a request line with
/// " ~" and the line's check (line_check_hex of everything before it); the
/// server then verifies it, and ends every reply line to that request the
/// same way, and a DIR's OK line carries the digest of its listing. TCP's
/// checksum lets damaged bytes through at scale; with checks, a flipped bit
/// in a header line is an error, never a request or reply taken for another.
enum class LineCheck { absent, valid, invalid };
/// Takes a trailing check off line (without its '\n') if it has one, and
/// says whether it had none, a matching one or a wrong one.
LineCheck strip_line_check(std::string_view& line);
/// line (without its '\n') with its check appended.
std::string with_line_check(std::string_view line);

/// Parses a request line (without its '\n' and its check). Without
/// streamed, PUTS is an unknown command, as a server from before it says.
std::variant<Request, RequestError> parse_request(std::string_view line, bool streamed = true);

/// A line inside a streamed upload's body: a frame's length, or the trailer.
struct StreamFrame {
    std::uint64_t size_bytes = 0;  ///< 1 to stream_frame_bytes_max
};
struct StreamEnd {
    std::uint64_t size_bytes = 0;  ///< the whole body's
    std::string digest;            ///< 32 lowercase hex digits
};
using StreamLine = std::variant<StreamFrame, StreamEnd>;
/// Parses a frame or trailer line (without its '\n' and its check); an
/// error (always 400) for anything else.
std::variant<StreamLine, RequestError> parse_stream_line(std::string_view line);
/// "<len>\n" or "END <size> <digest>\n", with its check when checked.
std::string format_stream_line(const StreamLine& line, bool checked = false);

std::string format_request(const Request& request, bool checked = false);

/// "OK <size> <digest>" (PUT and GET) or "OK <count>" (DIR), or "ERR ...".
struct OkReply {
    std::uint64_t number = 0;           ///< size in bytes, or count of DIR lines
    std::optional<std::string> digest;  ///< present for PUT and GET
};
struct ErrReply {
    int code = 0;
    std::string message;
};
using Reply = std::variant<OkReply, ErrReply>;

/// Parses a reply line (without its '\n' and its check); none if it is
/// neither OK nor ERR.
std::optional<Reply> parse_reply(std::string_view line);
/// Parses a reply to a checked request: none if it has no check or fails it
/// (a corrupted unchecked ERR could say 404 for 503).
std::optional<Reply> parse_checked_reply(std::string_view line);

std::string format_ok(std::uint64_t number, std::optional<std::string_view> digest,
                      bool checked = false);
std::string format_err(ErrCode code, std::string_view message, bool checked = false);

/// One DIR listing line "<size> <name>" (without '\n').
struct DirEntryLine {
    std::uint64_t size_bytes = 0;
    std::string name;
};
std::optional<DirEntryLine> parse_dir_line(std::string_view line);

/// A decimal unsigned 64-bit number with no sign, no leading '+', and no
/// leading zeros (except "0").
std::optional<std::uint64_t> parse_decimal_u64(std::string_view text);

}  // namespace ferry
