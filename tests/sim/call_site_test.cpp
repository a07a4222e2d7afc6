// A deadlock report names where in the protocol's source each blocked call
// was made ("blocked in recv at kv_protocol.cpp:42"): the caller's own line,
// whether it called recv() itself or a helper built on it.

#include <gtest/gtest.h>

#include <string>

#include "ferry/protocol/buffered_reader.h"
#include "ferry/protocol/connection.h"
#include "ferry/sim/simulation.h"
#include "sim_test_support.h"

namespace ferry::sim {
namespace {

using testing::spawn_pair;

std::string here(int line) {
    return "call_site_test.cpp:" + std::to_string(line);
}

/// The blocked call of process in a deadlocked run's report.
const BlockedProcess& blocked_of(const SimResult& result, const std::string& process) {
    for (const BlockedProcess& blocked : result.report.blocked) {
        if (blocked.process == process)
            return blocked;
    }
    throw std::logic_error(process + " is not blocked");
}

TEST(CallSite, DeadlockReportNamesTheLineOfEachBlockedRecv) {
    Simulation sim({});
    int client_line = 0;
    int server_line = 0;
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            std::byte byte;
            client_line = __LINE__ + 1;
            conn.recv(std::span(&byte, 1));
        },
        [&](SimConnection& conn) {
            server_line = __LINE__ + 1;
            recv_line(conn, 100);
        });
    const SimResult result = sim.run();
    ASSERT_EQ(result.status, RunStatus::deadlock);
    EXPECT_EQ(blocked_of(result, "client").call_site, here(client_line));
    EXPECT_EQ(blocked_of(result, "server").call_site, here(server_line));
    const std::string text = result.report.text();
    EXPECT_NE(text.find("client is blocked in recv at " + here(client_line) + " on conn 1"),
              std::string::npos)
        << text;
}

TEST(CallSite, HelpersReportTheirCallersLineNotTheirOwn) {
    Simulation sim({});
    int client_line = 0;
    int server_line = 0;
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            send_all(conn, "no newline");
            std::vector<std::byte> reply(4);
            client_line = __LINE__ + 1;
            recv_exact(conn, reply);
        },
        [&](SimConnection& conn) {
            BufferedReader reader(conn);
            server_line = __LINE__ + 1;
            reader.recv_line(100);
        });
    const SimResult result = sim.run();
    ASSERT_EQ(result.status, RunStatus::deadlock);
    EXPECT_EQ(blocked_of(result, "client").call_site, here(client_line));
    EXPECT_EQ(blocked_of(result, "server").call_site, here(server_line));
}

TEST(CallSite, BlockedSendNamesTheLineThatCalledSendAll) {
    SimOptions options;
    options.faults.send_buffer_bytes = 100;
    options.faults.receive_window_bytes = 100;
    Simulation sim(options);
    int line = 0;
    spawn_pair(
        sim,
        [&](SimConnection& conn) {
            const std::vector<std::byte> data(1000, std::byte{'x'});
            line = __LINE__ + 1;
            send_all(conn, data);
        },
        [&](SimConnection& conn) { send_all(conn, std::vector<std::byte>(1000, std::byte{'y'})); });
    const SimResult result = sim.run();
    ASSERT_EQ(result.status, RunStatus::deadlock);
    const BlockedProcess& client = blocked_of(result, "client");
    EXPECT_EQ(client.call, "send");
    EXPECT_EQ(client.call_site, here(line));
    EXPECT_NE(result.report.text().find("client is blocked in send at " + here(line)),
              std::string::npos)
        << result.report.text();
}

}  // namespace
}  // namespace ferry::sim
