#include "ferry/protocol/ferry_wire.h"

#include <array>
#include <charconv>
#include <iterator>

#include <fmt/compile.h>
#include <fmt/core.h>

#include "ferry/protocol/digest.h"
#include "ferry/protocol/names.h"

namespace ferry {

namespace {

/// A header line's fields. No line of ferry/1 has more than four, so they
/// live in place and parsing a request allocates nothing; room for eight
/// lets a line with up to seven arguments still get its usage message (more
/// is just a malformed line).
class Fields {
  public:
    static constexpr std::size_t capacity = 8;

    std::size_t size() const { return count_; }
    std::string_view operator[](std::size_t i) const { return fields_[i]; }
    bool add(std::string_view field) {
        if (count_ == capacity)
            return false;
        fields_[count_++] = field;
        return true;
    }

  private:
    std::array<std::string_view, capacity> fields_{};
    std::size_t count_ = 0;
};

/// Splits on single spaces; an empty field (two spaces, leading or trailing
/// space) makes the line malformed, and so do more fields than Fields holds.
std::optional<Fields> split_fields(std::string_view line) {
    Fields fields;
    std::size_t start = 0;
    while (true) {
        const std::size_t space = line.find(' ', start);
        const std::string_view field =
            line.substr(start, space == std::string_view::npos ? line.npos : space - start);
        if (field.empty() || !fields.add(field))
            return std::nullopt;
        if (space == std::string_view::npos)
            return fields;
        start = space + 1;
    }
}

RequestError bad_request(std::string message) {
    return RequestError{ErrCode::bad_request, std::move(message)};
}

}  // namespace

std::optional<std::uint64_t> parse_decimal_u64(std::string_view text) {
    if (text.empty() || text.size() > 20)
        return std::nullopt;
    if (text.size() > 1 && text.front() == '0')
        return std::nullopt;
    for (char c : text) {
        if (c < '0' || c > '9')
            return std::nullopt;
    }
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size())
        return std::nullopt;
    return value;
}

std::variant<Request, RequestError> parse_request(std::string_view line, bool streamed) {
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);  // tolerate nc -C
    const auto fields = split_fields(line);
    if (!fields)
        return bad_request("malformed request line");
    const std::string_view verb = (*fields)[0];
    const std::size_t args = fields->size() - 1;

    if (verb == "DIR") {
        if (args != 0)
            return bad_request("DIR takes no arguments");
        return Request{DirRequest{}};
    }
    if (verb == "GET") {
        if (args != 1)
            return bad_request("usage: GET <name>");
        const std::string_view name = (*fields)[1];
        if (!is_valid_name(name))
            return RequestError{ErrCode::name_not_allowed, "name not allowed"};
        return Request{GetRequest{std::string(name)}};
    }
    if (verb == "PUT") {
        if (args != 2 && args != 3)
            return bad_request("usage: PUT <name> <size> [<digest>]");
        const std::string_view name = (*fields)[1];
        const auto size = parse_decimal_u64((*fields)[2]);
        if (!size)
            return bad_request("size is not a decimal number of bytes");
        std::optional<std::string> digest;
        if (args == 3) {
            if (!is_valid_digest_hex((*fields)[3])) {
                return bad_request("digest is not 32 lowercase hex digits");
            }
            digest = std::string((*fields)[3]);
        }
        if (!is_valid_name(name))
            return RequestError{ErrCode::name_not_allowed, "name not allowed"};
        return Request{PutRequest{std::string(name), *size, std::move(digest)}};
    }
    if (verb == "PUTS" && streamed) {
        if (args != 1)
            return bad_request("usage: PUTS <name>");
        if (!is_valid_name((*fields)[1]))
            return RequestError{ErrCode::name_not_allowed, "name not allowed"};
        return Request{PutStreamRequest{std::string((*fields)[1])}};
    }
    return bad_request("unknown command");
}

std::variant<StreamLine, RequestError> parse_stream_line(std::string_view line) {
    if (!line.empty() && line.back() == '\r')
        line.remove_suffix(1);  // tolerate nc -C
    const auto fields = split_fields(line);
    if (!fields)
        return bad_request("malformed frame line");
    if ((*fields)[0] == "END") {
        if (fields->size() != 3)
            return bad_request("usage: END <size> <digest>");
        const auto size = parse_decimal_u64((*fields)[1]);
        if (!size)
            return bad_request("size is not a decimal number of bytes");
        if (!is_valid_digest_hex((*fields)[2]))
            return bad_request("digest is not 32 lowercase hex digits");
        return StreamLine{StreamEnd{*size, std::string((*fields)[2])}};
    }
    const auto size = fields->size() == 1 ? parse_decimal_u64((*fields)[0]) : std::nullopt;
    if (!size || *size == 0 || *size > stream_frame_bytes_max) {
        return bad_request(fmt::format(
            "a frame line is its length, 1 to {}, or END <size> <digest>", stream_frame_bytes_max));
    }
    return StreamLine{StreamFrame{*size}};
}

LineCheck strip_line_check(std::string_view& line) {
    const std::size_t marker = line.rfind(" ~");
    if (marker == std::string_view::npos || line.size() - marker - 2 != line_check_hex_digits)
        return LineCheck::absent;
    const std::string_view check = line.substr(marker + 2);
    const std::string_view before = line.substr(0, marker);
    line = before;
    return check == line_check_hex(before) ? LineCheck::valid : LineCheck::invalid;
}

std::string with_line_check(std::string_view line) {
    std::string checked;
    checked.reserve(line.size() + 2 + line_check_hex_digits);
    checked.append(line);
    checked.append(" ~");
    checked.append(line_check_hex(line));
    return checked;
}

namespace {

/// line (ending in '\n') with its check put before the '\n', when checked.
std::string finish_line(std::string line, bool checked) {
    if (!checked)
        return line;
    line.pop_back();
    std::string out = with_line_check(line);
    out.push_back('\n');
    return out;
}

}  // namespace

std::optional<Reply> parse_checked_reply(std::string_view line) {
    if (strip_line_check(line) != LineCheck::valid)
        return std::nullopt;
    return parse_reply(line);
}

std::string format_request(const Request& request, bool checked) {
    struct Formatter {
        std::string operator()(const PutRequest& put) const {
            // Sized once ("PUT", the name, a size and a digest): growing the
            // string as it is written would reallocate.
            std::string line;
            line.reserve(put.name.size() + 64);
            if (put.digest) {
                fmt::format_to(std::back_inserter(line), FMT_COMPILE("PUT {} {} {}\n"), put.name,
                               put.size_bytes, *put.digest);
            } else {
                fmt::format_to(std::back_inserter(line), FMT_COMPILE("PUT {} {}\n"), put.name,
                               put.size_bytes);
            }
            return line;
        }
        std::string operator()(const GetRequest& get) const {
            return fmt::format(FMT_COMPILE("GET {}\n"), get.name);
        }
        std::string operator()(const DirRequest&) const { return "DIR\n"; }
        std::string operator()(const PutStreamRequest& put) const {
            return fmt::format(FMT_COMPILE("PUTS {}\n"), put.name);
        }
    };
    return finish_line(std::visit(Formatter{}, request), checked);
}

std::string format_stream_line(const StreamLine& line, bool checked) {
    if (const auto* frame = std::get_if<StreamFrame>(&line))
        return finish_line(fmt::format(FMT_COMPILE("{}\n"), frame->size_bytes), checked);
    const auto& end = std::get<StreamEnd>(line);
    return finish_line(fmt::format(FMT_COMPILE("END {} {}\n"), end.size_bytes, end.digest),
                       checked);
}

std::optional<Reply> parse_reply(std::string_view line) {
    if (line.starts_with("ERR ")) {
        const std::string_view rest = line.substr(4);
        const std::size_t space = rest.find(' ');
        const auto code = parse_decimal_u64(rest.substr(0, space));
        if (!code || *code < 100 || *code > 999)
            return std::nullopt;
        ErrReply err{static_cast<int>(*code), ""};
        if (space != std::string_view::npos)
            err.message = std::string(rest.substr(space + 1));
        return Reply{std::move(err)};
    }
    const auto fields = split_fields(line);
    if (!fields || (*fields)[0] != "OK")
        return std::nullopt;
    if (fields->size() != 2 && fields->size() != 3)
        return std::nullopt;
    const auto number = parse_decimal_u64((*fields)[1]);
    if (!number)
        return std::nullopt;
    OkReply ok{*number, std::nullopt};
    if (fields->size() == 3) {
        if (!is_valid_digest_hex((*fields)[2]))
            return std::nullopt;
        ok.digest = std::string((*fields)[2]);
    }
    return Reply{std::move(ok)};
}

std::string format_ok(std::uint64_t number, std::optional<std::string_view> digest, bool checked) {
    std::string line;
    line.reserve(64);  // "OK", a number and a digest, at most
    if (digest)
        fmt::format_to(std::back_inserter(line), FMT_COMPILE("OK {} {}\n"), number, *digest);
    else
        fmt::format_to(std::back_inserter(line), FMT_COMPILE("OK {}\n"), number);
    return finish_line(std::move(line), checked);
}

std::string format_err(ErrCode code, std::string_view message, bool checked) {
    return finish_line(fmt::format(FMT_COMPILE("ERR {} {}\n"), static_cast<int>(code), message),
                       checked);
}

std::optional<DirEntryLine> parse_dir_line(std::string_view line) {
    const std::size_t space = line.find(' ');
    if (space == std::string_view::npos)
        return std::nullopt;
    const auto size = parse_decimal_u64(line.substr(0, space));
    const std::string_view name = line.substr(space + 1);
    if (!size || !is_valid_name(name))
        return std::nullopt;
    return DirEntryLine{*size, std::string(name)};
}

}  // namespace ferry
