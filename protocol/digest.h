#pragma once
// XXH3-128 digests, written as 32 lowercase hex digits (the canonical,
// big-endian form), computed incrementally as bytes stream past.

#include <array>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>

namespace ferry {

inline constexpr std::size_t digest_hex_digits = 32;

class Digest {
  public:
    Digest();
    Digest(const Digest&) noexcept;
    Digest& operator=(const Digest&) noexcept;

    void update(std::span<const std::byte> bytes);
    /// The digest of everything updated so far, as 32 lowercase hex digits.
    std::string hex() const;
    /// The same in place: trivially destructible, so a frame holding one has
    /// nothing to clean up when an exception passes through it.
    struct Hex {
        std::array<char, digest_hex_digits> digits;
        std::string_view view() const { return {digits.data(), digits.size()}; }
    };
    Hex hex_digits() const;

  private:
    /// xxHash's XXH3_state_t, held in place (no allocation per transfer);
    /// digest.cpp checks that it fits.
    static constexpr std::size_t state_bytes = 576;
    alignas(64) std::byte state_[state_bytes];
};

std::string digest_hex(std::span<const std::byte> bytes);

/// 32 lowercase hex digits.
bool is_valid_digest_hex(std::string_view text);

inline constexpr std::size_t line_check_hex_digits = 8;
/// A header line's check (ferry_wire.h): the low 32 bits of the line's
/// XXH3-64 hash, as 8 lowercase hex digits.
std::string line_check_hex(std::string_view line);

}  // namespace ferry
