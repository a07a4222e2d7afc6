#include "protocol/digest.h"

#include <gtest/gtest.h>

#include "tests/protocol/fake_connection.h"

namespace ferry::testing {
namespace {

TEST(Digest, EmptyInputHasTheKnownXxh3Digest) {
    // XXH3-128 of no bytes, canonical (big-endian) form.
    EXPECT_EQ(digest_hex({}), "99aa06d3014798d86001c324468d497f");
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
