#pragma once
// FileReaders over bytes already in memory: the one copy-at-offset routine
// that the in-memory stores, the simulator's payloads and the harness share.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <span>
#include <vector>

#include "ferry/protocol/store.h"

namespace ferry {

/// Copies up to to.size() bytes of from, starting at offset, into to;
/// returns how many (0 at or past the end).
inline std::size_t copy_at(std::span<const std::byte> from, std::uint64_t offset,
                           std::span<std::byte> to) {
    if (offset >= from.size())
        return 0;
    const std::size_t n = std::min<std::uint64_t>(to.size(), from.size() - offset);
    std::memcpy(to.data(), from.data() + offset, n);
    return n;
}

/// The piece of from at offset, at most max_bytes (empty at or past the end).
inline std::span<const std::byte> view_of(std::span<const std::byte> from, std::uint64_t offset,
                                          std::size_t max_bytes) {
    if (offset >= from.size())
        return {};
    return from.subspan(offset, std::min<std::uint64_t>(max_bytes, from.size() - offset));
}

/// Reads bytes the caller keeps alive for as long as the reader is used.
class SpanReader : public FileReader {
  public:
    explicit SpanReader(std::span<const std::byte> bytes) : bytes_(bytes) {}
    std::uint64_t size_bytes() const override { return bytes_.size(); }
    std::size_t read_at(std::uint64_t offset, std::span<std::byte> buffer) const override {
        return copy_at(bytes_, offset, buffer);
    }
    std::span<const std::byte> view_at(std::uint64_t offset, std::size_t max_bytes) const override {
        return view_of(bytes_, offset, max_bytes);
    }

  private:
    std::span<const std::byte> bytes_;
};

/// Reads bytes it shares the ownership of, so they outlive every reader.
class SharedBytesReader : public FileReader {
  public:
    explicit SharedBytesReader(std::shared_ptr<const std::vector<std::byte>> bytes)
        : bytes_(std::move(bytes)) {}
    std::uint64_t size_bytes() const override { return bytes_->size(); }
    std::size_t read_at(std::uint64_t offset, std::span<std::byte> buffer) const override {
        return copy_at(*bytes_, offset, buffer);
    }
    std::span<const std::byte> view_at(std::uint64_t offset, std::size_t max_bytes) const override {
        return view_of(*bytes_, offset, max_bytes);
    }

  private:
    std::shared_ptr<const std::vector<std::byte>> bytes_;
};

}  // namespace ferry
