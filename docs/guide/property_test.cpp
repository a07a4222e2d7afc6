#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "ferry/sim/simulation.h"
#include "ferry/testing/rapidcheck.h"
#include "ferry/testing/spawn_pair.h"
#include "greeting.h"

// rapidcheck draws the fault plan and the schedule, and shrinks both.
RC_GTEST_PROP(Greeting, greetsUnderAnyCutsLatencyAndSchedule, ()) {
    const auto knobs = ferry::harness::parse_knob_list("cuts,latency,max_send");
    const ferry::harness::FaultPlan plan = *ferry::testing::gen_fault_plan(*knobs);
    const ferry::testing::Schedule schedule = *ferry::testing::gen_schedule();

    ferry::sim::SimOptions options;
    options.faults = plan.network;
    ferry::sim::RecordedDecisions decisions(schedule.choices);
    ferry::sim::Simulation sim(options, decisions);
    std::string reply;
    ferry::testing::spawn_pair(sim, serve_greeting,
                               [&](ferry::Connection& conn) { reply = greet(conn, "ada"); });
    const ferry::sim::SimResult result = sim.run();
    sim.stop_processes();
    RC_ASSERT(result.passed());
    RC_ASSERT(reply == "HI ada");
}
