// SimNode and process groups: killing a machine unwinds its processes (and
// only its), resets its connections, closes its listeners and its files, and
// lets it start again on the same disk.

#include "ferry/sim/sim_node.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ferry/protocol/connection.h"
#include "ferry/sim/sim_connection.h"
#include "ferry/sim/sim_network.h"
#include "sim_test_support.h"

namespace ferry::sim {
namespace {

using testing::ms;

/// A server on node that accepts one client at a time and echoes a line's
/// worth of bytes, for ever.
void echo_server(Simulation& sim, int& accepted) {
    auto listener = sim.network().listen("server:1");
    for (;;) {
        auto conn = listener->accept();
        ++accepted;
        std::byte buffer[64];
        for (;;) {
            const std::size_t got = conn->recv(buffer);
            if (got == 0)
                break;
            send_all(*conn, std::span(buffer, got));
        }
    }
}

TEST(SimNode, KillingANodeUnwindsItsProcessesAndResetsTheirPeers) {
    Simulation sim({});
    SimNode node(sim, "server");
    int accepted = 0;
    node.spawn(
        "server", [&] { echo_server(sim, accepted); }, true);
    std::optional<ErrorKind> client_error;
    sim.spawn("client", [&] {
        auto conn = sim.network().connect("server:1");
        send_all(*conn, as_bytes("ping"));
        std::byte buffer[4];
        conn->recv(buffer);
        try {
            conn->recv(buffer);  // blocks until the server dies
        } catch (const ConnectionError& e) {
            client_error = e.kind();
        }
    });
    sim.spawn("killer", [&] {
        sim.delay(ms(20));
        EXPECT_EQ(sim.kill_group(node.group()), 1u);
    });
    const SimResult result = sim.run();
    EXPECT_EQ(result.status, RunStatus::completed);
    EXPECT_EQ(client_error, ErrorKind::reset);
    EXPECT_TRUE(result.failures.empty());  // being killed is not a failure
    EXPECT_TRUE(sim.process_finished(1));
}

TEST(SimNode, AKilledServerStartsAgainAndListensOnItsAddress) {
    Simulation sim({});
    SimNode node(sim, "server");
    int accepted = 0;
    node.spawn(
        "server", [&] { echo_server(sim, accepted); }, true);
    std::vector<std::string> outcomes;
    sim.spawn("client", [&] {
        for (int attempt = 0; attempt < 3; ++attempt) {
            auto result = sim.network().connect_or_error("server:1");
            outcomes.push_back(std::holds_alternative<ConnectionError>(result) ? "refused"
                                                                               : "connected");
            sim.delay(ms(10));
            if (attempt == 0) {
                node.kill();
            } else if (attempt == 1) {
                node.spawn(
                    "server again", [&] { echo_server(sim, accepted); }, true);
            }
        }
    });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_THAT(outcomes, ::testing::ElementsAre("connected", "refused", "connected"));
    EXPECT_EQ(node.deaths(), 1u);
}

TEST(SimNode, WhatANodeProcessSpawnsDiesWithIt) {
    Simulation sim({});
    SimNode node(sim, "server");
    bool child_unwound = false;
    bool child_finished_normally = false;
    ProcessId child = 0;
    node.spawn("parent", [&] {
        child = sim.spawn("child", [&] {
            struct Unwound {
                bool& flag;
                ~Unwound() { flag = true; }
            } unwound{child_unwound};
            sim.delay(ms(100));
            child_finished_normally = true;
        });
        sim.delay(ms(100));
    });
    sim.spawn("killer", [&] {
        sim.delay(ms(5));
        node.kill();
    });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_EQ(sim.group_of(child), node.group());
    EXPECT_TRUE(child_unwound);
    EXPECT_FALSE(child_finished_normally);
}

TEST(SimNode, AProcessThatKillsItsOwnNodeRunsOnUntilItBlocks) {
    Simulation sim({});
    SimNode node(sim, "server");
    std::vector<std::string> steps;
    node.spawn("suicidal", [&] {
        node.kill();
        steps.push_back(sim.current_process_killed() ? "killed, still running" : "alive");
        sim.delay(ms(1));
        steps.push_back("never");
    });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_THAT(steps, ::testing::ElementsAre("killed, still running"));
}

TEST(SimNode, OtherNodesAreUntouched) {
    Simulation sim({});
    SimNode a(sim, "a");
    SimNode b(sim, "b");
    bool b_done = false;
    a.spawn("a", [&] { sim.delay(ms(50)); });
    b.spawn("b", [&] {
        sim.delay(ms(50));
        b_done = true;
    });
    sim.spawn("killer", [&] {
        sim.delay(ms(1));
        a.kill();
    });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_TRUE(b_done);
}

TEST(SimNode, AKilledNodesFilesCloseButItsPageCacheStays) {
    Simulation sim({});
    SimFilesystem disk(sim);
    SimNode node(sim, "server", &disk);
    node.spawn("writer", [&] {
        auto fs = node.mount();
        auto file = fs->open("f", FsOpenMode::create_new);
        ASSERT_EQ(file.error, 0);
        (void)file.value->write(as_bytes("unsynced"));
        node.kill();
        // Unwinding code cannot clean up behind the kill's back.
        EXPECT_EQ(fs->unlink("f"), EIO);
    });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_EQ(disk.file("f"), testing::bytes_of("unsynced"));
    EXPECT_EQ(disk.crashes(), 0u);
}

TEST(SimNode, ACrashLosesWhatWasNotSynced) {
    Simulation sim({});
    SimFilesystem disk(sim);
    SimNode node(sim, "server", &disk);
    node.spawn("writer", [&] {
        auto fs = node.mount();
        auto file = fs->open("f", FsOpenMode::create_new);
        (void)file.value->write(as_bytes("unsynced"));
        sim.delay(ms(10));
    });
    sim.spawn("power", [&] {
        sim.delay(ms(5));
        node.crash();
    });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_EQ(disk.crashes(), 1u);
    EXPECT_TRUE(disk.names().empty());  // recorded choices of zero: nothing unsynced kept
}

TEST(SimNode, ACrashAtADiskCallCrashesTheNode) {
    Simulation sim({});
    FsFaults faults;
    faults.crash_at_call = 1;
    faults.crash_call_kind = FsCall::sync;
    SimFilesystem disk(sim, faults);
    SimNode node(sim, "server", &disk);
    bool after_sync = false;
    node.spawn("writer", [&] {
        auto fs = node.mount();
        auto file = fs->open("f", FsOpenMode::create_new);
        EXPECT_EQ(file.value->sync(), EIO);
        sim.delay(ms(1));  // the kill takes effect here
        after_sync = true;
    });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_FALSE(after_sync);
    EXPECT_EQ(node.deaths(), 1u);
    EXPECT_EQ(disk.crashes(), 1u);
}

TEST(SimNode, AConnectInProgressFromAKilledNodeIsAbandoned) {
    Simulation sim({});
    SimNode client_node(sim, "client");
    int accepted = 0;
    std::optional<ErrorKind> server_saw;
    sim.spawn("server", [&] {
        auto listener = sim.network().listen("server:1");
        auto conn = listener->accept();
        ++accepted;
        std::byte buffer[4];
        try {
            conn->recv(buffer);
        } catch (const ConnectionError& e) {
            server_saw = e.kind();
        }
    });
    client_node.spawn("client", [&] { sim.network().connect("server:1"); });
    sim.spawn("killer", [&] {
        // The SYN arrives at 1 ms, the SYN-ACK would at 2 ms.
        sim.delay(std::chrono::microseconds(1500));
        client_node.kill();
    });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_EQ(accepted, 1);
    EXPECT_EQ(server_saw, ErrorKind::reset);
}

}  // namespace
}  // namespace ferry::sim
