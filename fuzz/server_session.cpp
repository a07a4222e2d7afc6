// Fuzz target: a whole ferry/1 server session (protocol/ferry_server.h) over
// an in-memory connection against a MemoryStore holding two files. The
// input's first two bytes choose the setup (bytes per recv, what the client
// does at the end of its bytes, the server's chunk size, a file size limit,
// the store's capacity, whether and at which request the server starts
// draining, whether it is told when the connection idles); the rest is every
// byte the client sends.
//
// Nothing the client sends is a finding by itself; a finding is a crash, UB,
// an exception out of serve_ferry_connection (it throws none), or a broken
// invariant. A model walks the client's bytes as the server should and
// predicts every reply:
// - the replies are exactly the predicted ones: each ERR with its code and
//   checked when its request was, each OK byte for byte (a GET's bytes and a
//   DIR's listing included), nothing more;
// - afterwards the store holds exactly the model's files, no upload is left
//   pending, and the connection is closed;
// - the idle callback alternates true and false, starting with true and
//   ending with false (a draining server counts on it);
// - no log line holds a control byte (the client's text is escaped).

#include <fmt/core.h>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "ferry/protocol/digest.h"
#include "ferry/protocol/ferry_server.h"
#include "ferry/protocol/ferry_wire.h"
#include "ferry/protocol/memory_store.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/memory_connection.h"

namespace {

using ferry::fuzz::AtEnd;
using ferry::fuzz::require;
using Files = std::map<std::string, std::string>;

struct Setup {
    std::size_t recv_bytes_max = 1;
    AtEnd at_end = AtEnd::close;
    std::uint64_t capacity_bytes = 0;  ///< 0: unlimited
    /// The server starts draining when the request line with this number
    /// (from 1) arrives; 0: never.
    unsigned drain_at_request = 0;
    bool tell_idle = false;
    ferry::FerryServerConfig config;
};

Setup read_setup(std::uint8_t first, std::uint8_t second) {
    static constexpr std::size_t chunk_bytes[] = {1, 3, 64, 1000, 65536};
    static constexpr std::uint64_t file_bytes_max[] = {0, 0, 5, 100};
    static constexpr std::uint64_t capacity_bytes[] = {0, 0, 10, 200};
    Setup setup;
    setup.recv_bytes_max = 1 + (first & 0x0f) * 67u;
    setup.at_end = static_cast<AtEnd>(((first >> 4) & 3) % 3);
    setup.drain_at_request = first >> 6;
    setup.config.chunk_bytes = chunk_bytes[(second & 0x7) % 5];
    // The three low bits' values past the chunk sizes make an old server.
    setup.config.streamed_put = (second & 0x7) < 5;
    setup.config.max_file_bytes = file_bytes_max[(second >> 3) & 3];
    setup.capacity_bytes = capacity_bytes[(second >> 5) & 3];
    setup.tell_idle = (second >> 7) != 0;
    return setup;
}

/// Predicts the server's replies from the client's bytes and checks them
/// against what it sent.
class ReplyModel {
  public:
    ReplyModel(std::string_view input, std::string_view output, const Setup& setup, Files files)
        : in_(input), out_(output), setup_(setup), files_(std::move(files)) {}

    void check() {
        while (serve_next()) {
        }
        require(out_.empty(), "the server sent more than its replies");
    }
    const Files& files() const { return files_; }

  private:
    bool serve_next();
    bool serve(const ferry::Request& request, bool checked);
    bool serve_put(const ferry::PutRequest& put, bool checked);
    bool serve_put_streamed(const ferry::PutStreamRequest& put, bool checked);
    bool stream_line_error(bool checked);
    void end_of_input(bool checked, int code_at_close);
    void expect_exact(const std::string& expected, const char* what);
    void expect_err(int code, bool checked);
    std::uint64_t committed_bytes() const;

    std::string_view in_;
    std::string_view out_;
    const Setup& setup_;
    Files files_;
    unsigned requests_ = 0;  ///< request lines that passed their check
};

/// One request line and its reply; false once the connection has ended.
bool ReplyModel::serve_next() {
    const std::size_t newline = in_.find('\n');
    if (newline == std::string_view::npos || newline >= ferry::header_line_bytes_max) {
        if (in_.size() >= ferry::header_line_bytes_max)
            expect_err(400, true);  // a line too long
        else
            end_of_input(true, in_.empty() ? 0 : 400);  // 400: the stream ended mid-line
        return false;
    }
    std::string_view line = in_.substr(0, newline);
    in_.remove_prefix(newline + 1);
    const ferry::LineCheck check = ferry::strip_line_check(line);
    if (check == ferry::LineCheck::invalid) {
        expect_err(400, true);
        return false;
    }
    const bool checked = check == ferry::LineCheck::valid;
    if (++requests_ == setup_.drain_at_request) {
        expect_err(503, checked);
        return false;
    }
    const auto parsed = ferry::parse_request(line, setup_.config.streamed_put);
    if (const auto* error = std::get_if<ferry::RequestError>(&parsed)) {
        expect_err(static_cast<int>(error->code), checked);
        return error->code == ferry::ErrCode::name_not_allowed && line.starts_with("GET ");
    }
    return serve(std::get<ferry::Request>(parsed), checked);
}

bool ReplyModel::serve(const ferry::Request& request, bool checked) {
    if (const auto* put = std::get_if<ferry::PutRequest>(&request))
        return serve_put(*put, checked);
    if (const auto* streamed = std::get_if<ferry::PutStreamRequest>(&request))
        return serve_put_streamed(*streamed, checked);
    if (const auto* get = std::get_if<ferry::GetRequest>(&request)) {
        const auto file = files_.find(get->name);
        if (file == files_.end()) {
            expect_err(404, checked);
        } else {
            const std::string& content = file->second;
            expect_exact(ferry::format_ok(content.size(),
                                          ferry::digest_hex(ferry::as_bytes(content)), checked) +
                             content,
                         "a GET's reply");
        }
        return true;
    }
    std::string listing;
    for (const auto& [name, content] : files_)
        listing += fmt::format("{} {}\n", content.size(), name);
    const std::string ok =
        checked ? ferry::format_ok(files_.size(), ferry::digest_hex(ferry::as_bytes(listing)), true)
                : ferry::format_ok(files_.size(), std::nullopt);
    expect_exact(ok + listing, "a DIR's reply");
    return true;
}

bool ReplyModel::serve_put(const ferry::PutRequest& put, bool checked) {
    const std::uint64_t limit = setup_.config.max_file_bytes;
    if (limit != 0 && put.size_bytes > limit) {
        expect_err(413, checked);
        return false;
    }
    const std::uint64_t capacity = setup_.capacity_bytes;
    if (in_.size() < put.size_bytes) {
        // The body is cut short; the store may fill up with what came.
        const bool full = capacity != 0 && committed_bytes() + in_.size() > capacity;
        if (full)
            expect_err(507, checked);
        else
            end_of_input(checked, 0);
        return false;
    }
    const std::string body(in_.substr(0, put.size_bytes));
    in_.remove_prefix(put.size_bytes);
    if (capacity != 0 && committed_bytes() + body.size() > capacity) {
        expect_err(507, checked);
        return false;
    }
    const std::string digest = ferry::digest_hex(ferry::as_bytes(body));
    if (put.digest && *put.digest != digest) {
        expect_err(422, checked);
        return true;
    }
    expect_exact(ferry::format_ok(body.size(), digest, checked), "a PUT's reply");
    files_[put.name] = body;
    return true;
}

/// A PUTS's frame or trailer line cannot be read whole: too long (400),
/// or the bytes end before or in it. Always ends the connection.
bool ReplyModel::stream_line_error(bool checked) {
    if (in_.size() >= ferry::header_line_bytes_max)
        expect_err(400, checked);
    else
        end_of_input(checked, in_.empty() ? 0 : 400);
    return false;
}

bool ReplyModel::serve_put_streamed(const ferry::PutStreamRequest& put, bool checked) {
    const std::uint64_t limit = setup_.config.max_file_bytes;
    const std::uint64_t capacity = setup_.capacity_bytes;
    std::string body;
    while (true) {
        const std::size_t newline = in_.find('\n');
        if (newline == std::string_view::npos || newline >= ferry::header_line_bytes_max)
            return stream_line_error(checked);
        std::string_view line = in_.substr(0, newline);
        in_.remove_prefix(newline + 1);
        const bool damaged = ferry::strip_line_check(line) == ferry::LineCheck::invalid;
        const auto parsed = ferry::parse_stream_line(line);
        if (damaged || std::holds_alternative<ferry::RequestError>(parsed)) {
            expect_err(400, checked);
            return false;
        }
        const auto& stream_line = std::get<ferry::StreamLine>(parsed);
        if (const auto* end = std::get_if<ferry::StreamEnd>(&stream_line)) {
            const std::string digest = ferry::digest_hex(ferry::as_bytes(body));
            if (end->size_bytes != body.size() || end->digest != digest) {
                expect_err(422, checked);
                return true;
            }
            expect_exact(ferry::format_ok(body.size(), digest, checked), "a PUTS's reply");
            files_[put.name] = body;
            return true;
        }
        const std::uint64_t frame = std::get<ferry::StreamFrame>(stream_line).size_bytes;
        if (limit != 0 && body.size() + frame > limit) {
            expect_err(413, checked);
            return false;
        }
        const std::uint64_t arrived = std::min<std::uint64_t>(frame, in_.size());
        if (capacity != 0 && committed_bytes() + body.size() + arrived > capacity) {
            expect_err(507, checked);
            return false;
        }
        if (arrived < frame) {
            end_of_input(checked, 0);
            return false;
        }
        body += in_.substr(0, frame);
        in_.remove_prefix(frame);
    }
}

/// The client's bytes ran out: what the server answers depends on what the
/// client does then (code_at_close: the answer to a plain end, 0 for none).
void ReplyModel::end_of_input(bool checked, int code_at_close) {
    switch (setup_.at_end) {
        case AtEnd::close:
            if (code_at_close != 0)
                expect_err(code_at_close, checked);
            return;
        case AtEnd::stall:
            expect_err(408, checked);
            return;
        case AtEnd::reset:
            return;
    }
}

void ReplyModel::expect_exact(const std::string& expected, const char* what) {
    if (!out_.starts_with(expected)) {
        std::fprintf(stderr, "expected %s: %s\n", what, fmt::format("{:?}", expected).c_str());
        std::fprintf(stderr, "sent: %s\n", fmt::format("{:?}", out_.substr(0, 200)).c_str());
        require(false, "the server's reply is not the one predicted");
    }
    out_.remove_prefix(expected.size());
}

void ReplyModel::expect_err(int code, bool checked) {
    const std::size_t newline = out_.find('\n');
    require(newline != std::string_view::npos, "an ERR reply is missing or has no newline");
    std::string_view line = out_.substr(0, newline);
    out_.remove_prefix(newline + 1);
    for (char c : line)
        require(c >= ' ' && c <= '~', "an ERR reply holds a byte that is not printable ASCII");
    const ferry::LineCheck check = ferry::strip_line_check(line);
    require(check == (checked ? ferry::LineCheck::valid : ferry::LineCheck::absent),
            "an ERR reply checked when its request was not, or the other way round");
    const auto reply = ferry::parse_reply(line);
    require(reply && std::holds_alternative<ferry::ErrReply>(*reply), "not an ERR reply");
    if (std::get<ferry::ErrReply>(*reply).code != code) {
        std::fprintf(stderr, "expected ERR %d, got %s\n", code, std::string(line).c_str());
        require(false, "an ERR reply with another code than predicted");
    }
}

std::uint64_t ReplyModel::committed_bytes() const {
    std::uint64_t total = 0;
    for (const auto& [name, content] : files_)
        total += content.size();
    return total;
}

void check_store(ferry::MemoryStore& store, const Files& expected) {
    require(store.pending_bytes() == 0, "an upload is left pending");
    const auto listed = store.list();
    require(listed.size() == expected.size(), "the store holds another number of files");
    for (const auto& info : listed) {
        const auto want = expected.find(info.name);
        require(want != expected.end(), "the store holds a file the model does not");
        const auto bytes = store.file(info.name);
        require(bytes && std::string(ferry::as_text(*bytes)) == want->second,
                "a file's content differs from the model's");
        require(info.size_bytes == want->second.size(), "a file is listed with a wrong size");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2)
        return 0;
    Setup setup = read_setup(data[0], data[1]);
    const std::string_view input = ferry::fuzz::input_text(data + 2, size - 2);
    std::vector<std::string> log;
    setup.config.log = [&log](std::string_view line) { log.emplace_back(line); };
    unsigned draining_asked = 0;
    setup.config.draining = [&] { return ++draining_asked == setup.drain_at_request; };
    std::vector<bool> idle_calls;
    if (setup.tell_idle)
        setup.config.idle = [&idle_calls](bool idle) { idle_calls.push_back(idle); };

    const Files files{{"a.bin", "hello"}, {"empty", ""}};
    ferry::MemoryStore store(setup.capacity_bytes);
    for (const auto& [name, content] : files)
        store.put_file(name, {ferry::as_bytes(content).begin(), ferry::as_bytes(content).end()});
    ferry::fuzz::MemoryConnection conn(input, setup.recv_bytes_max, setup.at_end);
    ferry::serve_ferry_connection(conn, store, setup.config);

    require(conn.closed(), "the session did not close its connection");
    for (std::size_t i = 0; i < idle_calls.size(); ++i)
        require(idle_calls[i] == (i % 2 == 0), "idle(true) and idle(false) do not alternate");
    require(idle_calls.empty() || !idle_calls.back(), "the session ended idle(true)");
    ReplyModel model(input, conn.sent(), setup, files);
    model.check();
    check_store(store, model.files());
    for (const auto& line : log) {
        for (char c : line)
            require(static_cast<unsigned char>(c) >= ' ' && c != '\x7f',
                    "a log line holds a control byte");
    }
    return 0;
}
