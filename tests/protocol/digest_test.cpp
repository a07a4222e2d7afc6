#include "ferry/protocol/digest.h"

#include <gtest/gtest.h>

#include "tests/protocol/fake_connection.h"

namespace ferry::testing {
namespace {

TEST(Digest, EmptyInputHasTheKnownXxh3Digest) {
    // XXH3-128 of no bytes, canonical (big-endian) form.
    EXPECT_EQ(digest_hex({}), "99aa06d3014798d86001c324468d497f");
}

// Digests travel on the wire between builds, so they must never change with
// how XXH3 is computed (inline, SSE2, AVX2): long inputs, which take the
// vector code, are pinned too (values from xxHash 0.8.1's inlined code).
TEST(Digest, LongInputsHaveTheirKnownXxh3Digests) {
    EXPECT_EQ(digest_hex(as_bytes(payload(100000))), "a65f66826f672fd37b7149d6bbd176c3");
    EXPECT_EQ(digest_hex(as_bytes(payload(2048))), "37136d64714529d21526ebdf469a5fb3");
    Digest digest;
    const std::string data = payload(4099);
    for (std::size_t i = 0; i < data.size(); i += 1000)
        digest.update(as_bytes(std::string_view(data).substr(i, 1000)));
    EXPECT_EQ(digest.hex(), "1bbbdb8db5896f7d0ff68cc78a7280a3");
}

TEST(Digest, IncrementalEqualsOneShot) {
    const std::string data = payload(100000);
    Digest digest;
    for (std::size_t i = 0; i < data.size(); i += 777) {
        digest.update(as_bytes(std::string_view(data).substr(i, 777)));
    }
    EXPECT_EQ(digest.hex(), digest_hex(as_bytes(data)));
}

TEST(Digest, IsThirtyTwoLowercaseHexDigits) {
    const std::string hex = digest_hex(as_bytes("hello"));
    EXPECT_TRUE(is_valid_digest_hex(hex)) << hex;
}

TEST(Digest, DifferentBytesDifferentDigests) {
    EXPECT_NE(digest_hex(as_bytes("a")), digest_hex(as_bytes("b")));
}

TEST(IsValidDigestHex, RefusesUppercaseAndWrongLength) {
    EXPECT_FALSE(is_valid_digest_hex(std::string(32, 'A')));
    EXPECT_FALSE(is_valid_digest_hex(std::string(31, 'a')));
    EXPECT_FALSE(is_valid_digest_hex(std::string(33, 'a')));
    EXPECT_FALSE(is_valid_digest_hex(std::string(31, 'a') + "g"));
    EXPECT_TRUE(is_valid_digest_hex(std::string(32, 'a')));
}

}  // namespace
}  // namespace ferry::testing
