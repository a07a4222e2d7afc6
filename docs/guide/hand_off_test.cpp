#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>

#include "ferry/protocol/annotation.h"
#include "ferry/sim/sim_connection.h"
#include "ferry/sim/sim_network.h"
#include "ferry/testing/sim_test.h"
#include "greeting.h"

// An accept loop that spawns a handler per client. The handler asks an audit
// service before it greets, and the audit service waits for a request the
// handler never sends.
void serve_with_audit(ferry::sim::Simulation& sim) {
    sim.spawn("audit", [&sim] {
        auto conn = sim.network().listen("audit:1")->accept();
        (void)ferry::recv_line(*conn, 256);  // waits for a request
    });
    sim.spawn("acceptor", [&sim] {
        std::shared_ptr<ferry::sim::SimConnection> conn =
            sim.network().listen("server:7")->accept();
        const ferry::sim::ProcessId handler = sim.spawn("handler", [&sim, conn] {
            auto audit = sim.network().connect("audit:1");
            ferry::annotate("asked audit about " + conn->peer_name());
            (void)ferry::recv_line(*audit, 256);  // no request sent: waits forever
            serve_greeting(*conn);
        });
        conn->hand_to(handler);  // the client's end is the handler's now
    });
}

TEST(Greeting, TheHandlerThatBlocksIsTheOneBlamed) {
    ferry::testing::SimTest test;
    test.expected_status = ferry::sim::RunStatus::deadlock;
    test.run([](ferry::testing::SeedRun& run) {
        serve_with_audit(run.sim());
        run.sim().spawn("client", [&run] {
            auto conn = run.sim().network().connect("server:7");
            (void)greet(*conn, "ada");
        });
        const ferry::sim::SimResult& result = run.finish();
        EXPECT_EQ(result.report.cycle,
                  "audit recv(conn 2) waits on handler; handler recv(conn 2) waits on audit");
        for (const ferry::sim::BlockedProcess& blocked : result.report.blocked)
            if (blocked.process == "client") {
                EXPECT_EQ(blocked.waits_on, "handler");  // without hand_to: "acceptor"
            }
        EXPECT_THAT(run.sim().trace().recent_text(16),
                    testing::HasSubstr("asked audit about client"));
    });
}
