#include "ferry/workloads/ferry_ops.h"

#include <algorithm>
#include <string_view>

#include <fmt/core.h>

#include "ferry/harness/payload.h"
#include "ferry/protocol/connection.h"
#include "ferry/protocol/digest.h"
#include "ferry/protocol/ferry_wire.h"

namespace ferry::workloads {

using harness::count_param;
using harness::find_param;

bool FerryOp::dishonest() const {
    return verb == Verb::raw || flip_digest || declare || cut || trickle_ms || !junk.empty() ||
           frame || frame_line;
}

namespace {

/// The content's digest, wrong in one hex digit when flip asks.
std::string sent_digest(const std::string& content_digest, std::optional<unsigned> flip) {
    std::string digest = content_digest;
    if (flip) {
        char& digit = digest[*flip % digest.size()];
        digit = digit == '0' ? '1' : '0';
    }
    return digest;
}

}  // namespace

std::string FerryOp::request_line() const {
    switch (verb) {
        case Verb::put: {
            if (streamed)
                return with_line_check(fmt::format("PUTS {}", name)) + "\n";
            return with_line_check(fmt::format("PUT {} {} {}", name, declared_size(),
                                               sent_digest(content_digest, flip_digest))) +
                   "\n";
        }
        case Verb::get: {
            const std::string line = fmt::format("GET {}", name);
            return (unchecked ? line : with_line_check(line)) + "\n";
        }
        case Verb::dir:
            return (unchecked ? std::string("DIR") : with_line_check("DIR")) + "\n";
        case Verb::raw:
            return raw_line + "\n";
    }
    return {};
}

std::string FerryOp::stream_body() const {
    std::string body;
    if (frame_line)
        body += *frame_line + "\n";
    const std::string whole = content.prefix(cut.value_or(content.size())).to_string();
    const std::string_view sent = whole;
    const std::uint64_t step = std::max<std::uint64_t>(frame_bytes(), 1);
    for (std::uint64_t at = 0; at < sent.size(); at += step) {
        const std::string_view piece = sent.substr(at, step);
        body += with_line_check(std::to_string(piece.size())) + "\n";
        body += piece;
    }
    if (!cut) {
        body += with_line_check(fmt::format("END {} {}", declared_size(),
                                            sent_digest(content_digest, flip_digest))) +
                "\n";
    }
    return body;
}

std::uint64_t FerryOp::wire_bytes() const {
    if (verb != Verb::put || !streamed)
        return request_line().size() + content.size();
    const std::uint64_t frames = content.size() / std::max<std::uint64_t>(frame_bytes(), 1) + 1;
    const std::uint64_t once = request_line().size() + content.size() + frames * 20 + 64;
    return writes_own_stream() ? once : 2 * once + 100;
}

FerryOp ferry_op(const harness::Operation& op, std::uint64_t seed, std::size_t client,
                 std::size_t index) {
    FerryOp f;
    const auto& p = op.params;
    if (op.verb == "put") {
        f.verb = FerryOp::Verb::put;
        if (const auto* content = find_param(p, "content"))
            f.content = sim::CompactBytes(std::get<std::string>(*content));
        else
            f.content = harness::generated_content(seed, client, index, count_param(p, "size", 0));
        f.content_digest = sim::digest_of(f.content);  // once: every line and check uses it
    } else if (op.verb == "get") {
        f.verb = FerryOp::Verb::get;
    } else if (op.verb == "raw") {
        f.verb = FerryOp::Verb::raw;
        f.raw_line = harness::text_param(p, "line");
    }
    f.name = harness::text_param(p, "name");
    if (find_param(p, "expect_error"))
        f.expect_error = static_cast<int>(count_param(p, "expect_error", 0));
    if (find_param(p, "flip_digest"))
        f.flip_digest = static_cast<unsigned>(count_param(p, "flip_digest", 0) % 32);
    if (find_param(p, "declare"))
        f.declare = count_param(p, "declare", 0);
    if (find_param(p, "cut"))
        f.cut = count_param(p, "cut", 0);
    if (find_param(p, "trickle_ms"))
        f.trickle_ms = count_param(p, "trickle_ms", 0);
    if (find_param(p, "pause_ms"))
        f.pause_ms = count_param(p, "pause_ms", 0);
    f.junk = harness::text_param(p, "junk");
    f.unchecked = harness::flag_param(p, "unchecked");
    f.streamed = harness::flag_param(p, "streamed");
    if (find_param(p, "frame"))
        f.frame = count_param(p, "frame", 1);
    if (const auto* line = find_param(p, "frame_line"))
        f.frame_line = std::get<std::string>(*line);
    f.streamed = f.streamed || f.frame || f.frame_line;
    return f;
}

bool name_allowed_by_spec(std::string_view name) {
    if (name.empty() || name.size() > 255 || name.front() == '.' || name.front() == '-')
        return false;
    for (const char ch : name) {
        const bool allowed = (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                             (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
        if (!allowed)
            return false;
    }
    return true;
}

std::string digest_hex(std::string_view content) {
    Digest digest;
    digest.update(as_bytes(content));
    return std::string(digest.hex_digits().view());
}

}  // namespace ferry::workloads
