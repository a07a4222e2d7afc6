// Properties of the ferry workload (PUT, GET, DIR from concurrent,
// pipelining, dishonest and slow clients) under generated cases, fault plans
// and schedules. A failure prints rapidcheck's seed and RC_PARAMS line, and
// the `ferry explore --replay` command of the failing run.

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <fmt/core.h>

#include "ferry/harness/explore.h"
#include "ferry/harness/run_text.h"
#include "ferry/harness/sim_driver.h"
#include "tests/explore/generators.h"

namespace ferry::explore_test {
namespace {

harness::DrawOptions draw_options() {
    harness::DrawOptions draw;
    draw.chunk_bytes = 1024;
    draw.size_max = 4 * 1024;
    return draw;
}

harness::RunResult run_logged(const harness::RunSpec& spec) {
    const harness::Workload& workload = workload_named(spec.workload);
    const harness::RunResult result = harness::run_on_sim(workload, spec);
    RC_LOG() << fmt::format("replay: ferry explore --replay '{}'\n",
                            harness::run_spec_text(spec, workload));
    if (result.failure)
        RC_LOG() << result.failure->signature() << ": " << result.failure->detail << "\n";
    return result;
}

std::string failures_of(const harness::ExploreSummary& summary) {
    std::string text;
    for (const auto& f : summary.findings) {
        text += fmt::format("{}: {}\n  ferry explore --replay '{}'\n",
                            f.minimal_result.failure->signature(), f.minimal_result.failure->detail,
                            harness::run_spec_text(f.minimal, workload_named("ferry")));
    }
    return text;
}

RC_GTEST_PROP(FerryWorkload, anyCaseUnderCutsCapsLatencyAndSmallBuffersFinishesAsTheModelSays, ()) {
    const harness::RunSpec spec = *gen_run("ferry", harness::benign_knobs(), draw_options());
    const harness::RunResult result = run_logged(spec);
    // Passed means: every reply, GET body and DIR listing is one the model
    // allows, and the server's files afterwards are what it acknowledged.
    RC_ASSERT(result.end == harness::RunResult::End::finished);
    RC_ASSERT(result.passed());
}

RC_GTEST_PROP(FerryWorkload, withStallsResetsCorruptionOrAFullDiskEndsInAnExcusedErrorOrOk, ()) {
    const harness::RunSpec spec = *gen_run("ferry", harness::all_knobs(), draw_options());
    const harness::RunResult result = run_logged(spec);
    RC_ASSERT(result.end == harness::RunResult::End::finished);
    // Every error is one the active faults excuse, and no file is torn.
    RC_ASSERT(result.passed());
}

RC_GTEST_PROP(FerryWorkload, aRunReplaysFromItsTextToTheSameTraceDigest, ()) {
    const harness::RunSpec spec = *gen_run("ferry", harness::all_knobs(), draw_options());
    const harness::Workload& workload = workload_named("ferry");
    const harness::RunResult first = harness::run_on_sim(workload, spec);
    const harness::RunResult again = harness::run_on_sim(workload, spec);
    RC_ASSERT(first.digest == again.digest);
    const auto parsed =
        harness::parse_run_spec_text(harness::run_spec_text(spec, workload), test_workloads());
    RC_ASSERT(parsed.has_value());
    RC_ASSERT(harness::run_on_sim(workload, *parsed).digest == first.digest);
}

TEST(FerryExplore, ThousandsOfRandomRunsWithAllFaultsFindNothing) {
    harness::ExploreOptions options;
    options.runs = 3000;
    const harness::ExploreSummary summary = harness::explore(workload_named("ferry"), options);
    EXPECT_EQ(summary.runs, 3000u);
    EXPECT_TRUE(summary.findings.empty()) << failures_of(summary);
}

TEST(FerryExplore, ExhaustiveCutsOfSmallPayloadsFindNothing) {
    harness::ExploreOptions options;
    options.strategy = harness::Strategy::exhaustive;
    options.draw.chunk_bytes = 4;
    options.draw.size_max = 6;
    options.faults = harness::parse_knob_list("cuts").value();
    options.exhaustive_cuts_max = 1;
    const harness::ExploreSummary summary = harness::explore(workload_named("ferry"), options);
    EXPECT_TRUE(summary.exhausted);
    EXPECT_GT(summary.runs, 100u);
    EXPECT_TRUE(summary.findings.empty()) << failures_of(summary);
}

}  // namespace
}  // namespace ferry::explore_test
