#include "protocol/digest.h"

#include <stdexcept>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace ferry {

struct Digest::State {
    XXH3_state_t xxh;
};

Digest::Digest() : state_(std::make_unique<State>()) {
    if (XXH3_128bits_reset(&state_->xxh) != XXH_OK)
        throw std::runtime_error("XXH3 reset failed");
}
Digest::~Digest() = default;
Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;

void Digest::update(std::span<const std::byte> bytes) {
    XXH3_128bits_update(&state_->xxh, bytes.data(), bytes.size());
}

namespace {
std::string to_hex(XXH128_hash_t hash) {
    XXH128_canonical_t canonical;
    XXH128_canonicalFromHash(&canonical, hash);
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    hex.reserve(digest_hex_digits);
    for (unsigned char byte : canonical.digest) {
        hex.push_back(digits[byte >> 4]);
        hex.push_back(digits[byte & 0xf]);
    }
    return hex;
}
}  // namespace

std::string Digest::hex() const {
    return to_hex(XXH3_128bits_digest(&state_->xxh));
}

std::string digest_hex(std::span<const std::byte> bytes) {
    return to_hex(XXH3_128bits(bytes.data(), bytes.size()));
}

bool is_valid_digest_hex(std::string_view text) {
    if (text.size() != digest_hex_digits)
        return false;
    for (char c : text) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
            return false;
    }
    return true;
}

}  // namespace ferry
