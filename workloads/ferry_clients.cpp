#include "ferry/workloads/ferry_clients.h"

#include <algorithm>
#include <array>
#include <memory>
#include <stdexcept>
#include <variant>

#include <fmt/core.h>

#include "ferry/harness/op_status.h"
#include "ferry/protocol/buffered_reader.h"
#include "ferry/protocol/digest.h"
#include "ferry/protocol/ferry_client.h"
#include "ferry/protocol/ferry_wire.h"
#include "ferry/sim/compact_bytes_reader.h"

namespace ferry::workloads {

namespace {

using harness::OpEnd;
using harness::OpStatus;

/// Keeps what a GET receives, a generated payload as its stream.
class CompactSink : public ByteSink {
  public:
    void write(std::span<const std::byte> piece) override { bytes.append(piece); }
    sim::CompactBytes bytes;
};

/// An expected ERR is the step done; an OK where an ERR was expected is not.
OpEnd with_expectation(const FerryOp& op, OpEnd end) {
    if (!op.expect_error)
        return end;
    if (end.status == OpStatus::refused && end.code == *op.expect_error) {
        end.status = OpStatus::ok;
        return end;
    }
    if (end.status == OpStatus::ok) {
        return {OpStatus::unexpected_ok, 0,
                fmt::format("expected ERR {} but the server said OK", *op.expect_error)};
    }
    return end;
}

/// The end of an operation whose reply line is line: OK, or the ERR's code.
/// The reply to a checked request must pass its check (a raw request's is
/// read as it is).
OpEnd end_for_reply(const std::string& line, bool checked) {
    const auto reply = checked ? parse_checked_reply(line) : parse_reply(line);
    if (!reply && checked && parse_reply(line))
        return {OpStatus::corrupted, 0, fmt::format("a reply that fails its check: {:?}", line)};
    if (!reply)
        return {OpStatus::protocol_error, 0, fmt::format("a malformed reply: {:?}", line)};
    if (const auto* err = std::get_if<ErrReply>(&*reply))
        return {OpStatus::refused, err->code, line};
    return {OpStatus::ok, 0, line};
}

/// An OK to a PUT must acknowledge the size and digest sent.
OpEnd checked_ack(const OpEnd& ok, const FerryOp& op) {
    const auto reply = parse_checked_reply(ok.detail);
    const auto* acked = reply ? std::get_if<OkReply>(&*reply) : nullptr;
    if (acked && acked->number == op.content.size() && acked->digest == op.content_digest)
        return ok;
    return {OpStatus::corrupted, 0,
            fmt::format("the server acknowledged {:?} for {} bytes with digest {}", ok.detail,
                        op.content.size(), op.content_digest)};
}

/// The request line, whole or a byte at a time with gaps of the world's time.
void send_request_line(harness::World& world, Connection& conn, const FerryOp& op) {
    const std::string line = op.request_line();
    if (!op.trickle_ms) {
        send_all(conn, line);
        return;
    }
    for (std::size_t i = 0; i < line.size(); ++i) {
        if (i != 0)
            world.sleep(std::chrono::milliseconds(*op.trickle_ms));
        send_all(conn, std::string_view(line).substr(i, 1));
    }
}

/// Whether the server keeps the connection after op ended so
/// (docs/protocol.md, "connection afterwards"). The next request goes on it,
/// so a server that closes where it should keep is caught. False where the
/// client cannot tell (a 500 or 507 to a PUT) or reads replies itself.
bool connection_kept(const FerryOp& op, const OpEnd& end) {
    const bool answered = end.status == OpStatus::ok || end.status == OpStatus::refused;
    if (!answered || op.verb == FerryOp::Verb::raw || op.trickle_ms || op.unchecked)
        return false;
    if (op.dishonest())  // of the lies, only a wrong digest leaves it in step
        return !op.declare && !op.cut && op.junk.empty() && end.code == 422;
    switch (end.code) {
        case 0:
        case 404:
        case 422:
            return true;
        case 403:
            return op.verb == FerryOp::Verb::get;
        case 500:
            return op.verb != FerryOp::Verb::put;
        default:
            return false;
    }
}

/// After an ERR 400 or 503 the server closes the connection
/// (docs/protocol.md), and so after a 403 or 413 to an upload the workload
/// writes itself (a dishonest one; FerryClient's own hang up): the end of
/// the stream (or a reset) must follow the reply, not a server that serves
/// on (reading the body as requests, or the next request while it shuts
/// down) and, when it gives up on us, says ERR 408, or says nothing within
/// our timeout (which a fault that stalls the network excuses).
OpEnd closed_after_closing_error(Connection& conn, const FerryOp& op, OpEnd end) {
    const bool upload_refused =
        op.verb == FerryOp::Verb::put && op.dishonest() && (end.code == 403 || end.code == 413);
    const bool closes = end.code == 400 || end.code == 503 || upload_refused;
    if (end.status != OpStatus::refused || !closes)
        return end;
    std::array<std::byte, 1> next{};
    try {
        if (conn.recv(next) == 0)
            return end;
    } catch (const ConnectionError& e) {
        if (e.kind() == ErrorKind::reset)
            return end;
        if (e.kind() != ErrorKind::timed_out)
            throw;
        // Timed out, not a protocol error: only what delays the network
        // excuses it, and an outcome that allows a cut does not.
        return {OpStatus::timed_out, 0,
                fmt::format("the server kept the connection open after ERR {}: neither a byte "
                            "nor the end of the stream came within the client's timeout",
                            end.code)};
    }
    return {OpStatus::protocol_error, 0,
            fmt::format("the server kept the connection open after ERR {}", end.code)};
}

/// A reply line that says OK: the OK, or how the operation ended instead.
/// A checked request's line must pass its check.
std::variant<OkReply, OpEnd> read_ok_line(BufferedReader& reader, bool checked, std::string& line) {
    auto got = reader.recv_line(header_line_bytes_max);
    if (!got)
        return OpEnd{OpStatus::cut, 0, "the server closed without a reply"};
    line = std::move(*got);
    const auto reply = checked ? parse_checked_reply(line) : parse_reply(line);
    if (const auto* ok = reply ? std::get_if<OkReply>(&*reply) : nullptr)
        return *ok;
    return end_for_reply(line, checked);
}

/// The reply to a GET: its line, then the body, checked against the
/// line's digest.
OpEnd read_get_reply(BufferedReader& reader, bool checked, FerryOpResult& result) {
    std::string line;
    auto first = read_ok_line(reader, checked, line);
    if (auto* end = std::get_if<OpEnd>(&first))
        return std::move(*end);
    const OkReply* ok = &std::get<OkReply>(first);
    if (!ok->digest)
        return {OpStatus::protocol_error, 0,
                fmt::format("GET answered without a digest: {:?}", line)};
    sim::CompactBytes body;
    Digest digest;
    // Asks for up to 1 MiB a recv, more than any receive window the faults
    // draw, so the simulated recv takes what it would take into the whole
    // body (the same choices), without holding a large body whole.
    std::vector<std::byte> piece(
        static_cast<std::size_t>(std::min<std::uint64_t>(ok->number, 1024 * 1024)));
    while (body.size() < ok->number) {
        const std::size_t want = static_cast<std::size_t>(
            std::min<std::uint64_t>(piece.size(), ok->number - body.size()));
        const std::size_t n = reader.recv(std::span(piece).first(want));
        if (n == 0)
            return {OpStatus::cut, 0, fmt::format("the body ended after {} bytes", body.size())};
        body.append(std::span(piece).first(n));
        digest.update(std::span(piece).first(n));
    }
    if (digest.hex() != *ok->digest)
        return {OpStatus::corrupted, 0, "the body does not match its digest"};
    result.got = std::move(body);
    return {};
}

/// The reply to a DIR: its line, then the listing; a checked one must match
/// the line's digest (an unchecked one has none).
OpEnd read_dir_reply(BufferedReader& reader, bool checked, FerryOpResult& result) {
    std::string line;
    auto first = read_ok_line(reader, checked, line);
    if (auto* end = std::get_if<OpEnd>(&first))
        return std::move(*end);
    const OkReply* ok = &std::get<OkReply>(first);
    std::vector<FileInfo> listing;
    std::string text;
    for (std::uint64_t n = 0; n < ok->number; ++n) {
        const auto entry_line = reader.recv_line(header_line_bytes_max);
        const auto entry = entry_line ? parse_dir_line(*entry_line) : std::nullopt;
        if (!entry)
            return {OpStatus::protocol_error, 0, "a malformed or missing DIR line"};
        text += *entry_line + "\n";
        listing.push_back(FileInfo{entry->name, entry->size_bytes});
    }
    if (checked && (!ok->digest || digest_hex(text) != *ok->digest))
        return {OpStatus::corrupted, 0, "the DIR listing does not match its digest"};
    result.listing = std::move(listing);
    return {};
}

class SequentialClient {
  public:
    SequentialClient(FerryRunState& state, std::size_t client)
        : s_(state), c_(client), plan_(state.work.clients[client]) {}

    void run() {
        for (std::size_t i = 0; i < s_.ops[c_].size(); ++i)
            step(i);
        drop();
    }

  private:
    void step(std::size_t i);
    OpEnd perform(const FerryOp& op, FerryOpResult& result);
    OpEnd put(const FerryOp& op);
    OpEnd probe_after_failed_upload(OpEnd end);
    OpEnd dishonest_put(const FerryOp& op, FerryOpResult& result);
    bool send_dishonest_put(const FerryOp& op);
    OpEnd raw(const FerryOp& op);

    /// The connection's one FerryClient: its reader may hold bytes the
    /// server sent unasked (an ERR 408 before it closes), which a fresh
    /// reader would lose.
    FerryClient& client() {
        Connection& conn = connection();
        if (!client_)
            client_ = std::make_unique<FerryClient>(conn, s_.settings.chunk_bytes);
        return *client_;
    }
    /// The fallback of a streamed put: a FerryClient on a fresh connection.
    FerryClient& reconnect() {
        drop();
        if (auto error = ensure_connection())
            throw std::move(*error);
        return client();
    }
    /// Connects unless connected; why not, when it cannot.
    std::optional<ConnectionError> ensure_connection() {
        if (conn_)
            return std::nullopt;
        const auto timeout =
            std::chrono::milliseconds(harness::count_param(plan_.options, "timeout_ms", 30'000));
        auto result = s_.world.try_connect(ferry_server_address, timeout);
        if (auto* error = std::get_if<ConnectionError>(&result))
            return std::move(*error);
        conn_ = std::move(std::get<std::unique_ptr<Connection>>(result));
        conn_->set_timeout(timeout);
        return std::nullopt;
    }
    /// The connection, which ensure_connection() made.
    Connection& connection() { return *conn_; }
    void drop() {
        client_.reset();
        if (!conn_)
            return;
        try {
            conn_->close();
        } catch (const ConnectionError&) {
        }
        conn_.reset();
    }

    FerryRunState& s_;
    std::size_t c_;
    const harness::ClientPlan& plan_;
    std::unique_ptr<Connection> conn_;
    std::unique_ptr<FerryClient> client_;
};

void SequentialClient::step(std::size_t i) {
    const FerryOp& op = s_.ops[c_][i];
    FerryOpResult& result = s_.results[c_][i];
    if (op.pause_ms)
        s_.world.sleep(std::chrono::milliseconds(*op.pause_ms));
    if (op.own_connection())
        drop();  // a request that reads replies itself: on a connection of its own
    result.record = s_.history.invoke(c_, i, plan_.ops[i], s_.world.clock().now());
    OpEnd end;
    try {
        if (auto error = ensure_connection())
            end = with_expectation(op, harness::end_for(*error));
        else
            end = with_expectation(
                op, closed_after_closing_error(connection(), op, perform(op, result)));
    } catch (const std::invalid_argument& e) {
        end = {OpStatus::protocol_error, 0, e.what()};
    } catch (...) {
        end = with_expectation(op, harness::end_for_current_exception());
    }
    if (!connection_kept(op, end))
        drop();
    s_.history.complete(*result.record, s_.world.clock().now(), end.status, end.code,
                        std::move(end.detail));
}

OpEnd SequentialClient::perform(const FerryOp& op, FerryOpResult& result) {
    Connection& conn = connection();
    switch (op.verb) {
        case FerryOp::Verb::put:
            return op.dishonest() ? dishonest_put(op, result) : put(op);
        case FerryOp::Verb::get: {
            if (op.trickle_ms) {
                try {
                    send_request_line(s_.world, conn, op);
                } catch (const ConnectionError& e) {
                    if (e.kind() != ErrorKind::reset)
                        throw;  // else its reply may be waiting behind the reset
                }
                return raw(op);
            }
            if (op.unchecked) {
                send_all(conn, op.request_line());
                BufferedReader reader(conn);
                return read_get_reply(reader, false, result);
            }
            CompactSink sink;
            GetOutcome outcome = client().try_get(op.name, sink);
            if (const auto* refusal = std::get_if<Refusal>(&outcome))
                return {OpStatus::refused, refusal->code, refusal->line};
            result.got = std::move(sink.bytes);
            return {};
        }
        case FerryOp::Verb::dir: {
            if (op.unchecked) {
                send_all(conn, op.request_line());
                BufferedReader reader(conn);
                return read_dir_reply(reader, false, result);
            }
            result.listing = client().dir();
            return {};
        }
        case FerryOp::Verb::raw:
            send_all(conn, op.request_line());
            return raw(op);
    }
    return {};
}

OpEnd SequentialClient::put(const FerryOp& op) {
    const sim::CompactBytesReader file(op.content);
    PutOutcome outcome = op.streamed ? put_file(client(), op.name, file,
                                                [this]() -> FerryClient& { return reconnect(); })
                                     : client().try_put(op.name, file);
    if (const auto* refusal = std::get_if<Refusal>(&outcome)) {
        OpEnd end{OpStatus::refused, refusal->code, refusal->line};
        if (refusal->code == 500 || refusal->code == 507)
            return probe_after_failed_upload(std::move(end));
        return end;
    }
    return {};
}

/// After a 500 or 507 to an upload the server closes the connection if the
/// body was still arriving, and keeps it if only the commit failed
/// (docs/protocol.md). Either way what the client sent after the failure
/// must never be read as requests: that is request smuggling, the rest of
/// a body (which anyone may fill with request lines) served as requests. A
/// DIR on the same connection tells: the end of the stream, a reset, or the
/// DIR's own reply are right; an ERR 400 is the server parsing the rest of
/// the body, or a DIR damaged in flight: reported as corrupted, the one
/// status only corruption excuses.
OpEnd SequentialClient::probe_after_failed_upload(OpEnd end) {
    try {
        (void)client().dir();
    } catch (const RemoteError& e) {
        if (e.code() == 400) {
            return {OpStatus::corrupted, 0,
                    fmt::format("after {:?} the server read the rest of the upload as requests: "
                                "a DIR sent next got {:?}",
                                end.detail, e.line())};
        }
    } catch (const std::exception&) {
        // Closed, reset, or a listing damaged in flight: not what is probed.
    }
    return end;
}

/// Reads one reply line (a request whose reply the workload judges itself).
OpEnd SequentialClient::raw(const FerryOp& op) {
    const auto line = recv_line(connection(), header_line_bytes_max);
    if (!line)
        return {OpStatus::cut, 0, "the server closed without a reply"};
    return end_for_reply(*line, op.verb != FerryOp::Verb::raw);
}

/// Sends what a dishonest PUT sends. Like FerryClient::put, a reset while
/// sending is answered by reading the reply the server may have sent before
/// it (an ERR 503, 403 or 413 refuses a request before reading it): false.
bool SequentialClient::send_dishonest_put(const FerryOp& op) {
    Connection& conn = connection();
    try {
        send_request_line(s_.world, conn, op);
        if (op.streamed)
            send_all(conn, op.stream_body());
        else
            send_all(conn, op.content.prefix(op.cut.value_or(op.content.size())).to_string());
        if (op.cut)
            return true;
        if (!op.junk.empty())
            send_all(conn, op.junk + "\n");
        if (!op.streamed && op.declared_size() > op.content.size())
            conn.shutdown_send();  // and wait: the server must not keep a short body
    } catch (const ConnectionError& e) {
        if (e.kind() != ErrorKind::reset)
            throw;
        return false;
    }
    return true;
}

OpEnd SequentialClient::dishonest_put(const FerryOp& op, FerryOpResult& result) {
    if (!send_dishonest_put(op))
        return raw(op);
    if (op.cut)
        return {OpStatus::ok, 0, fmt::format("abandoned after {} bytes of the body", *op.cut)};
    OpEnd end = raw(op);
    if (end.status == OpStatus::ok && !op.flip_digest && !op.declare)
        end = checked_ack(end, op);
    if (end.status == OpStatus::ok && !op.junk.empty()) {
        // The junk line went unchecked: so does its answer.
        const auto line = recv_line(connection(), header_line_bytes_max);
        const OpEnd junk = line ? end_for_reply(*line, false) : OpEnd{OpStatus::cut, 0, ""};
        result.junk_reply = std::pair{junk.status, junk.code};
    }
    return end;
}

}  // namespace

}  // namespace ferry::workloads

namespace ferry::workloads {

namespace {

/// A pipelining client: its writer sends every request without waiting, its
/// reader reads the replies in order, on one connection; the last of the two
/// to finish closes it.
class PipelinedClient : public std::enable_shared_from_this<PipelinedClient> {
  public:
    PipelinedClient(FerryRunState& state, std::size_t client)
        : s_(state), c_(client), plan_(state.work.clients[client]) {}

    /// Connects, starts the reader, and writes.
    void run_writer();

  private:
    void write(std::size_t i);
    void run_reader();
    OpEnd read_reply(const FerryOp& op, FerryOpResult& result);
    OpEnd after_failed_upload(OpEnd end);
    /// After op i failed: the requests sent after it are unanswered.
    void abandon_after(std::size_t i);
    void finish() {
        if (--unfinished_ == 0 && conn_)
            conn_->close();
    }

    FerryRunState& s_;
    std::size_t c_;
    const harness::ClientPlan& plan_;
    std::unique_ptr<Connection> conn_;
    std::unique_ptr<BufferedReader> reader_;
    std::vector<std::atomic<bool>> sent_ = std::vector<std::atomic<bool>>(s_.ops[c_].size());
    std::atomic<bool> failed_{false};
    std::atomic<int> unfinished_{2};
};

void PipelinedClient::run_writer() {
    const auto timeout =
        std::chrono::milliseconds(harness::count_param(plan_.options, "timeout_ms", 30'000));
    const std::size_t first = s_.history.invoke(c_, 0, plan_.ops[0], s_.world.clock().now());
    s_.results[c_][0].record = first;
    try {
        conn_ = s_.world.connect(ferry_server_address, timeout);
    } catch (...) {
        OpEnd end = harness::end_for_current_exception();
        s_.history.complete(first, s_.world.clock().now(), end.status, 0, std::move(end.detail));
        return;
    }
    conn_->set_timeout(timeout);
    reader_ = std::make_unique<BufferedReader>(*conn_);
    s_.world.spawn_client(fmt::format("client {} reader", c_ + 1),
                          [self = shared_from_this()] { self->run_reader(); });
    try {
        for (std::size_t i = 0; i < s_.ops[c_].size() && !failed_; ++i)
            write(i);
        conn_->shutdown_send();
    } catch (const ConnectionError&) {
        // The reader sees what became of the connection.
    }
    finish();
}

void PipelinedClient::write(std::size_t i) {
    const FerryOp& op = s_.ops[c_][i];
    if (i != 0) {
        s_.results[c_][i].record = s_.history.invoke(c_, i, plan_.ops[i], s_.world.clock().now());
    }
    sent_[i] = true;
    send_all(*conn_, op.request_line());
    if (op.verb == FerryOp::Verb::put)
        send_all(*conn_, op.streamed ? op.stream_body() : op.content.to_string());
}

void PipelinedClient::run_reader() {
    for (std::size_t i = 0; i < s_.ops[c_].size(); ++i) {
        // In order: the reply to request i comes after request i was sent.
        const FerryOp& op = s_.ops[c_][i];
        FerryOpResult& result = s_.results[c_][i];
        OpEnd end;
        try {
            end = with_expectation(op, read_reply(op, result));
        } catch (...) {
            end = with_expectation(op, harness::end_for_current_exception());
        }
        if (!sent_[i] || !result.record)
            break;  // the writer stopped before it
        if (op.verb == FerryOp::Verb::put && end.status == OpStatus::refused &&
            (end.code == 500 || end.code == 507))
            end = after_failed_upload(std::move(end));
        s_.history.complete(*result.record, s_.world.clock().now(), end.status, end.code,
                            std::move(end.detail));
        if (!connection_kept(op, end)) {
            abandon_after(i);
            break;
        }
    }
    finish();
}

/// After a 500 or 507 to an upload (SequentialClient::probe_after_failed_upload)
/// the next thing on the connection is the end of the stream, a reset, or
/// the reply to the next request, which this client wrote honestly. An ERR
/// 400 is the rest of the upload's body read as requests (or a request
/// damaged in flight): reported as corrupted, which only corruption
/// excuses. An old server's 400 to a pipelined PUTS is no sign: not probed.
OpEnd PipelinedClient::after_failed_upload(OpEnd end) {
    if (s_.settings.old_server)
        return end;
    try {
        const auto line = reader_->recv_line(header_line_bytes_max);
        const auto reply = line ? parse_reply(*line) : std::nullopt;
        const auto* err = reply ? std::get_if<ErrReply>(&*reply) : nullptr;
        if (err && err->code == 400) {
            return {OpStatus::corrupted, 0,
                    fmt::format("after {:?} the server read the rest of the upload as requests: "
                                "the next reply was {:?}",
                                end.detail, *line)};
        }
    } catch (const std::exception&) {
        // Closed or reset, with or without part of a line before: as it
        // should after a failure mid-body.
    }
    return end;
}

void PipelinedClient::abandon_after(std::size_t i) {
    failed_ = true;
    for (std::size_t j = i + 1; j < s_.ops[c_].size(); ++j) {
        FerryOpResult& later = s_.results[c_][j];
        if (!sent_[j] || !later.record)
            break;
        later.after_error = true;
        s_.history.complete(*later.record, s_.world.clock().now(), OpStatus::cut, 0,
                            "unanswered: an earlier request on this pipelined connection failed");
    }
}

OpEnd PipelinedClient::read_reply(const FerryOp& op, FerryOpResult& result) {
    switch (op.verb) {
        case FerryOp::Verb::get:
            return read_get_reply(*reader_, !op.unchecked, result);
        case FerryOp::Verb::dir:
            return read_dir_reply(*reader_, !op.unchecked, result);
        case FerryOp::Verb::put:
        case FerryOp::Verb::raw: {
            const auto line = reader_->recv_line(header_line_bytes_max);
            if (!line)
                return {OpStatus::cut, 0, "the server closed without a reply"};
            const OpEnd end = end_for_reply(*line, op.verb != FerryOp::Verb::raw);
            return end.status == OpStatus::ok && op.verb == FerryOp::Verb::put
                       ? checked_ack(end, op)
                       : end;
        }
    }
    return {};
}

}  // namespace

void spawn_ferry_client(FerryRunState& state, std::size_t client) {
    const harness::ClientPlan& plan = state.work.clients[client];
    if (plan.ops.empty())
        return;
    const std::string name = fmt::format("client {}", client + 1);
    if (harness::flag_param(plan.options, "pipeline")) {
        auto pipelined = std::make_shared<PipelinedClient>(state, client);
        state.world.spawn_client(name, [pipelined] { pipelined->run_writer(); });
        return;
    }
    state.world.spawn_client(name, [&state, client] { SequentialClient(state, client).run(); });
}

}  // namespace ferry::workloads
