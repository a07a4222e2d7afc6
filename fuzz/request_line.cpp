// Fuzz target: the ferry/1 request-line parser (protocol/ferry_wire.h), as
// the server runs it on every line: strip_line_check, then parse_request.
//
// A RequestError is a normal outcome; a finding is a crash, UB, any
// exception, or a broken invariant:
// - an error carries 400 or 403 and a message;
// - a request is canonical: formatting it gives back the line it came from
//   (so nothing is accepted that the client would not send), its name is
//   valid, and its checked form parses back to the same request;
// - parse_decimal_u64 accepts exactly the canonical decimals;
// - a PUTS frame or trailer line (parse_stream_line) is refused with 400,
//   or canonical with its frame length in range.

#include <string>
#include <variant>

#include "ferry/protocol/ferry_wire.h"
#include "ferry/protocol/names.h"
#include "fuzz/fuzz_check.h"

namespace {

using ferry::fuzz::require;

void check_decimal(std::string_view text) {
    if (const auto value = ferry::parse_decimal_u64(text))
        require(std::to_string(*value) == text,
                "parse_decimal_u64 accepted a non-canonical number");
}

void check_request(const ferry::Request& request, std::string_view line) {
    if (const auto* put = std::get_if<ferry::PutRequest>(&request))
        require(ferry::is_valid_name(put->name), "PUT with an invalid name parsed");
    if (const auto* get = std::get_if<ferry::GetRequest>(&request))
        require(ferry::is_valid_name(get->name), "GET with an invalid name parsed");

    std::string_view without_cr = line;
    if (without_cr.ends_with('\r'))
        without_cr.remove_suffix(1);
    const std::string formatted = ferry::format_request(request);
    require(formatted == std::string(without_cr) + "\n",
            "a request parsed from a non-canonical line");

    const std::string checked = ferry::format_request(request, true);
    require(checked.ends_with('\n'), "a checked request line without its newline");
    std::string_view again(checked.data(), checked.size() - 1);
    require(ferry::strip_line_check(again) == ferry::LineCheck::valid,
            "a checked request line fails its own check");
    const auto reparsed = ferry::parse_request(again);
    const auto* request_again = std::get_if<ferry::Request>(&reparsed);
    require(request_again != nullptr, "a checked request line does not parse");
    require(ferry::format_request(*request_again) == formatted,
            "a checked request line parses to another request");
}

}  // namespace

/// A PUTS's frame or trailer line: refused with 400 and a message, or
/// canonical (formatting it gives the line back), its frame 1 to the most.
void check_stream_line(std::string_view line) {
    const auto parsed = ferry::parse_stream_line(line);
    if (const auto* error = std::get_if<ferry::RequestError>(&parsed)) {
        require(error->code == ferry::ErrCode::bad_request && !error->message.empty(),
                "a frame line refused with a code other than 400, or no message");
        return;
    }
    const auto& stream_line = std::get<ferry::StreamLine>(parsed);
    if (const auto* frame = std::get_if<ferry::StreamFrame>(&stream_line))
        require(frame->size_bytes >= 1 && frame->size_bytes <= ferry::stream_frame_bytes_max,
                "a frame length out of range parsed");
    std::string_view without_cr = line;
    if (without_cr.ends_with('\r'))
        without_cr.remove_suffix(1);
    require(ferry::format_stream_line(stream_line) == std::string(without_cr) + "\n",
            "a frame line parsed from a non-canonical line");
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view line = ferry::fuzz::input_text(data, size);
    check_decimal(line);
    if (ferry::strip_line_check(line) == ferry::LineCheck::invalid)
        return 0;  // the server answers ERR 400 without parsing it
    check_stream_line(line);
    const auto parsed = ferry::parse_request(line);
    if (const auto* error = std::get_if<ferry::RequestError>(&parsed)) {
        require(error->code == ferry::ErrCode::bad_request ||
                    error->code == ferry::ErrCode::name_not_allowed,
                "a request error with a code other than 400 or 403");
        require(!error->message.empty(), "a request error without a message");
        return 0;
    }
    check_request(std::get<ferry::Request>(parsed), line);
    return 0;
}
