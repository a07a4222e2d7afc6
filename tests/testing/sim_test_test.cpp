// SimTest, the runner of a test body over seeds: what passes, what a failing
// seed reports (its replay line above all), the determinism check, processes
// that throw and runs that deadlock.

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "ferry/protocol/connection.h"
#include "ferry/testing/sim_test.h"
#include "ferry/testing/spawn_pair.h"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;

/// The failures a call reports, held back from the test running it.
template <typename Call>
std::vector<std::string> failures_of(Call call) {
    ::testing::TestPartResultArray parts;
    {
        const ::testing::ScopedFakeTestPartResultReporter spy(
            ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &parts);
        call();
    }
    std::vector<std::string> messages;
    for (int i = 0; i < parts.size(); ++i) {
        if (parts.GetTestPartResult(i).failed())
            messages.emplace_back(parts.GetTestPartResult(i).message());
    }
    return messages;
}

void echo_line(Connection& conn) {
    if (const auto line = recv_line(conn, 64))
        send_all(conn, *line + "\n");
}

/// A client and server exchanging one line, under short reads and partial
/// sends; the client's reply lands in reply.
void spawn_echo(SeedRun& run, std::string& reply) {
    spawn_pair(run.sim(), echo_line, [&](Connection& conn) {
        send_all(conn, "hello\n");
        reply = recv_line(conn, 64).value_or("");
    });
}

SimTest hostile_test(SeedRange seeds) {
    SimTest test;
    test.options.faults.short_reads = sim::always;
    test.options.faults.partial_sends = sim::always;
    test.seeds = seeds;
    return test;
}

TEST(SimTest, APassingBodyRunsEverySeedTwice) {
    std::vector<std::uint64_t> seeds_run;
    const auto failing = hostile_test({3, 7}).run([&](SeedRun& run) {
        seeds_run.push_back(run.seed());
        std::string reply;
        spawn_echo(run, reply);
        EXPECT_TRUE(run.finish().passed());
        EXPECT_EQ(reply, "hello");
    });
    EXPECT_EQ(failing, std::nullopt);
    EXPECT_EQ(seeds_run, (std::vector<std::uint64_t>{3, 3, 4, 4, 5, 5, 6, 6, 7, 7}));
}

TEST(SimTest, AFailingSeedStopsTheSweepAndPrintsItsReplayLine) {
    std::optional<std::uint64_t> failing;
    const auto messages = failures_of([&] {
        failing = hostile_test({1, 50}).run([](SeedRun& run) {
            std::string reply;
            spawn_echo(run, reply);
            run.finish();
            EXPECT_NE(run.seed(), 7u) << "seven is unlucky";
        });
    });
    EXPECT_EQ(failing, 7u);
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_THAT(messages[0], HasSubstr("seven is unlucky"));
    const std::string& report = messages[1];
    EXPECT_THAT(report, HasSubstr("ferry: seed 7 failed"));
    EXPECT_THAT(report, HasSubstr("fault plan: partial_sends=1/1 short_reads=1/1\n"));
    EXPECT_THAT(report, HasSubstr("\n  a recv may return less than is buffered (1/1 of reads)\n"));
    EXPECT_THAT(report, HasSubstr("trace tail:\n"));
    EXPECT_THAT(report, HasSubstr("result: completed"));
    EXPECT_THAT(report, HasSubstr("replay: FERRY_SEED=7 "));
    EXPECT_THAT(
        report,
        HasSubstr(" --gtest_filter=SimTest.AFailingSeedStopsTheSweepAndPrintsItsReplayLine"));
}

TEST(SimTest, ReplayCommandNamesTheSeedTheProgramAndTheTest) {
    const std::string command = replay_command(17);
    EXPECT_THAT(command, ::testing::StartsWith("FERRY_SEED=17 "));
    EXPECT_THAT(command, HasSubstr("ferry_testing_tests"));
    EXPECT_THAT(command,
                ::testing::EndsWith(
                    " --gtest_filter=SimTest.ReplayCommandNamesTheSeedTheProgramAndTheTest"));
}

TEST(SimTest, AProcessThatThrowsFailsTheTestUnlessExpected) {
    const auto body = [](SeedRun& run) {
        run.sim().spawn("client", [] { throw std::runtime_error("refused"); });
        run.finish();
    };
    SimTest test;
    test.seeds = {1, 3};
    std::optional<std::uint64_t> failing;
    const auto messages = failures_of([&] { failing = test.run(body); });
    EXPECT_EQ(failing, 1u);
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_THAT(messages[0], HasSubstr("process 'client' threw: refused"));
    EXPECT_THAT(messages[1], HasSubstr("result: completed, but client threw: refused"));

    test.process_failures_expected = true;
    EXPECT_EQ(test.run(body), std::nullopt);
}

TEST(SimTest, ADeadlockFailsWithItsWaitForCycleUnlessExpected) {
    const auto body = [](SeedRun& run) {
        spawn_pair(run.sim(), echo_line, [](Connection& conn) {
            send_all(conn, "no newline");
            (void)recv_line(conn, 64);
        });
        run.finish();
    };
    SimTest test;
    test.seeds = {1, 1};
    const auto messages = failures_of([&] { test.run(body); });
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_THAT(messages[0], HasSubstr("the run ended in deadlock, expected completed"));
    EXPECT_THAT(messages[0], HasSubstr("wait-for: "));

    test.expected_status = sim::RunStatus::deadlock;
    EXPECT_EQ(test.run(body), std::nullopt);
}

TEST(SimTest, TheDeterminismCheckCatchesABodyThatKeepsState) {
    int runs = 0;
    const auto body = [&](SeedRun& run) {
        // Every other run takes a step more: not a function of the seed.
        const int steps = ++runs % 2 == 0 ? 2 : 1;
        run.sim().spawn("walker", [&run, steps] {
            for (int i = 0; i < steps; ++i)
                run.sim().delay(std::chrono::milliseconds(1));
        });
        run.finish();
    };
    SimTest test;
    test.seeds = {1, 5};
    std::optional<std::uint64_t> failing;
    const auto messages = failures_of([&] { failing = test.run(body); });
    EXPECT_EQ(failing, 1u);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_THAT(messages[0],
                HasSubstr("ferry: seed 1 is not deterministic: its trace digest was "));
    EXPECT_THAT(messages[0], HasSubstr("replay: FERRY_SEED=1 "));

    test.check_determinism = false;
    EXPECT_EQ(test.run(body), std::nullopt);
}

TEST(SimTest, ABodyThatForgetsFinishIsToldSo) {
    SimTest test;
    test.seeds = {1, 1};
    const auto messages =
        failures_of([&] { test.run([](SeedRun& run) { run.sim().spawn("idle", [] {}); }); });
    ASSERT_FALSE(messages.empty());
    EXPECT_THAT(messages[0], HasSubstr("without calling SeedRun::finish()"));
}

TEST(SimTest, FerrySeedsFromTheEnvironmentOverrideTheTestsRange) {
    std::vector<std::uint64_t> seeds_run;
    SimTest test;
    test.check_determinism = false;
    ::setenv("FERRY_SEEDS", "40..42", 1);
    test.run([&](SeedRun& run) {
        seeds_run.push_back(run.seed());
        run.finish();
    });
    ::setenv("FERRY_SEEDS", "42..40", 1);
    const auto messages = failures_of([&] { test.run([](SeedRun& run) { run.finish(); }); });
    ::unsetenv("FERRY_SEEDS");
    EXPECT_EQ(seeds_run, (std::vector<std::uint64_t>{40, 41, 42}));
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_THAT(messages[0], HasSubstr("FERRY_SEEDS: '42..40' is empty: its first seed is after "
                                       "its last, e.g. FERRY_SEEDS=1..500"));
}

TEST(SimTest, ResultsPrintInWords) {
    EXPECT_EQ(::testing::PrintToString(sim::RunStatus::time_budget_exceeded),
              "time budget exceeded");
    sim::SimResult result;
    result.failures.push_back({"server", "disk full"});
    EXPECT_THAT(::testing::PrintToString(result),
                HasSubstr("SimResult{completed, but server threw: disk full, digest "));
}

}  // namespace
}  // namespace ferry::testing
