// FERRY_SEED and FERRY_SEEDS: what they accept, which wins, what a bad value
// says.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ferry/testing/seed_range.h"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;

TEST(SeedRange, ParsesOneSeedAndARange) {
    EXPECT_EQ(parse_seed_range("17"), (SeedRange{17, 17}));
    EXPECT_EQ(parse_seed_range("1..500"), (SeedRange{1, 500}));
    EXPECT_EQ(parse_seed_range("0..0"), (SeedRange{0, 0}));
    EXPECT_EQ(parse_seed_range("18446744073709551615"),
              (SeedRange{18446744073709551615u, 18446744073709551615u}));
    EXPECT_EQ((SeedRange{3, 7}).count(), 5u);
}

TEST(SeedRange, RejectsWhatIsNotASeedOrARange) {
    for (const char* bad : {"", "abc", "-3", "+3", " 3", "3 ", "1..", "..5", "1...5", "1..x",
                            "18446744073709551616", "0x10"}) {
        std::string error;
        EXPECT_EQ(parse_seed_range(bad, &error), std::nullopt) << bad;
        EXPECT_THAT(error, HasSubstr("'" + std::string(bad) + "'")) << bad;
    }
}

TEST(SeedRange, AnEmptyRangeSaysSo) {
    std::string error;
    EXPECT_EQ(parse_seed_range("5..2", &error), std::nullopt);
    EXPECT_EQ(error, "'5..2' is empty: its first seed is after its last");
}

TEST(ChooseSeeds, FerrySeedReplaysOneAndWinsOverFerrySeeds) {
    EXPECT_EQ(choose_seeds("17", nullptr, {1, 100}), (SeedRange{17, 17}));
    EXPECT_EQ(choose_seeds("17", "1..500", {1, 100}), (SeedRange{17, 17}));
}

TEST(ChooseSeeds, FerrySeedsSweepsARange) {
    EXPECT_EQ(choose_seeds(nullptr, "200..299", {1, 100}), (SeedRange{200, 299}));
    EXPECT_EQ(choose_seeds(nullptr, "42", {1, 100}), (SeedRange{42, 42}));
}

TEST(ChooseSeeds, NeitherSetGivesTheTestsOwnRange) {
    EXPECT_EQ(choose_seeds(nullptr, nullptr, {5, 9}), (SeedRange{5, 9}));
}

TEST(ChooseSeeds, ABadValueNamesTheVariableAndShowsAGoodOne) {
    std::string error;
    EXPECT_EQ(choose_seeds("seventeen", nullptr, {1, 100}, &error), std::nullopt);
    EXPECT_EQ(error,
              "FERRY_SEED='seventeen' is not a seed: give a whole number, e.g. FERRY_SEED=17");
    EXPECT_EQ(choose_seeds(nullptr, "1-500", {1, 100}, &error), std::nullopt);
    EXPECT_EQ(error,
              "FERRY_SEEDS: '1-500' is not a seed (a whole number) or a range (first..last), e.g. "
              "FERRY_SEEDS=1..500");
}

}  // namespace
}  // namespace ferry::testing
