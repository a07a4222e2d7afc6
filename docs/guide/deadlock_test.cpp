#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ferry/testing/sim_test.h"
#include "ferry/testing/spawn_pair.h"
#include "greeting.h"

TEST(Greeting, AForgottenNewlineIsADeadlockWithItsCycle) {
    ferry::testing::SimTest test;
    test.expected_status = ferry::sim::RunStatus::deadlock;
    test.run([](ferry::testing::SeedRun& run) {
        ferry::testing::spawn_pair(run.sim(), serve_greeting, [](ferry::Connection& conn) {
            ferry::send_all(conn, "HELLO ada");  // no '\n': the server waits for the rest
            (void)ferry::recv_line(conn, 256);
        });
        const ferry::sim::SimResult& result = run.finish();
        EXPECT_THAT(result.report.cycle, testing::HasSubstr("server recv(conn 1) waits on client"));
        EXPECT_THAT(result.report.cycle, testing::HasSubstr("client recv(conn 1) waits on server"));
    });
}
