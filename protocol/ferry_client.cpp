#include "ferry/protocol/ferry_client.h"

#include <algorithm>
#include <stdexcept>
#include <vector>

#include <fmt/core.h>

#include "ferry/protocol/chunk_buffer.h"
#include "ferry/protocol/digest.h"
#include "ferry/protocol/ferry_wire.h"
#include "ferry/protocol/printable.h"

namespace ferry {

// The reply line and the chunk buffer are members, reused by every request
// on the connection rather than allocated per call.

namespace {

/// The message is the server's text: escaped here, once, so no caller can
/// print a terminal escape a hostile server put in it.
Refusal refusal_for(const ErrReply& err) {
    return Refusal{err.code, fmt::format("ERR {} {}", err.code, printable_text(err.message))};
}

/// Built out of line and thrown by the caller, so the throwing frame holds no
/// temporaries for the unwinder to clean up.
[[gnu::noinline]] ProtocolError malformed_reply_error(const std::string& line,
                                                      const Connection& conn) {
    return ProtocolError(fmt::format("{} sent a malformed reply: {:?}", conn.peer_name(), line));
}

[[gnu::noinline]] CorruptedTransfer failed_check_error(const std::string& line,
                                                       const Connection& conn) {
    return CorruptedTransfer(
        fmt::format("{} sent a reply that fails its line check: {:?}", conn.peer_name(), line));
}

/// The reply in line, OK or ERR; throws CorruptedTransfer for a line that
/// fails its check and ProtocolError for anything else.
std::variant<OkReply, Refusal> ok_or_refusal(const std::string& line, const Connection& conn) {
    auto reply = parse_checked_reply(line);
    if (!reply) {
        if (parse_reply(line))
            throw failed_check_error(line, conn);
        std::string_view unchecked = line;
        if (strip_line_check(unchecked) == LineCheck::invalid)
            throw failed_check_error(line, conn);
        throw malformed_reply_error(line, conn);
    }
    if (const auto* err = std::get_if<ErrReply>(&*reply))
        return refusal_for(*err);
    return std::move(std::get<OkReply>(*reply));
}

/// The OK reply in line; throws RemoteError for an ERR line and ProtocolError
/// for anything else.
OkReply expect_ok(const std::string& line, const Connection& conn) {
    auto reply = ok_or_refusal(line, conn);
    if (auto* refusal = std::get_if<Refusal>(&reply))
        throw RemoteError(refusal->code, refusal->line);
    return std::move(std::get<OkReply>(reply));
}

}  // namespace

const std::string& FerryClient::recv_reply_line() {
    if (!reader_.recv_line_into(line_, header_line_bytes_max))
        throw no_reply_error();
    return line_;
}

ProtocolError FerryClient::no_reply_error() const {
    return ProtocolError(
        fmt::format("{} closed the connection without replying", conn_.peer_name()));
}

ConnectionError FerryClient::reset_error() const {
    return ConnectionError(ErrorKind::reset, reset_message_);
}

namespace {

/// A name that would break the request line (or smuggle in a second request).
void require_one_field(std::string_view name) {
    if (name.empty() || name.find_first_of(" \r\n") != std::string_view::npos) {
        throw std::invalid_argument(
            fmt::format("{:?} cannot be sent as a name: it is empty or holds a space or a line "
                        "break",
                        name));
    }
}

}  // namespace

TransferResult FerryClient::put(std::string_view name, const FileReader& file,
                                const ProgressFn& progress) {
    PutOutcome outcome = try_put(name, file, progress);
    if (auto* refusal = std::get_if<Refusal>(&outcome))
        throw RemoteError(refusal->code, refusal->line);
    return std::move(std::get<TransferResult>(outcome));
}

PutOutcome FerryClient::try_put(std::string_view name, const FileReader& file,
                                const ProgressFn& progress) {
    require_one_field(name);
    const std::uint64_t size = file.size_bytes();

    // In place when the file is in memory: no copy for the digest pass or
    // for sending.
    auto read_chunk = [&](std::uint64_t offset) {
        const std::span<const std::byte> piece = read_piece(file, offset, size - offset, buffer_);
        if (piece.empty())
            throw shrank_error(offset);
        return piece;
    };

    Digest digest;
    for (std::uint64_t offset = 0; offset < size;) {
        const auto chunk = read_chunk(offset);
        digest.update(chunk);
        offset += chunk.size();
    }
    const Digest::Hex hex = digest.hex_digits();
    const std::string request =
        format_request(PutRequest{std::string(name), size, std::string(hex.view())}, true);

    bool reset_while_sending = false;
    try {
        send_all(conn_, request);
        for (std::uint64_t offset = 0; offset < size;) {
            const auto chunk = read_chunk(offset);
            send_all(conn_, chunk);
            offset += chunk.size();
            if (progress)
                progress(offset, size);
        }
    } catch (const ConnectionError& e) {
        if (e.kind() != ErrorKind::reset)
            throw;
        reset_while_sending = true;
        reset_message_ = e.what();
    }
    return put_reply(reset_while_sending, size, hex.view());
}

PutOutcome FerryClient::put_reply(bool reset_while_sending, std::uint64_t size,
                                  std::string_view hex) {
    if (reset_while_sending) {
        // The server may have refused the upload (ERR 413, 403, 507) and
        // stopped reading; its ERR line may still be waiting for us, even
        // behind the reset. If not, this recv fails with the reset itself.
        if (!reader_.recv_line_into(line_, header_line_bytes_max))
            throw reset_error();
        auto reply = ok_or_refusal(line_, conn_);
        if (auto* refusal = std::get_if<Refusal>(&reply))
            return std::move(*refusal);
        throw reset_error();
    }

    auto reply = ok_or_refusal(recv_reply_line(), conn_);
    if (auto* refusal = std::get_if<Refusal>(&reply))
        return std::move(*refusal);
    const OkReply& ok = std::get<OkReply>(reply);
    if (ok.number != size || !ok.digest || *ok.digest != hex) {
        throw CorruptedTransfer(fmt::format(
            "{} acknowledged {} bytes with digest {}, but we sent {} bytes with digest {}",
            conn_.peer_name(), ok.number, ok.digest.value_or("(none)"), size, hex));
    }
    return TransferResult{size, std::string(hex)};
}

std::span<const std::byte> FileSource::next(std::span<std::byte> buffer) {
    if (offset_ == size_ || buffer.empty())
        return {};
    const std::size_t want = std::min<std::uint64_t>(buffer.size(), size_ - offset_);
    std::span<const std::byte> piece = file_.view_at(offset_, want);
    if (piece.empty())
        piece = buffer.first(file_.read_at(offset_, buffer.first(want)));
    if (piece.empty()) {
        throw StoreError(StoreErrorKind::io,
                         fmt::format("file shrank to {} bytes while being sent", offset_));
    }
    offset_ += piece.size();
    return piece;
}

PutOutcome FerryClient::try_put_streamed(std::string_view name, ByteSource& source,
                                         std::optional<std::uint64_t> total_bytes,
                                         const ProgressFn& progress) {
    require_one_field(name);
    std::pair<std::uint64_t, std::string> sent{0, {}};
    bool reset_while_sending = false;
    try {
        send_all(conn_, format_request(PutStreamRequest{std::string(name)}, true));
        sent = send_stream(source, total_bytes, progress);
    } catch (const ConnectionError& e) {
        if (e.kind() != ErrorKind::reset)
            throw;
        reset_while_sending = true;
        reset_message_ = e.what();
    }
    return put_reply(reset_while_sending, sent.first, sent.second);
}

std::pair<std::uint64_t, std::string> FerryClient::send_stream(
    ByteSource& source, std::optional<std::uint64_t> total_bytes, const ProgressFn& progress) {
    const std::size_t frame_max = std::min<std::uint64_t>(chunk_bytes_, stream_frame_bytes_max);
    Digest digest;
    std::uint64_t size = 0;
    while (true) {
        const std::span<const std::byte> piece = source.next(buffer_.first(frame_max));
        if (piece.empty())
            break;
        digest.update(piece);
        // The frame line leaves with the frame's first bytes: sent alone, it
        // would be a segment of its own (TCP_NODELAY) and wake the server
        // for a dozen bytes.
        const std::size_t head = std::min(piece.size(), frame_head_bytes);
        frame_head_ = format_stream_line(StreamFrame{piece.size()}, true);
        frame_head_.append(as_text(piece.first(head)));
        send_all(conn_, frame_head_);
        send_all(conn_, piece.subspan(head));
        size += piece.size();
        if (progress && total_bytes)
            progress(size, std::max(size, *total_bytes));
    }
    std::string hex(digest.hex_digits().view());
    send_all(conn_, format_stream_line(StreamEnd{size, hex}, true));
    return {size, std::move(hex)};
}

PutOutcome put_file(FerryClient& client, std::string_view name, const FileReader& file,
                    const Reconnect& reconnect, const ProgressFn& progress) {
    FileSource source(file);
    PutOutcome outcome = client.try_put_streamed(name, source, file.size_bytes(), progress);
    const auto* refusal = std::get_if<Refusal>(&outcome);
    if (refusal == nullptr || refusal->code != static_cast<int>(ErrCode::bad_request))
        return outcome;
    // A server from before PUTS: it closed the connection after its ERR.
    return reconnect().try_put(name, file, progress);
}

StoreError FerryClient::shrank_error(std::uint64_t offset) {
    return StoreError(StoreErrorKind::io,
                      fmt::format("file shrank to {} bytes while being sent", offset));
}

TransferResult FerryClient::get(std::string_view name, ByteSink& sink, const ProgressFn& progress) {
    GetOutcome outcome = try_get(name, sink, progress);
    if (auto* refusal = std::get_if<Refusal>(&outcome))
        throw RemoteError(refusal->code, refusal->line);
    return std::move(std::get<TransferResult>(outcome));
}

GetOutcome FerryClient::try_get(std::string_view name, ByteSink& sink, const ProgressFn& progress) {
    require_one_field(name);
    send_all(conn_, format_request(GetRequest{std::string(name)}, true));
    auto reply = ok_or_refusal(recv_reply_line(), conn_);
    if (auto* refusal = std::get_if<Refusal>(&reply))
        return std::move(*refusal);
    const OkReply& ok = std::get<OkReply>(reply);
    if (!ok.digest) {
        throw ProtocolError(fmt::format("{} answered GET without a digest", conn_.peer_name()));
    }

    Digest digest;
    std::uint64_t done = 0;
    while (done < ok.number) {
        const std::span<std::byte> space = buffer_.first(ok.number - done);
        const std::size_t got = reader_.recv(space);
        if (got == 0) {
            throw ProtocolError(fmt::format("{} ended the stream after {} of {} bytes of {}",
                                            conn_.peer_name(), done, ok.number, name));
        }
        const std::span<const std::byte> chunk = space.first(got);
        sink.write(chunk);
        digest.update(chunk);
        done += got;
        if (progress)
            progress(done, ok.number);
    }
    const std::string hex = digest.hex();
    if (hex != *ok.digest) {
        throw CorruptedTransfer(
            fmt::format("corrupted download of {}: digest {} but {} promised {}", name, hex,
                        conn_.peer_name(), *ok.digest));
    }
    return TransferResult{ok.number, hex};
}

std::vector<FileInfo> FerryClient::dir() {
    send_all(conn_, format_request(DirRequest{}, true));
    const OkReply ok = expect_ok(recv_reply_line(), conn_);
    if (!ok.digest)
        throw CorruptedTransfer(
            fmt::format("{} sent a DIR listing without its digest", conn_.peer_name()));
    std::vector<FileInfo> files;
    files.reserve(std::min<std::uint64_t>(ok.number, 100000));
    Digest digest;
    for (std::uint64_t i = 0; i < ok.number; ++i) {
        const std::string& line = recv_reply_line();
        digest.update(as_bytes(line));
        digest.update(as_bytes("\n"));
        const auto entry = parse_dir_line(line);
        if (!entry) {
            throw ProtocolError(
                fmt::format("{} sent a malformed DIR line: {:?}", conn_.peer_name(), line));
        }
        files.push_back(FileInfo{entry->name, entry->size_bytes});
    }
    if (digest.hex_digits().view() != *ok.digest) {
        throw CorruptedTransfer(
            fmt::format("{} sent a DIR listing that does not match its digest", conn_.peer_name()));
    }
    return files;
}

}  // namespace ferry
