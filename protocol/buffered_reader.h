#pragma once
// BufferedReader: the reading side of a Connection through a small buffer,
// so a header line costs one recv() per segment that carries it instead of
// one per byte. Bytes that arrive after a line stay in the buffer and are the
// first the next read returns, so one reader must serve every read of its
// connection (a request line, then the body behind it, then the next line).

#include <array>
#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "ferry/protocol/call_site.h"
#include "ferry/protocol/connection.h"

namespace ferry {

class BufferedReader {
  public:
    explicit BufferedReader(Connection& conn) : conn_(conn) {}
    BufferedReader(const BufferedReader&) = delete;
    BufferedReader& operator=(const BufferedReader&) = delete;

    /// Like Connection::recv: buffered bytes first (possibly fewer than
    /// asked), otherwise one recv() of the connection straight into buffer.
    /// Like Connection's, every call's where is its caller's place in its
    /// source, for deadlock reports: leave it defaulted.
    std::size_t recv(std::span<std::byte> buffer, CallSite where = CallSite::current());

    /// Blocks until at least one byte is buffered; false at end of stream.
    bool fill(CallSite where = CallSite::current());

    /// One line ending in '\n', without it. None when the stream ends before
    /// the first byte; ProtocolError when it ends mid-line or the line (with
    /// its '\n') is longer than max_bytes, or than capacity_bytes whatever
    /// max_bytes says.
    std::optional<std::string> recv_line(std::size_t max_bytes,
                                         CallSite where = CallSite::current());
    /// The same into line, reusing its memory; false (line empty) when the
    /// stream ends before the first byte.
    bool recv_line_into(std::string& line, std::size_t max_bytes,
                        CallSite where = CallSite::current());

    std::size_t buffered_bytes() const { return end_ - begin_; }

    /// Room for one whole header line (ferry_wire.h's 1 KiB) and then some:
    /// a DIR listing arrives a few lines per recv().
    static constexpr std::size_t capacity_bytes = 4096;

  private:
    /// One recv() into the free end of the buffer; 0 at end of stream.
    std::size_t recv_more(CallSite where);

    Connection& conn_;
    std::size_t begin_ = 0;  ///< first unread byte in bytes_
    std::size_t end_ = 0;    ///< one past the last
    std::array<std::byte, capacity_bytes> bytes_;
};

}  // namespace ferry
