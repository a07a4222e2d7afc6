#include "ferry/sim/compact_bytes.h"

#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "ferry/protocol/digest.h"
#include "ferry/sim/decisions.h"

namespace ferry::sim {
namespace {

/// The stream of state as plain bytes, made word by word from the definition.
std::vector<std::byte> stream_bytes(std::uint64_t state, std::size_t size) {
    std::vector<std::byte> bytes(size);
    for (std::size_t i = 0; i < size; i += 8) {
        const std::uint64_t word = splitmix64_mix(state + (i / 8 + 1) * splitmix64_gamma);
        std::memcpy(bytes.data() + i, &word, std::min<std::size_t>(8, size - i));
    }
    return bytes;
}

/// Appends bytes in pieces of the sizes PRNG draws (1 byte up to 70 KiB).
CompactBytes appended_in_pieces(const std::vector<std::byte>& bytes, std::uint64_t seed) {
    PrngDecisions prng(seed);
    CompactBytes compact;
    for (std::size_t at = 0; at < bytes.size();) {
        const std::size_t n = std::min<std::size_t>(
            bytes.size() - at, prng.choose(10) < 3 ? prng.between(1, 20) : prng.between(1, 70'000));
        compact.append(std::span(bytes).subspan(at, n));
        at += n;
    }
    return compact;
}

TEST(CompactBytes, FillGeneratedMatchesTheStreamAtAnyOffset) {
    const std::vector<std::byte> whole = stream_bytes(77, 1000);
    for (std::size_t from : {0, 1, 7, 8, 9, 100, 993}) {
        for (std::size_t size : {0, 1, 5, 8, 17, 64}) {
            if (from + size > whole.size())
                continue;
            std::vector<std::byte> piece(size);
            fill_generated(77, from, piece);
            EXPECT_TRUE(std::equal(piece.begin(), piece.end(), whole.begin() + from))
                << "from " << from << " size " << size;
        }
    }
}

TEST(CompactBytes, TheFirstSixteenBytesNameTheirStream) {
    for (std::uint64_t state : {0ULL, 1ULL, 0xdeadbeefULL, ~0ULL}) {
        const std::vector<std::byte> bytes = stream_bytes(state, 16);
        EXPECT_EQ(generated_state_of(bytes), state);
    }
    std::vector<std::byte> other = stream_bytes(5, 16);
    other[12] ^= std::byte{1};
    EXPECT_EQ(generated_state_of(other), std::nullopt);
    EXPECT_EQ(generated_state_of(std::span(other).first(15)), std::nullopt);
}

TEST(CompactBytes, AStreamAppendedInAnyPiecesIsHeldAsTheStream) {
    const std::vector<std::byte> bytes = stream_bytes(1234, 3 * 1024 * 1024 + 5);
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
        const CompactBytes compact = appended_in_pieces(bytes, seed);
        EXPECT_EQ(compact.size(), bytes.size());
        EXPECT_EQ(compact.literal_bytes(), 0u) << "seed " << seed;
        EXPECT_EQ(compact.to_vector(), bytes) << "seed " << seed;
        EXPECT_EQ(compact, CompactBytes::generated(1234, bytes.size()));
    }
}

TEST(CompactBytes, BytesThatLeaveTheStreamAreKeptAsTheyAre) {
    std::vector<std::byte> bytes = stream_bytes(99, 200'000);
    bytes[70'000] ^= std::byte{0x40};                                   // one flipped byte
    std::memset(bytes.data() + 150'000, 0, 3000);                       // a hole of zeros
    std::memmove(bytes.data() + 190'000, bytes.data() + 190'001, 100);  // a shift
    for (std::uint64_t seed = 1; seed <= 5; ++seed) {
        const CompactBytes compact = appended_in_pieces(bytes, seed);
        EXPECT_EQ(compact.to_vector(), bytes) << "seed " << seed;
        EXPECT_LT(compact.literal_bytes(), 6000u) << "seed " << seed;
        EXPECT_FALSE(compact == CompactBytes::generated(99, bytes.size()));
        std::vector<std::byte> window(5000);
        ASSERT_EQ(compact.read(148'000, window), window.size());
        EXPECT_TRUE(std::equal(window.begin(), window.end(), bytes.begin() + 148'000));
    }
}

TEST(CompactBytes, LiteralBytesStayLiteral) {
    const std::string text = "a file of plain text, longer than sixteen bytes";
    const CompactBytes compact(text);
    EXPECT_EQ(compact.to_string(), text);
    EXPECT_EQ(compact.literal_bytes(), text.size());
    EXPECT_EQ(compact, CompactBytes(std::string_view(text)));
    EXPECT_FALSE(compact == CompactBytes(std::string_view(text).substr(1)));
}

TEST(CompactBytes, TruncateAndZerosKeepWhatReadReturns) {
    const std::vector<std::byte> bytes = stream_bytes(3, 100'000);
    CompactBytes compact(bytes);
    compact.truncate(60'001);
    compact.append_zeros(999);
    std::vector<std::byte> expected(bytes.begin(), bytes.begin() + 60'001);
    expected.resize(61'000, std::byte{0});
    EXPECT_EQ(compact.to_vector(), expected);
    EXPECT_EQ(compact.prefix(10).to_vector(),
              std::vector<std::byte>(bytes.begin(), bytes.begin() + 10));
    // Appending the stream again after the zeros goes on with it.
    compact.append(std::span(bytes).subspan(61'000, 1000));
    expected.insert(expected.end(), bytes.begin() + 61'000, bytes.begin() + 62'000);
    EXPECT_EQ(compact.to_vector(), expected);
    EXPECT_EQ(compact.literal_bytes(), 0u);
}

/// One random edit of compact and of plain alike: the stream where it goes
/// on, the stream or another at a wrong position, literal bytes, zeros or a
/// truncation.
void random_edit(PrngDecisions& prng, CompactBytes& compact, std::vector<std::byte>& plain) {
    const std::size_t n = prng.choose(3) == 0 ? prng.between(1, 20) : prng.between(1, 3000);
    std::vector<std::byte> bytes(n);
    switch (prng.choose(6)) {
        case 0:
        case 1:
            fill_generated(11, plain.size(), bytes);  // the stream, going on
            break;
        case 2:
            fill_generated(prng.choose(2) == 0 ? 11 : 12, prng.choose(5000), bytes);
            break;
        case 3:
            for (std::byte& b : bytes)
                b = static_cast<std::byte>(prng.choose(256));
            break;
        case 4:
            compact.append_zeros(n);
            plain.resize(plain.size() + n, std::byte{0});
            return;
        case 5: {
            const std::size_t size = prng.choose(plain.size() + 1);
            compact.truncate(size);
            plain.resize(size);
            return;
        }
    }
    compact.append(bytes);
    plain.insert(plain.end(), bytes.begin(), bytes.end());
}

TEST(CompactBytes, AnyEditsReadBackAsPlainBytesWould) {
    for (std::uint64_t seed = 1; seed <= 300; ++seed) {
        PrngDecisions prng(seed);
        CompactBytes compact;
        std::vector<std::byte> plain;
        for (int step = 0; step < 30; ++step) {
            random_edit(prng, compact, plain);
            ASSERT_EQ(compact.size(), plain.size()) << "seed " << seed << " step " << step;
        }
        ASSERT_EQ(compact.to_vector(), plain) << "seed " << seed;
        const std::uint64_t at = prng.choose(plain.size() + 1);
        std::vector<std::byte> window(prng.between(1, 5000));
        const std::size_t got = compact.read(at, window);
        ASSERT_EQ(got, std::min<std::size_t>(window.size(), plain.size() - at)) << "seed " << seed;
        ASSERT_TRUE(std::equal(window.begin(), window.begin() + static_cast<std::ptrdiff_t>(got),
                               plain.begin() + static_cast<std::ptrdiff_t>(at)))
            << "seed " << seed;
        // Equal to the same bytes however they are held, and to nothing else.
        ASSERT_EQ(compact, CompactBytes(plain)) << "seed " << seed;
        const CompactBytes stream = CompactBytes::generated(11, plain.size());
        ASSERT_EQ(compact == stream, plain == stream.to_vector()) << "seed " << seed;
    }
}

TEST(CompactBytes, AGigabyteOfStreamCostsNoMemory) {
    CompactBytes compact;
    std::vector<std::byte> piece(64 * 1024);
    for (std::uint64_t at = 0; at < 64ULL * 1024 * 1024; at += piece.size()) {
        fill_generated(42, at, piece);
        compact.append(piece);
    }
    EXPECT_EQ(compact.literal_bytes(), 0u);
    const CompactBytes gigabyte = CompactBytes::generated(42, 1ULL << 30);
    EXPECT_EQ(gigabyte.prefix(compact.size()), compact);
}

TEST(CompactBytes, ADigestIsOfTheBytesHeldWhetherOrNotItWasKnown) {
    // Large enough for digest_of to remember whole streams' digests.
    constexpr std::size_t size = 200 * 1024;
    const std::vector<std::byte> plain = stream_bytes(7, size);
    const std::string expected = digest_hex(plain);
    EXPECT_EQ(digest_of(CompactBytes::generated(7, size)), expected);
    EXPECT_EQ(digest_of(appended_in_pieces(plain, 1)), expected) << "the same bytes, held again";
    // The same stream, other lengths or another start: other digests.
    EXPECT_EQ(digest_of(CompactBytes::generated(7, size - 1)),
              digest_hex(std::span(plain).first(size - 1)));
    CompactBytes edited = CompactBytes::generated(7, size);
    edited.truncate(size - 8);
    edited.append_zeros(8);
    std::vector<std::byte> edited_plain = plain;
    std::fill(edited_plain.end() - 8, edited_plain.end(), std::byte{0});
    EXPECT_EQ(digest_of(edited), digest_hex(edited_plain));
    EXPECT_EQ(digest_of(CompactBytes::generated(8, size)), digest_hex(stream_bytes(8, size)));
    // Many streams through the cache, then the first again.
    for (std::uint64_t state = 100; state < 120; ++state)
        EXPECT_EQ(digest_of(CompactBytes::generated(state, size)),
                  digest_hex(stream_bytes(state, size)));
    EXPECT_EQ(digest_of(CompactBytes::generated(7, size)), expected);
}

}  // namespace
}  // namespace ferry::sim
