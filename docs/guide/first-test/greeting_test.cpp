#include <gtest/gtest.h>

#include "ferry/testing/sim_test.h"
#include "ferry/testing/spawn_pair.h"
#include "greeting.h"

TEST(Greeting, SurvivesShortReadsAndPartialSends) {
    ferry::testing::SimTest test;  // seeds 1..100; FERRY_SEED=N or FERRY_SEEDS=A..B to choose
    test.options.faults.short_reads = ferry::sim::always;
    test.options.faults.partial_sends = ferry::sim::always;
    test.run([](ferry::testing::SeedRun& run) {
        std::string reply;
        ferry::testing::spawn_pair(run.sim(), serve_greeting,
                                   [&](ferry::Connection& conn) { reply = greet(conn, "ada"); });
        run.finish();  // runs the simulation; a deadlock or a throw fails the test
        EXPECT_EQ(reply, "HI ada");
    });
}
