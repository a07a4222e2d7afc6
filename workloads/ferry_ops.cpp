#include "ferry/workloads/ferry_ops.h"

#include <fmt/core.h>

#include "ferry/harness/payload.h"
#include "ferry/protocol/connection.h"
#include "ferry/protocol/digest.h"
#include "ferry/protocol/ferry_wire.h"

namespace ferry::workloads {

using harness::count_param;
using harness::find_param;

bool FerryOp::dishonest() const {
    return verb == Verb::raw || flip_digest || declare || cut || trickle_ms || !junk.empty();
}

std::string FerryOp::request_line() const {
    switch (verb) {
        case Verb::put: {
            std::string digest = digest_hex(content);
            if (flip_digest) {
                char& digit = digest[*flip_digest % digest.size()];
                digit = digit == '0' ? '1' : '0';
            }
            return with_line_check(fmt::format("PUT {} {} {}", name, declared_size(), digest)) +
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

FerryOp ferry_op(const harness::Operation& op, std::uint64_t seed, std::size_t client,
                 std::size_t index) {
    FerryOp f;
    const auto& p = op.params;
    if (op.verb == "put") {
        f.verb = FerryOp::Verb::put;
        if (const auto* content = find_param(p, "content"))
            f.content = std::get<std::string>(*content);
        else
            f.content = harness::generated_payload(seed, client, index, count_param(p, "size", 0));
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
