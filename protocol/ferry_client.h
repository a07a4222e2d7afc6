#pragma once
// ferry/1 from the client side: PUT, GET and DIR over one Connection, which
// may carry several requests in turn.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "ferry/protocol/buffered_reader.h"
#include "ferry/protocol/chunk_buffer.h"
#include "ferry/protocol/connection.h"
#include "ferry/protocol/store.h"

namespace ferry {

/// The server answered "ERR <code> <message>".
class RemoteError : public std::runtime_error {
  public:
    RemoteError(int code, const std::string& line) : std::runtime_error(line), code_(code) {}
    int code() const { return code_; }
    /// "ERR <code> <message>", rebuilt from the parsed line, the message
    /// escaped (printable_text): safe to print.
    const char* line() const { return what(); }

  private:
    int code_;
};

/// The bytes received, or acknowledged, are not the bytes sent: a digest or a
/// size that does not match.
class CorruptedTransfer : public ProtocolError {
  public:
    using ProtocolError::ProtocolError;
};

/// Where GET writes the bytes it receives.
class ByteSink {
  public:
    virtual ~ByteSink() = default;
    virtual void write(std::span<const std::byte> bytes) = 0;
};

/// Called with the bytes moved so far and the total.
using ProgressFn = std::function<void(std::uint64_t done_bytes, std::uint64_t total_bytes)>;

/// Bytes read once, from the start, in order: what a streamed upload sends
/// (a file, or a pipe whose size is unknown until it ends).
class ByteSource {
  public:
    virtual ~ByteSource() = default;
    /// The next bytes, at most buffer.size() of them: in place, or read into
    /// buffer. Empty only at the end. Throws StoreError (io).
    virtual std::span<const std::byte> next(std::span<std::byte> buffer) = 0;
};

/// A FileReader read once from its start. A file that ends before the size
/// it had when opened is a StoreError (io), as for PUT.
class FileSource : public ByteSource {
  public:
    explicit FileSource(const FileReader& file) : file_(file), size_(file.size_bytes()) {}
    std::span<const std::byte> next(std::span<std::byte> buffer) override;

  private:
    const FileReader& file_;
    std::uint64_t size_;
    std::uint64_t offset_ = 0;
};

struct TransferResult {
    std::uint64_t size_bytes = 0;
    std::string digest;
};

/// The server's "ERR <code> <message>", as a value.
struct Refusal {
    int code = 0;
    /// "ERR <code> <message>", rebuilt from the parsed line, the message
    /// escaped (printable_text): safe to print.
    std::string line;
};

/// What try_put and try_get return: the transfer done, or the server's
/// refusal.
using PutOutcome = std::variant<TransferResult, Refusal>;
using GetOutcome = PutOutcome;

class FerryClient {
  public:
    explicit FerryClient(Connection& conn, std::size_t chunk_bytes = 64 * 1024)
        : conn_(conn), reader_(conn), chunk_bytes_(chunk_bytes) {}

    /// Names are sent as the server gets them, valid or not (the server is
    /// the judge, and tests need to send it bad names); but a name that is
    /// empty or holds a space, CR or LF cannot be one field of a request line,
    /// so put and get throw std::invalid_argument for it before sending.
    ///
    /// Uploads file as name. The digest is computed first (one read of the
    /// file) and sent in the header, so the server refuses to keep a corrupted
    /// upload. Throws RemoteError, ProtocolError, ConnectionError, and
    /// StoreError when the file shrinks while being sent.
    TransferResult put(std::string_view name, const FileReader& file,
                       const ProgressFn& progress = {});
    /// put, with the server's refusal returned instead of thrown as a
    /// RemoteError; other failures still throw. A refusal is one of the
    /// answers a PUT can get, and under the explorer's store faults a third of
    /// all runs get it: the throw would cost more than the rest of the run.
    [[nodiscard]] PutOutcome try_put(std::string_view name, const FileReader& file,
                                     const ProgressFn& progress = {});
    /// Uploads what source holds as name with PUTS, the streamed form: one
    /// read of the source, the digest in the trailer. total_bytes, when
    /// known, is for progress only. A server from before PUTS refuses it
    /// with ERR 400 and closes the connection (put_file falls back to PUT).
    /// Throws as try_put does.
    [[nodiscard]] PutOutcome try_put_streamed(std::string_view name, ByteSource& source,
                                              std::optional<std::uint64_t> total_bytes = {},
                                              const ProgressFn& progress = {});
    /// Downloads name into sink and checks the digest. Throws RemoteError,
    /// ProtocolError (including a digest mismatch), ConnectionError.
    TransferResult get(std::string_view name, ByteSink& sink, const ProgressFn& progress = {});
    /// get, with the server's refusal (404 above all) returned instead of
    /// thrown: an explorer's clients ask for missing files all the time.
    [[nodiscard]] GetOutcome try_get(std::string_view name, ByteSink& sink,
                                     const ProgressFn& progress = {});
    /// Lists the server's files, sorted by name.
    std::vector<FileInfo> dir();

  private:
    /// The next line, in line_; throws ProtocolError when the stream ends.
    const std::string& recv_reply_line();
    /// The reset that cut a put short, again (its message in reset_message_).
    ConnectionError reset_error() const;
    ProtocolError no_reply_error() const;
    static StoreError shrank_error(std::uint64_t offset);
    /// Sends the frames and trailer of a streamed upload; the bytes sent
    /// and their digest.
    std::pair<std::uint64_t, std::string> send_stream(ByteSource& source,
                                                      std::optional<std::uint64_t> total_bytes,
                                                      const ProgressFn& progress);
    /// The reply to an upload of size bytes with digest hex, once sent (or
    /// cut short by a reset, in reset_message_).
    PutOutcome put_reply(bool reset_while_sending, std::uint64_t size, std::string_view hex);

    Connection& conn_;
    /// Every read of conn_ goes through it. A reply is read to its end, and a
    /// server sends nothing it was not asked for, so nothing stays buffered
    /// between requests and several clients may use one connection in turn.
    BufferedReader reader_;
    std::size_t chunk_bytes_;
    // Scratch reused by every request: allocated once per connection.
    ChunkBuffer buffer_{chunk_bytes_};
    std::string line_;
    std::string reset_message_;
    /// A streamed upload's frame line and the frame's first bytes.
    std::string frame_head_;
    /// What of a frame goes with its line: what the server's line buffer
    /// takes with it.
    static constexpr std::size_t frame_head_bytes = 4096 - 32;
};

/// A FerryClient on a fresh connection to the same server.
using Reconnect = std::function<FerryClient&()>;

/// Uploads file as name streamed (PUTS: one read of the file) on client;
/// when the server answers ERR 400, as one from before PUTS does (and then
/// closes the connection), uploads it again with PUT, which reads it twice,
/// on the connection reconnect() opens. client is not used after
/// reconnect() is called. Throws as FerryClient::try_put does.
[[nodiscard]] PutOutcome put_file(FerryClient& client, std::string_view name,
                                  const FileReader& file, const Reconnect& reconnect,
                                  const ProgressFn& progress = {});

}  // namespace ferry
