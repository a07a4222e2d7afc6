// Annotations: protocol code calls ferry::annotate() without knowing what it
// runs on; in a simulation the note lands in the trace with the process and
// the virtual time, outside one it does nothing, and simulations on several
// threads each keep their own processes' notes.

#include "ferry/protocol/annotation.h"

#include <gtest/gtest.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "ferry/sim/simulation.h"
#include "sim_test_support.h"

namespace ferry::sim {
namespace {

using testing::ms;
using testing::spawn_pair;

/// Protocol code: it knows ferry::annotate, not the simulator.
void handle_request(Connection& conn) {
    annotate("waiting for the request line");
    recv_line(conn, 100);
}

TEST(Annotation, ProtocolCodeNotesLandInTheTraceWithProcessAndTime) {
    Simulation sim({});
    std::ostringstream json;
    sim.trace().write_json_lines_to(&json);
    spawn_pair(
        sim, [&](SimConnection& conn) { handle_request(conn); },
        [&](SimConnection& conn) {
            sim.delay(ms(5));  // accepted at 1 ms: notes at 6 ms
            handle_request(conn);
        });
    const SimResult result = sim.run();
    ASSERT_EQ(result.status, RunStatus::deadlock);
    const std::string recent = sim.trace().recent_text();
    EXPECT_NE(recent.find("t=0.006000s server   note text=\"waiting for the request line\""),
              std::string::npos)
        << recent;
    EXPECT_NE(recent.find("client   note text=\"waiting for the request line\""), std::string::npos)
        << recent;
    EXPECT_NE(json.str().find("\"event\":\"note\",\"process\":\"server\""), std::string::npos)
        << json.str();
    EXPECT_NE(json.str().find("\"text\":\"waiting for the request line\""), std::string::npos)
        << json.str();
}

TEST(Annotation, OutsideASimulationNothingIsRecorded) {
    Simulation sim({});
    sim.spawn("quiet", [&] { sim.delay(ms(1)); });
    ASSERT_EQ(sim.run().status, RunStatus::completed);
    const std::uint64_t events = sim.trace().event_count();
    annotate("after the run, on a thread no simulation runs on");
    EXPECT_EQ(sim.trace().event_count(), events);
}

TEST(Annotation, SimulationsOnSeveralThreadsKeepTheirOwnNotes) {
    constexpr int threads_count = 4;
    std::vector<std::string> traces(threads_count);
    std::vector<std::thread> threads;
    for (int i = 0; i < threads_count; ++i) {
        threads.emplace_back([i, &traces] {
            Simulation sim({});
            for (int round = 0; round < 50; ++round) {
                sim.spawn("p" + std::to_string(round), [&sim, i] {
                    sim.delay(ms(1));
                    annotate("from thread " + std::to_string(i));
                });
            }
            sim.run();
            traces[static_cast<std::size_t>(i)] = sim.trace().recent_text();
        });
    }
    for (std::thread& thread : threads)
        thread.join();
    for (int i = 0; i < threads_count; ++i) {
        const std::string& trace = traces[static_cast<std::size_t>(i)];
        for (int other = 0; other < threads_count; ++other) {
            const bool present =
                trace.find("from thread " + std::to_string(other)) != std::string::npos;
            EXPECT_EQ(present, other == i) << "thread " << i << ":\n" << trace;
        }
    }
}

}  // namespace
}  // namespace ferry::sim
