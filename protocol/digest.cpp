#include "ferry/protocol/digest.h"

#include <array>
#include <stdexcept>

// libxxhash's own functions; on x86-64 the bulk ones are replaced by its
// runtime dispatch: AVX2 where the CPU has it, SSE2 otherwise; XXH3 gives the
// same hash with either. xxh_x86dispatch.h includes xxhash.h, then renames.
#define XXH_STATIC_LINKING_ONLY
#if defined(__x86_64__)
#include <xxh_x86dispatch.h>
#else
#include <xxhash.h>
#endif

namespace ferry {

namespace {

XXH3_state_t* state_of(std::byte* storage) {
    return reinterpret_cast<XXH3_state_t*>(storage);
}
const XXH3_state_t* state_of(const std::byte* storage) {
    return reinterpret_cast<const XXH3_state_t*>(storage);
}

}  // namespace

Digest::Digest() {
    static_assert(sizeof(XXH3_state_t) <= state_bytes && alignof(XXH3_state_t) <= 64,
                  "Digest::state_ must hold an XXH3_state_t");
    if (XXH3_128bits_reset(state_of(state_)) != XXH_OK)
        throw std::runtime_error("XXH3 reset failed");
}

Digest::Digest(const Digest& other) noexcept {
    XXH3_copyState(state_of(state_), state_of(other.state_));
}

Digest& Digest::operator=(const Digest& other) noexcept {
    XXH3_copyState(state_of(state_), state_of(other.state_));
    return *this;
}

void Digest::update(std::span<const std::byte> bytes) {
    XXH3_128bits_update(state_of(state_), bytes.data(), bytes.size());
}

namespace {
Digest::Hex to_hex_digits(XXH128_hash_t hash) {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, hash);
    static constexpr char digits[] = "0123456789abcdef";
    Digest::Hex hex;
    for (std::size_t i = 0; i < sizeof canonical.digest; ++i) {
        hex.digits[2 * i] = digits[canonical.digest[i] >> 4];
        hex.digits[2 * i + 1] = digits[canonical.digest[i] & 0xf];
    }
    return hex;
}

std::string to_hex(XXH128_hash_t hash) {
    return std::string(to_hex_digits(hash).view());
}

}  // namespace

Digest::Hex Digest::hex_digits() const {
    return to_hex_digits(XXH3_128bits_digest(state_of(state_)));
}

std::string Digest::hex() const {
    return to_hex(XXH3_128bits_digest(state_of(state_)));
}

std::string digest_hex(std::span<const std::byte> bytes) {
    return to_hex(XXH3_128bits(bytes.data(), bytes.size()));
}

namespace {

constexpr std::array<bool, 256> lowercase_hex_digits = [] {
    std::array<bool, 256> table{};
    for (char c = '0'; c <= '9'; ++c)
        table[static_cast<unsigned char>(c)] = true;
    for (char c = 'a'; c <= 'f'; ++c)
        table[static_cast<unsigned char>(c)] = true;
    return table;
}();

}  // namespace

std::string line_check_hex(std::string_view line) {
    const auto hash = static_cast<std::uint32_t>(XXH3_64bits(line.data(), line.size()));
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex(line_check_hex_digits, '0');
    for (std::size_t i = 0; i < hex.size(); ++i)
        hex[i] = digits[(hash >> (28 - 4 * i)) & 0xf];
    return hex;
}

bool is_valid_digest_hex(std::string_view text) {
    if (text.size() != digest_hex_digits)
        return false;
    // Every request and reply line is checked: a table and no early exit.
    bool valid = true;
    for (char c : text)
        valid &= lowercase_hex_digits[static_cast<unsigned char>(c)];
    return valid;
}

}  // namespace ferry
