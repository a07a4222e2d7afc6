#pragma once
// A transfer's buffer of one chunk, left uninitialised: protocol code always
// fills bytes before it reads them, and zeroing 64 KiB per transfer is a
// sixth of a small simulated PUT.

#include <algorithm>
#include <cstddef>
#include <memory>
#include <span>

namespace ferry {

class ChunkBuffer {
  public:
    /// At least one byte, so a recv into it is never a request for nothing.
    explicit ChunkBuffer(std::size_t bytes)
        : size_(std::max<std::size_t>(bytes, 1)),
          data_(std::make_unique_for_overwrite<std::byte[]>(size_)) {}

    std::byte* data() { return data_.get(); }
    std::size_t size() const { return size_; }
    std::span<std::byte> first(std::size_t bytes) { return {data_.get(), std::min(bytes, size_)}; }
    std::span<std::byte> all() { return {data_.get(), size_}; }

  private:
    std::size_t size_;
    std::unique_ptr<std::byte[]> data_;
};

}  // namespace ferry
