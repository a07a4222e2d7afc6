// Fuzz target: what the client parses from a server, line by line and as a
// whole. The input's first byte picks a FerryClient operation (DIR, GET or
// PUT), how many bytes each recv returns and what the stream does at its
// end; the rest is everything the server sends.
//
// RemoteError, ProtocolError (CorruptedTransfer among them) and
// ConnectionError are normal outcomes; a finding is a crash, UB, any other
// exception, or a broken invariant:
// - every line: an OK reply and a DIR line are canonical (they format back
//   to the line), an ERR code has three digits, a reply parses the same
//   with a line check as without, and an ERR message made printable_text
//   is printable ASCII that reads back to the message;
// - a GET that succeeds wrote exactly the bytes its digest names; a DIR
//   that succeeds lists valid names; a PUT that succeeds was acknowledged
//   with the size and digest sent.

#include <fmt/core.h>
#include <string>
#include <variant>

#include "ferry/protocol/digest.h"
#include "ferry/protocol/ferry_client.h"
#include "ferry/protocol/ferry_wire.h"
#include "ferry/protocol/names.h"
#include "ferry/protocol/printable.h"
#include "ferry/protocol/span_reader.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/memory_connection.h"

namespace {

using ferry::fuzz::require;

/// printable_text's escapes read back: "\\" and "\xNN".
std::string unescape(std::string_view text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '\\') {
            out.push_back(text[i]);
        } else if (text[i + 1] == '\\') {
            out.push_back('\\');
            i += 1;
        } else {
            require(text[i + 1] == 'x' && i + 3 < text.size(), "a malformed escape");
            out.push_back(static_cast<char>(std::stoi(std::string(text.substr(i + 2, 2)), 0, 16)));
            i += 3;
        }
    }
    return out;
}

void check_printable(std::string_view message) {
    const std::string shown = ferry::printable_text(message);
    for (char c : shown)
        require(c >= ' ' && c <= '~', "printable_text let a byte through that is not printable");
    require(unescape(shown) == message, "printable_text does not read back");
}

std::string reply_text(const ferry::Reply& reply) {
    if (const auto* ok = std::get_if<ferry::OkReply>(&reply))
        return ferry::format_ok(ok->number, ok->digest);
    const auto& err = std::get<ferry::ErrReply>(reply);
    return ferry::format_err(static_cast<ferry::ErrCode>(err.code), err.message);
}

void check_line(std::string_view line) {
    if (const auto entry = ferry::parse_dir_line(line)) {
        require(fmt::format("{} {}", entry->size_bytes, entry->name) == line,
                "a DIR line parsed from a non-canonical line");
    }
    const auto reply = ferry::parse_reply(line);
    const auto checked = ferry::parse_checked_reply(ferry::with_line_check(line));
    require(reply.has_value() == checked.has_value(),
            "a line check changes whether a reply parses");
    if (!reply)
        return;
    require(reply_text(*reply) == reply_text(*checked), "a line check changes the reply");
    if (const auto* ok = std::get_if<ferry::OkReply>(&*reply)) {
        require(ferry::format_ok(ok->number, ok->digest) == std::string(line) + "\n",
                "an OK reply parsed from a non-canonical line");
        return;
    }
    const auto& err = std::get<ferry::ErrReply>(*reply);
    require(err.code >= 100 && err.code <= 999, "an ERR code that is not three digits");
    check_printable(err.message);
    const auto again =
        ferry::parse_reply(reply_text(*reply).substr(0, reply_text(*reply).size() - 1));
    require(again && reply_text(*again) == reply_text(*reply), "an ERR reply does not format back");
}

void check_lines(std::string_view stream) {
    while (!stream.empty()) {
        const std::size_t end = stream.find('\n');
        check_line(stream.substr(0, end));
        if (end == std::string_view::npos)
            break;
        stream.remove_prefix(end + 1);
    }
}

class DigestSink : public ferry::ByteSink {
  public:
    void write(std::span<const std::byte> bytes) override {
        digest.update(bytes);
        size_bytes += bytes.size();
    }
    ferry::Digest digest;
    std::uint64_t size_bytes = 0;
};

void run_client(ferry::FerryClient& client, unsigned op) {
    if (op == 0) {
        for (const auto& file : client.dir())
            require(ferry::is_valid_name(file.name), "DIR returned an invalid name");
    } else if (op == 1) {
        DigestSink sink;
        const auto outcome = client.try_get("a.bin", sink);
        if (const auto* done = std::get_if<ferry::TransferResult>(&outcome)) {
            require(done->size_bytes == sink.size_bytes, "GET wrote another size than it says");
            require(done->digest == sink.digest.hex(), "GET wrote bytes of another digest");
        }
    } else {
        const std::string body = "hello";
        const ferry::SpanReader file(ferry::as_bytes(body));
        const auto outcome = client.try_put("a.bin", file);
        if (const auto* done = std::get_if<ferry::TransferResult>(&outcome)) {
            require(done->size_bytes == body.size(), "PUT acknowledged another size");
            require(done->digest == ferry::digest_hex(ferry::as_bytes(body)),
                    "PUT acknowledged another digest");
        }
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const unsigned setup = data[0];
    const std::string_view stream = ferry::fuzz::input_text(data + 1, size - 1);
    check_lines(stream);

    const auto at_end = static_cast<ferry::fuzz::AtEnd>((setup >> 2) % 3);
    ferry::fuzz::MemoryConnection conn(stream, 1 + (setup >> 4) * 97, at_end);
    conn.set_timeout(std::chrono::seconds(30));
    ferry::FerryClient client(conn, 64);
    try {
        run_client(client, setup & 3);
    } catch (const ferry::RemoteError&) {
    } catch (const ferry::ProtocolError&) {
    } catch (const ferry::ConnectionError&) {
    }
    return 0;
}
