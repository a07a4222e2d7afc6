// Links ferry::testing from a subproject (configured, not built, in CI).

#include <gtest/gtest.h>

#include "ferry/testing/sim_test.h"

TEST(Subproject, RunsOneSeed) {
    ferry::testing::SimTest test;
    test.run([](ferry::testing::SeedRun& run) { EXPECT_TRUE(run.finish().passed()); });
}
