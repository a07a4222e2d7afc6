#pragma once
// A FileReader over CompactBytes: a client uploads a generated payload of any
// size without its bytes ever being held whole.

#include "ferry/protocol/store.h"
#include "ferry/sim/compact_bytes.h"

namespace ferry::sim {

/// Reads bytes the caller keeps alive for as long as the reader is used.
class CompactBytesReader : public FileReader {
  public:
    explicit CompactBytesReader(const CompactBytes& bytes) : bytes_(bytes) {}
    std::uint64_t size_bytes() const override { return bytes_.size(); }
    std::size_t read_at(std::uint64_t offset, std::span<std::byte> buffer) const override {
        return bytes_.read(offset, buffer);
    }

  private:
    const CompactBytes& bytes_;
};

}  // namespace ferry::sim
