// Handing a connection to another process: with an accept loop that spawns a
// handler per connection, a deadlock's wait-for graph names the handler that
// really blocks, never the acceptor that has long returned.

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "ferry/protocol/connection.h"
#include "ferry/sim/sim_connection.h"
#include "ferry/sim/sim_network.h"
#include "ferry/sim/simulation.h"
#include "sim_test_support.h"

namespace ferry::sim {
namespace {

/// Accepts count connections on address and spawns "handler N" for each,
/// which runs handle on it; then returns.
void spawn_acceptor(Simulation& sim, std::string address, int count,
                    std::function<void(SimConnection&)> handle, bool hand_over = false) {
    sim.spawn("acceptor", [&sim, address, count, handle, hand_over] {
        auto listener = sim.network().listen(address);
        for (int n = 1; n <= count; ++n) {
            std::shared_ptr<SimConnection> conn = listener->accept();
            const ProcessId handler =
                sim.spawn("handler " + std::to_string(n), [conn, handle] { handle(*conn); });
            if (hand_over)
                conn->hand_to(handler);
        }
    });
}

TEST(HandOff, TheHandlerThatUsesAConnectionIsTheOneBlamed) {
    Simulation sim({});
    spawn_acceptor(sim, "server:1", 1, [](SimConnection& conn) {
        std::vector<std::byte> request(100);
        recv_exact(conn, request);  // the client sends only 10
    });
    sim.spawn("client", [&sim] {
        auto conn = sim.network().connect("server:1");
        send_all(*conn, "0123456789");
        std::byte reply;
        conn->recv(std::span(&reply, 1));
    });
    const SimResult result = sim.run();
    ASSERT_EQ(result.status, RunStatus::deadlock);
    EXPECT_EQ(result.report.cycle,
              "client recv(conn 1) waits on handler 1; handler 1 recv(conn 1) waits on client");
    EXPECT_EQ(result.report.cycle.find("acceptor"), std::string::npos);
}

/// The handler first asks a backend, which waits for the handler: a cycle
/// between them, and a client that waits on the handler although the handler
/// never touched the client's connection. Without hand_to the client would
/// wait on the acceptor, which has returned.
TEST(HandOff, HandToBlamesAHandlerThatBlocksElsewhereFirst) {
    for (const bool hand_over : {false, true}) {
        Simulation sim({});
        sim.spawn("backend", [&sim] {
            auto listener = sim.network().listen("backend:1");
            auto conn = listener->accept();
            recv_line(*conn, 100);  // the handler never sends a request
        });
        spawn_acceptor(
            sim, "server:1", 1,
            [&sim](SimConnection&) {
                auto backend = sim.network().connect("backend:1");
                recv_line(*backend, 100);  // waits for a greeting first
            },
            hand_over);
        sim.spawn("client", [&sim] {
            auto conn = sim.network().connect("server:1");
            recv_line(*conn, 100);
        });
        const SimResult result = sim.run();
        ASSERT_EQ(result.status, RunStatus::deadlock);
        const std::string& cycle = result.report.cycle;
        EXPECT_NE(cycle.find("backend recv(conn 2) waits on handler 1"), std::string::npos)
            << cycle;
        for (const BlockedProcess& blocked : result.report.blocked) {
            if (blocked.process == "client") {
                EXPECT_EQ(blocked.waits_on, hand_over ? "handler 1" : "acceptor") << cycle;
            }
        }
    }
}

}  // namespace
}  // namespace ferry::sim
