#include "ferry/sim/decisions.h"

#include <gtest/gtest.h>

namespace ferry::sim {
namespace {

TEST(PrngDecisions, Splitmix64MatchesTheReferenceSequence) {
    std::uint64_t state = 0;
    EXPECT_EQ(splitmix64(state), 0xe220a8397b1dcdafULL);
    EXPECT_EQ(splitmix64(state), 0x6e789e6aa1b965f4ULL);
}

TEST(PrngDecisions, SameSeedGivesSameChoices) {
    PrngDecisions a(42);
    PrngDecisions b(42);
    for (int i = 0; i < 1000; ++i)
        EXPECT_EQ(a.choose(1000 + i), b.choose(1000 + i));
}

TEST(PrngDecisions, DifferentSeedsGiveDifferentChoices) {
    PrngDecisions a(1);
    PrngDecisions b(2);
    int same = 0;
    for (int i = 0; i < 100; ++i)
        same += a.choose(1'000'000) == b.choose(1'000'000) ? 1 : 0;
    EXPECT_LT(same, 3);
}

TEST(PrngDecisions, ChoicesStayInRange) {
    PrngDecisions prng(7);
    for (std::uint64_t n = 2; n < 300; ++n) {
        for (int i = 0; i < 20; ++i)
            EXPECT_LT(prng.choose(n), n);
    }
    EXPECT_EQ(prng.between(5, 5), 5u);
    for (int i = 0; i < 100; ++i) {
        const std::uint64_t value = prng.between(3, 9);
        EXPECT_GE(value, 3u);
        EXPECT_LE(value, 9u);
    }
}

TEST(PrngDecisions, ChanceFollowsTheRatio) {
    PrngDecisions prng(11);
    int hits = 0;
    for (int i = 0; i < 10000; ++i)
        hits += prng.chance(Ratio{1, 4}) ? 1 : 0;
    EXPECT_GT(hits, 2200);
    EXPECT_LT(hits, 2800);
}

TEST(DecisionSource, CertainChoicesDrawNothing) {
    PrngDecisions prng(3);
    std::vector<std::uint64_t> recorded;
    prng.record_into(&recorded);
    EXPECT_FALSE(prng.chance(never));
    EXPECT_TRUE(prng.chance(always));
    EXPECT_EQ(prng.choose(1), 0u);
    EXPECT_EQ(prng.between(4, 4), 4u);
    EXPECT_TRUE(recorded.empty());
    prng.choose(10);
    EXPECT_EQ(recorded.size(), 1u);
}

TEST(RecordedDecisions, ReplaysWhatAPrngChose) {
    PrngDecisions prng(99);
    std::vector<std::uint64_t> recorded;
    prng.record_into(&recorded);
    std::vector<std::uint64_t> original;
    for (std::uint64_t n = 2; n < 50; ++n)
        original.push_back(prng.choose(n));
    RecordedDecisions replay(recorded);
    for (std::uint64_t n = 2; n < 50; ++n)
        EXPECT_EQ(replay.choose(n), original[n - 2]);
    EXPECT_TRUE(replay.exhausted());
}

TEST(RecordedDecisions, ChoosesTheDefaultOnceExhausted) {
    RecordedDecisions replay({3});
    EXPECT_EQ(replay.choose(10), 3u);
    EXPECT_EQ(replay.choose(10), 0u);
    EXPECT_FALSE(replay.chance(Ratio{1, 2}));  // option 0 means no fault
}

TEST(RecordedDecisions, ClampsAChoiceBeyondTheOptions) {
    RecordedDecisions replay({1000});
    EXPECT_EQ(replay.choose(4), 3u);
}

}  // namespace
}  // namespace ferry::sim
