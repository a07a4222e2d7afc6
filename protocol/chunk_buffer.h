#pragma once
// A transfer's buffer of up to one chunk. It is allocated on first use and
// only as large as asked for (a 2 KiB PUT to a server with 64 KiB chunks
// takes 2 KiB), and left uninitialised: protocol code always fills bytes
// before it reads them, and zeroing 64 KiB per transfer is a sixth of a small
// simulated PUT.

#include <algorithm>
#include <cstddef>
#include <memory>
#include <span>

#include "ferry/protocol/store.h"

namespace ferry {

class ChunkBuffer {
  public:
    /// A chunk of at least one byte, so a recv into it is never a request
    /// for nothing.
    explicit ChunkBuffer(std::size_t chunk_bytes) : size_(std::max<std::size_t>(chunk_bytes, 1)) {}

    /// The chunk size: the most that a span from this buffer holds.
    std::size_t size() const { return size_; }

    /// The first min(bytes, size()) bytes, at least one. Growing the buffer
    /// invalidates spans handed out before.
    std::span<std::byte> first(std::size_t bytes) {
        const std::size_t n = std::clamp<std::size_t>(bytes, 1, size_);
        if (n > allocated_bytes_) {
            data_ = std::make_unique_for_overwrite<std::byte[]>(n);
            allocated_bytes_ = n;
        }
        return {data_.get(), n};
    }
    std::span<std::byte> all() { return first(size_); }

  private:
    std::size_t size_;
    std::size_t allocated_bytes_ = 0;
    std::unique_ptr<std::byte[]> data_;
};

/// The piece of file at offset, at most max_bytes (and at most a chunk): in
/// place when the reader can view it, else read into buffer. Empty only at
/// the end of the file.
inline std::span<const std::byte> read_piece(const FileReader& file, std::uint64_t offset,
                                             std::uint64_t max_bytes, ChunkBuffer& buffer) {
    const std::size_t want = std::min<std::uint64_t>(max_bytes, buffer.size());
    const std::span<const std::byte> view = file.view_at(offset, want);
    if (!view.empty())
        return view;
    const std::span<std::byte> space = buffer.first(want);
    return space.first(file.read_at(offset, space));
}

}  // namespace ferry
