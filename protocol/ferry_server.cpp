#include "ferry/protocol/ferry_server.h"

#include <algorithm>
#include <map>
#include <vector>

#include <fmt/core.h>

#include "ferry/protocol/buffered_reader.h"
#include "ferry/protocol/chunk_buffer.h"
#include "ferry/protocol/digest.h"
#include "ferry/protocol/ferry_wire.h"

namespace ferry {

namespace {

/// What the connection does after a request.
enum class Next { keep_going, close };

ErrCode err_code_for(StoreErrorKind kind) {
    switch (kind) {
        case StoreErrorKind::not_found:
            return ErrCode::not_found;
        case StoreErrorKind::name_not_allowed:
            return ErrCode::name_not_allowed;
        case StoreErrorKind::disk_full:
            return ErrCode::disk_full;
        case StoreErrorKind::io:
            return ErrCode::internal;
    }
    return ErrCode::internal;
}

class Session {
  public:
    Session(Connection& conn, Store& store, const FerryServerConfig& config)
        : conn_(conn), reader_(conn), store_(store), config_(config), buffer_(config.chunk_bytes) {}

    void run() {
        conn_.set_timeout(config_.idle_timeout);
        try {
            while (true) {
                const auto line = read_request_line();
                if (!line)
                    break;  // the client is done
                if (serve(*line) == Next::close) {
                    linger_close();
                    break;
                }
            }
        } catch (const ConnectionError& e) {
            if (e.kind() == ErrorKind::timed_out) {
                log("timed out: {}", e.what());
                reply_quietly(format_err(ErrCode::timed_out, "timed out", checked_));
            } else {
                log("connection ended: {}", e.what());
            }
        } catch (const StoreError& e) {
            log("store failed mid-reply: {}", e.what());
        } catch (const ProtocolError& e) {
            log("bad request: {}", e.what());
            reply_quietly(format_err(ErrCode::bad_request, e.what(), checked_));
            linger_close();
        }
        log_unlogged_errors();
        conn_.close();
    }

  private:
    template <typename... Args>
    void log(fmt::format_string<Args...> format, Args&&... args) {
        if (config_.log) {
            config_.log(fmt::format("{}: {}", conn_.peer_name(),
                                    fmt::format(format, std::forward<Args>(args)...)));
        }
    }

    /// Logs the first few errors of the connection one by one and counts the
    /// rest (a client may repeat a refused GET for ever): the log grows with
    /// connections, not with requests that fail.
    void log_error(ErrCode code, const std::string& line) {
        if (errors_logged_ < errors_logged_max) {
            ++errors_logged_;
            log("{}", line);
            return;
        }
        ++errors_unlogged_[static_cast<int>(code)];
    }

    /// One line for the errors log_error() only counted.
    void log_unlogged_errors() {
        if (errors_unlogged_.empty())
            return;
        std::string counts;
        std::uint64_t total = 0;
        for (const auto& [code, count] : errors_unlogged_) {
            counts += fmt::format("{}{} x ERR {}", counts.empty() ? "" : ", ", count, code);
            total += count;
        }
        log("{} more errors not logged one by one: {}", total, counts);
        errors_unlogged_.clear();
    }

    /// Tells config_.idle that the connection waits for a request from now
    /// until it goes out of scope.
    class IdleWhileWaiting {
      public:
        explicit IdleWhileWaiting(const FerryServerConfig& config) : config_(config) {
            if (config_.idle)
                config_.idle(true);
        }
        ~IdleWhileWaiting() {
            if (config_.idle)
                config_.idle(false);
        }
        IdleWhileWaiting(const IdleWhileWaiting&) = delete;
        IdleWhileWaiting& operator=(const IdleWhileWaiting&) = delete;

      private:
        const FerryServerConfig& config_;
    };

    /// The idle timeout covers the wait for a request's first byte; the header
    /// timeout then covers the rest of its line. The connection is idle
    /// (config_.idle) until the whole line is in.
    std::optional<std::string> read_request_line() {
        // Until a line says otherwise, replies are checked: a client that
        // checks its replies accepts no other, and a person ignores it.
        checked_ = true;
        conn_.set_deadline(std::nullopt);
        const IdleWhileWaiting idle(config_);
        if (!reader_.fill())
            return std::nullopt;
        conn_.set_deadline(conn_.clock().now() + config_.header_timeout);
        auto line = reader_.recv_line(header_line_bytes_max);
        conn_.set_deadline(std::nullopt);
        return line;
    }

    Next serve(const std::string& whole_line) {
        std::string_view line = whole_line;
        const LineCheck check = strip_line_check(line);
        if (check == LineCheck::invalid) {
            // Damaged in flight: what it asked, and whether a body follows,
            // is unknown. The client checks lines, so the refusal is checked:
            // it tells damage to the request from damage to the reply.
            checked_ = true;
            return refuse(ErrCode::bad_request, "header line check mismatch", Next::close);
        }
        checked_ = check == LineCheck::valid;
        if (config_.draining && config_.draining())
            return refuse(ErrCode::too_many_connections, "server shutting down", Next::close);
        auto parsed = parse_request(line, config_.streamed_put);
        if (auto* error = std::get_if<RequestError>(&parsed)) {
            // A refused PUT or PUTS may be followed by body bytes we cannot
            // skip; a malformed line (400) ends the connection too, so
            // garbage costs one reply and one log line, not one per line.
            const bool keep = error->code == ErrCode::name_not_allowed && line.starts_with("GET ");
            log_error(error->code, fmt::format("{:?} -> ERR {} {}", line,
                                               static_cast<int>(error->code), error->message));
            send_all(conn_, format_err(error->code, error->message, checked_));
            return keep ? Next::keep_going : Next::close;
        }
        auto& request = std::get<Request>(parsed);
        if (auto* put = std::get_if<PutRequest>(&request))
            return serve_put(*put);
        if (auto* get = std::get_if<GetRequest>(&request))
            return serve_get(*get);
        if (auto* streamed = std::get_if<PutStreamRequest>(&request))
            return serve_put_streamed(*streamed);
        return serve_dir();
    }

    Next refuse(ErrCode code, std::string_view message, Next next) {
        log_error(code, fmt::format("-> ERR {} {}", static_cast<int>(code), message));
        send_all(conn_, format_err(code, message, checked_));
        return next;
    }

    Next serve_put(const PutRequest& put) {
        if (config_.max_file_bytes != 0 && put.size_bytes > config_.max_file_bytes) {
            return refuse(ErrCode::too_large,
                          fmt::format("{} bytes is over the server's limit of {}", put.size_bytes,
                                      config_.max_file_bytes),
                          Next::close);
        }
        std::unique_ptr<Upload> upload;
        try {
            upload = store_.begin_upload(put.name);
        } catch (const StoreError& e) {
            return refuse(err_code_for(e.kind()), e.what(), Next::close);
        }

        Digest digest;
        std::uint64_t remaining = put.size_bytes;
        while (remaining > 0) {
            const std::span<std::byte> space = buffer_.first(remaining);
            const std::size_t got = reader_.recv(space);
            if (got == 0) {
                upload->abort();
                throw ConnectionError(ErrorKind::reset,
                                      fmt::format("PUT {} ended after {} of {} bytes", put.name,
                                                  put.size_bytes - remaining, put.size_bytes));
            }
            const std::span<const std::byte> chunk = space.first(got);
            if (const StoreStatus failed = upload->try_write(chunk)) {
                upload->abort();
                return refuse(err_code_for(failed->kind), failed->message, Next::close);
            }
            digest.update(chunk);
            remaining -= got;
        }

        return finish_upload(*upload, "PUT", put.name, put.size_bytes, digest, put.digest);
    }

    /// Once every byte of an upload is in: refuses it when the client's
    /// digest differs from the bytes' (422: the connection stays in step),
    /// else commits it and says OK.
    Next finish_upload(Upload& upload, std::string_view verb, const std::string& name,
                       std::uint64_t size, const Digest& digest,
                       const std::optional<std::string>& expected) {
        const Digest::Hex hex = digest.hex_digits();
        if (expected && *expected != hex.view()) {
            upload.abort();
            return refuse(ErrCode::digest_mismatch,
                          fmt::format("digest mismatch: received bytes hash to {}", hex.view()),
                          Next::keep_going);
        }
        upload.set_digest(hex.view());
        if (const StoreStatus failed = upload.try_commit())
            return refuse(err_code_for(failed->kind), failed->message, Next::keep_going);
        log("{} {} {} -> OK", verb, name, size);
        send_all(conn_, format_ok(size, hex.view(), checked_));
        return Next::keep_going;
    }

    /// A streamed upload: frames until the trailer, which must name the
    /// size and the digest of what arrived. Refused as PUT is, but 413 only
    /// once the bytes pass the limit, and 400 for a malformed frame line.
    Next serve_put_streamed(const PutStreamRequest& put) {
        std::unique_ptr<Upload> upload;
        try {
            upload = store_.begin_upload(put.name);
        } catch (const StoreError& e) {
            return refuse(err_code_for(e.kind()), e.what(), Next::close);
        }
        Digest digest;
        std::uint64_t total = 0;
        while (true) {
            auto parsed = read_stream_line(put.name, total);
            if (auto* error = std::get_if<RequestError>(&parsed)) {
                upload->abort();
                return refuse(error->code, error->message, Next::close);
            }
            const StreamLine& line = std::get<StreamLine>(parsed);
            if (const auto* end = std::get_if<StreamEnd>(&line)) {
                if (end->size_bytes != total) {
                    upload->abort();
                    return refuse(ErrCode::digest_mismatch,
                                  fmt::format("size mismatch: received {} bytes", total),
                                  Next::keep_going);
                }
                return finish_upload(*upload, "PUTS", put.name, total, digest, end->digest);
            }
            const std::uint64_t frame = std::get<StreamFrame>(line).size_bytes;
            if (config_.max_file_bytes != 0 && total + frame > config_.max_file_bytes) {
                upload->abort();
                return refuse(
                    ErrCode::too_large,
                    fmt::format("more than the server's limit of {} bytes", config_.max_file_bytes),
                    Next::close);
            }
            if (const StoreStatus failed = receive_into(*upload, digest, frame, put.name, total))
                return refuse(err_code_for(failed->kind), failed->message, Next::close);
            total += frame;
        }
    }

    /// The next frame or trailer line of a streamed upload; the stream
    /// ending before it is a reset, as a PUT body cut short is.
    std::variant<StreamLine, RequestError> read_stream_line(const std::string& name,
                                                            std::uint64_t total) {
        auto whole = reader_.recv_line(header_line_bytes_max);
        if (!whole) {
            throw ConnectionError(ErrorKind::reset,
                                  fmt::format("PUTS {} ended after {} bytes", name, total));
        }
        std::string_view line = *whole;
        if (strip_line_check(line) == LineCheck::invalid)
            return RequestError{ErrCode::bad_request, "frame line check mismatch"};
        return parse_stream_line(line);
    }

    /// Receives size bytes of a body into upload and digest; a store
    /// failure aborts the upload and is returned.
    StoreStatus receive_into(Upload& upload, Digest& digest, std::uint64_t size,
                             std::string_view name, std::uint64_t before) {
        for (std::uint64_t remaining = size; remaining > 0;) {
            const std::span<std::byte> space = buffer_.first(remaining);
            const std::size_t got = reader_.recv(space);
            if (got == 0) {
                upload.abort();
                throw ConnectionError(
                    ErrorKind::reset,
                    fmt::format("PUTS {} ended after {} bytes", name, before + size - remaining));
            }
            const std::span<const std::byte> chunk = space.first(got);
            if (StoreStatus failed = upload.try_write(chunk)) {
                upload.abort();
                return failed;
            }
            digest.update(chunk);
            remaining -= got;
        }
        return std::nullopt;
    }

    Next serve_get(const GetRequest& get) {
        auto opened = store_.try_open(get.name);
        if (const auto* failure = std::get_if<StoreFailure>(&opened))
            return refuse(err_code_for(failure->kind), failure->message, Next::keep_going);
        const std::unique_ptr<FileReader> reader =
            std::move(std::get<std::unique_ptr<FileReader>>(opened));
        const std::uint64_t size = reader->size_bytes();

        // The digest goes in the header, before the bytes: the one the store
        // keeps with the file, or else a first pass over it, kept for the
        // next GET. Either way memory stays O(chunk).
        std::optional<std::string> digest = reader->stored_digest();
        if (!digest) {
            try {
                digest = hash_file(*reader, size);
            } catch (const StoreError& e) {
                return refuse(err_code_for(e.kind()), e.what(), Next::keep_going);
            }
            reader->keep_digest(*digest);
        }
        send_all(conn_, format_ok(size, *digest, checked_));
        send_body(*reader, size);
        log("GET {} -> OK {}", get.name, size);
        return Next::keep_going;
    }

    /// The digest of the file's size bytes. Throws StoreError.
    std::string hash_file(const FileReader& reader, std::uint64_t size) {
        Digest digest;
        for (std::uint64_t offset = 0; offset < size;) {
            const auto chunk = read_chunk(reader, offset, size);
            digest.update(chunk);
            offset += chunk.size();
        }
        return std::string(digest.hex_digits().view());
    }

    /// The file's bytes after its OK line: straight from the file where the
    /// connection can (Connection::send_file), read and sent otherwise. A
    /// store failure now, after OK, can only end the connection.
    void send_body(const FileReader& reader, std::uint64_t size) {
        for (std::uint64_t offset = 0; offset < size;) {
            const auto sent = conn_.send_file(reader, offset, size - offset);
            if (sent && *sent > 0) {
                offset += *sent;
                continue;
            }
            const auto chunk = read_chunk(reader, offset, size);
            send_all(conn_, chunk);
            offset += chunk.size();
        }
    }

    /// The next chunk at offset, in place or read into buffer_; a file
    /// shorter than it said is an I/O error.
    std::span<const std::byte> read_chunk(const FileReader& reader, std::uint64_t offset,
                                          std::uint64_t size) {
        const std::span<const std::byte> piece = read_piece(reader, offset, size - offset, buffer_);
        if (piece.empty())
            throw StoreError(StoreErrorKind::io, "file shrank while being read");
        return piece;
    }

    Next serve_dir() {
        std::vector<FileInfo> files;
        try {
            files = store_.list();
        } catch (const StoreError& e) {
            return refuse(err_code_for(e.kind()), e.what(), Next::keep_going);
        }
        if (checked_)
            return serve_checked_dir(files);
        std::string text = format_ok(files.size(), std::nullopt);
        for (const auto& file : files) {
            text += fmt::format("{} {}\n", file.size_bytes, file.name);
            if (text.size() >= buffer_.size()) {
                send_all(conn_, text);
                text.clear();
            }
        }
        send_all(conn_, text);
        log("DIR -> OK {}", files.size());
        return Next::keep_going;
    }

    /// A checked DIR's OK line carries the digest of the listing after it.
    Next serve_checked_dir(const std::vector<FileInfo>& files) {
        std::string listing;
        for (const auto& file : files)
            listing += fmt::format("{} {}\n", file.size_bytes, file.name);
        const std::string digest = digest_hex(as_bytes(listing));
        send_all(conn_, format_ok(files.size(), digest, true));
        send_all(conn_, listing);
        log("DIR -> OK {}", files.size());
        return Next::keep_going;
    }

    void reply_quietly(const std::string& line) {
        try {
            conn_.set_deadline(conn_.clock().now() + config_.linger_timeout);
            send_all(conn_, line);
        } catch (const ConnectionError&) {
            // The client is gone or stuck; nothing more to tell it.
        }
    }

    /// Half-closes, then discards what the client still sends for a moment, so
    /// it reads our ERR line instead of a reset caused by unread data.
    void linger_close() {
        try {
            conn_.shutdown_send();
            conn_.set_deadline(conn_.clock().now() + config_.linger_timeout);
            std::uint64_t discarded = 0;
            while (discarded < linger_bytes_max) {
                const std::size_t got = reader_.recv(buffer_.first(linger_read_bytes));
                if (got == 0)
                    break;
                discarded += got;
            }
        } catch (const ConnectionError&) {
            // Reset or timed out: we are closing anyway.
        }
    }

    static constexpr std::uint64_t linger_bytes_max = 4 * 1024 * 1024;
    /// Errors of one connection logged one by one; the rest are counted.
    static constexpr std::uint64_t errors_logged_max = 10;
    /// What one read while lingering takes; the bytes are thrown away.
    static constexpr std::size_t linger_read_bytes = 16 * 1024;

    Connection& conn_;
    BufferedReader reader_;  ///< every read of conn_ goes through it
    Store& store_;
    const FerryServerConfig& config_;
    ChunkBuffer buffer_;
    /// The request being served came with a line check (or none is read
    /// yet): its replies carry one too.
    bool checked_ = true;
    std::uint64_t errors_logged_ = 0;
    /// Errors past errors_logged_max, by code (ordered: deterministic).
    std::map<int, std::uint64_t> errors_unlogged_;
};

}  // namespace

void serve_ferry_connection(Connection& conn, Store& store, const FerryServerConfig& config) {
    Session(conn, store, config).run();
}

void refuse_busy(Connection& conn, std::string_view why) {
    try {
        conn.set_deadline(conn.clock().now() + std::chrono::seconds(1));
        // Checked: a client that checks its replies cannot have asked yet,
        // and a person reading it ignores the check.
        send_all(conn, format_err(ErrCode::too_many_connections, why, true));
        conn.shutdown_send();
    } catch (const ConnectionError&) {
        // The client is gone; nothing to tell it.
    }
    conn.close();
}

}  // namespace ferry
