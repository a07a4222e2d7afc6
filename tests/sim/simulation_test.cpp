// The runtime: fibers in virtual time, failures kept inside processes,
// deadlock and time-budget detection with a report, and determinism.

#include "ferry/sim/simulation.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

#include "ferry/protocol/connection.h"
#include "sim_test_support.h"

namespace ferry::sim {
namespace {

using testing::ms;
using testing::seconds;
using testing::spawn_pair;

TEST(Simulation, DelayAdvancesVirtualTimeOnly) {
    Simulation sim({});
    Instant woke;
    sim.spawn("sleeper", [&] {
        sim.delay(seconds(300));
        woke = sim.now();
    });
    const SimResult result = sim.run();
    EXPECT_EQ(result.status, RunStatus::completed);
    EXPECT_EQ(woke, testing::at(seconds(300)));
    EXPECT_EQ(result.end_time, testing::at(seconds(300)));
}

TEST(Simulation, ProcessesInterleaveOnlyWhereTheyBlock) {
    Simulation sim({});
    std::vector<std::string> log;
    sim.spawn("a", [&] {
        log.push_back("a1");
        log.push_back("a2");
        sim.delay(ms(10));
        log.push_back("a3");
    });
    sim.spawn("b", [&] {
        log.push_back("b1");
        sim.delay(ms(5));
        log.push_back("b2");
    });
    ASSERT_EQ(sim.run().status, RunStatus::completed);
    // a1 and a2 stay together: nothing runs between them.
    auto a1 = std::find(log.begin(), log.end(), "a1");
    ASSERT_NE(a1, log.end());
    EXPECT_EQ(*(a1 + 1), "a2");
    EXPECT_EQ(log.back(), "a3");  // at 10 ms, after b2 at 5 ms
}

TEST(Simulation, WhichRunnableProcessGoesFirstIsADecision) {
    std::set<std::string> first_runners;
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        SimOptions options;
        options.seed = seed;
        Simulation sim(options);
        std::string first;
        for (const char* name : {"a", "b", "c"}) {
            sim.spawn(name, [&first, name] {
                if (first.empty())
                    first = name;
            });
        }
        ASSERT_EQ(sim.run().status, RunStatus::completed);
        first_runners.insert(first);
    }
    EXPECT_EQ(first_runners.size(), 3u);
}

TEST(Simulation, AnExceptionStaysInsideItsProcess) {
    Simulation sim({});
    bool other_finished = false;
    sim.spawn("thrower", [&] {
        sim.delay(ms(1));
        throw std::runtime_error("boom");
    });
    sim.spawn("other", [&] {
        sim.delay(ms(5));
        other_finished = true;
    });
    const SimResult result = sim.run();
    EXPECT_EQ(result.status, RunStatus::completed);
    EXPECT_TRUE(other_finished);
    ASSERT_EQ(result.failures.size(), 1u);
    EXPECT_EQ(result.failures[0].process, "thrower");
    EXPECT_EQ(result.failures[0].message, "boom");
}

TEST(Simulation, ARunWhoseProcessThrewIsCompletedButNotPassed) {
    Simulation sim({});
    sim.spawn("client", [] { throw std::runtime_error("refused"); });
    const SimResult result = sim.run();
    EXPECT_EQ(result.status, RunStatus::completed);
    EXPECT_FALSE(result.passed());
    EXPECT_EQ(result.summary(), "completed, but client threw: refused");

    Simulation calm({});
    calm.spawn("client", [] {});
    const SimResult calm_result = calm.run();
    EXPECT_TRUE(calm_result.passed());
    EXPECT_EQ(calm_result.summary(), "completed");
}

TEST(Simulation, DeadlockReportNamesEachCallConnectionAndTheCycle) {
    Simulation sim({});
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            std::byte byte;
            conn.recv(std::span(&byte, 1));
        },
        [&](SimConnection& conn) {
            std::byte byte;
            conn.recv(std::span(&byte, 1));
        });
    const SimResult result = sim.run();
    ASSERT_EQ(result.status, RunStatus::deadlock);
    EXPECT_EQ(result.report.cycle,
              "server recv(conn 1) waits on client; client recv(conn 1) waits on server");
    ASSERT_EQ(result.report.blocked.size(), 2u);
    EXPECT_EQ(result.report.blocked[0].process, "server");
    EXPECT_EQ(result.report.blocked[0].call, "recv");
    EXPECT_EQ(result.report.blocked[0].conn, 1u);
    EXPECT_EQ(result.report.blocked[0].waits_on, "client");
    const std::string text = result.report.text();
    EXPECT_NE(text.find("client is blocked in recv at simulation_test.cpp:"), std::string::npos)
        << text;
    EXPECT_NE(text.find(" on conn 1 to server:1"), std::string::npos) << text;
    EXPECT_NE(text.find("0 bytes in its receive buffer"), std::string::npos) << text;
}

TEST(Simulation, DeadlockReportCountsBufferedAndQueuedBytes) {
    SimOptions options;
    options.faults.send_buffer_bytes = 1000;
    options.faults.receive_window_bytes = 2000;
    Simulation sim(options);
    // Both send and nobody reads: each fills its send buffer and the peer's
    // window, then waits for the other to read.
    const auto data = testing::random_bytes(10'000, 1);
    spawn_pair(
        sim, [&](SimConnection& conn) { send_all(conn, data); },
        [&](SimConnection& conn) { send_all(conn, data); });
    const SimResult result = sim.run();
    ASSERT_EQ(result.status, RunStatus::deadlock);
    EXPECT_EQ(result.report.cycle,
              "server send(conn 1) waits on client; client send(conn 1) waits on server");
    for (const BlockedProcess& blocked : result.report.blocked) {
        EXPECT_EQ(blocked.receive_buffer_bytes, 2000u) << blocked.process;
        EXPECT_EQ(blocked.in_flight_bytes, 0u) << blocked.process;
        EXPECT_EQ(blocked.peer_send_buffer_bytes, 1000u) << blocked.process;
        EXPECT_EQ(blocked.send_buffer_bytes, 1000u) << blocked.process;
    }
}

TEST(Simulation, DeadlockReportSaysWhenThePeerHasFinished) {
    Simulation sim({});
    auto listener = sim.network().listen("server:1");
    std::unique_ptr<SimConnection> kept;  // accepted, never used, never closed
    sim.spawn("server", [&] { kept = listener->accept(); });
    sim.spawn("client", [&] {
        auto conn = sim.network().connect("server:1");
        std::byte byte;
        conn->recv(std::span(&byte, 1));
    });
    const SimResult result = sim.run();
    ASSERT_EQ(result.status, RunStatus::deadlock);
    EXPECT_EQ(result.report.cycle, "client recv(conn 1) waits on server (finished)");
    sim.stop_processes();
}

TEST(Simulation, StalledReaderShowsInTheReport) {
    SimOptions options;
    options.faults.stall = StallFault{Side::server, 0, std::nullopt, std::nullopt};
    Simulation sim(options);
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            send_all(conn, "hello");
            std::byte byte;
            conn.recv(std::span(&byte, 1));
        },
        [&](SimConnection& conn) {
            std::byte byte;
            conn.recv(std::span(&byte, 1));
        });
    const SimResult result = sim.run();
    ASSERT_EQ(result.status, RunStatus::deadlock);
    EXPECT_NE(result.report.text().find("its reads are stalled by a fault"), std::string::npos);
    EXPECT_NE(result.report.text().find("5 bytes in its receive buffer"), std::string::npos);
}

TEST(Simulation, TimeBudgetEndsARunThatNeverFinishes) {
    SimOptions options;
    options.time_budget = seconds(60);
    Simulation sim(options);
    sim.spawn("spinner", [&] {
        while (true)
            sim.delay(seconds(1));
    });
    const SimResult result = sim.run();
    EXPECT_EQ(result.status, RunStatus::time_budget_exceeded);
    EXPECT_EQ(result.end_time, testing::at(seconds(60)));
    ASSERT_EQ(result.report.blocked.size(), 1u);
    EXPECT_EQ(result.report.blocked[0].call, "delay");
}

TEST(Simulation, StoppingUnwindsBlockedProcesses) {
    struct Guard {
        bool* unwound;
        ~Guard() { *unwound = true; }
    };
    bool unwound = false;
    {
        Simulation sim({});
        spawn_pair(
            sim,
            [&](SimConnection& conn) {
                Guard guard{&unwound};
                std::byte byte;
                conn.recv(std::span(&byte, 1));
            },
            [&](SimConnection& conn) {
                std::byte byte;
                conn.recv(std::span(&byte, 1));
            });
        EXPECT_EQ(sim.run().status, RunStatus::deadlock);
        EXPECT_FALSE(unwound);
    }
    EXPECT_TRUE(unwound);
}

TEST(Simulation, BlockingOutsideAProcessIsAnError) {
    Simulation sim({});
    EXPECT_THROW(sim.delay(ms(1)), std::logic_error);
}

}  // namespace
}  // namespace ferry::sim
