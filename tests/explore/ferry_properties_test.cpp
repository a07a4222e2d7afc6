// Properties of ferry/1 PUT under generated payloads, fault plans and
// schedules. A failure prints rapidcheck's seed and RC_PARAMS line, and the
// `ferry explore --replay` command of the failing case.

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <fmt/core.h>

#include "harness/explore.h"
#include "tests/explore/generators.h"

namespace ferry::explore_test {
namespace {

using harness::CaseVerdict;

constexpr std::size_t chunk_bytes = 1024;
constexpr std::uint64_t size_max = 4 * 1024;

void log_replay(const harness::ExploreCase& c, const harness::CaseResult& result) {
    RC_LOG() << fmt::format("replay: ferry explore --replay '{}'\n{}", harness::case_to_text(c),
                            harness::describe_case(c, result));
}

RC_GTEST_PROP(FerryPut, anyPayloadUnderCutsCapsLatencyAndSmallBuffersEndsOkAndByteExact, ()) {
    const harness::ExploreCase c =
        *gen_case(sim::ProtocolKind::ferry, harness::benign_fault_knobs, chunk_bytes, size_max);
    const harness::CaseResult result = harness::run_case(c);
    log_replay(c, result);
    // passed means: OK from the server and the stored file equal byte for byte.
    RC_ASSERT(result.report.outcome == sim::Outcome::passed);
    RC_ASSERT(result.report.stored_bytes == c.size_bytes);
}

RC_GTEST_PROP(FerryPut, withStallsResetsOrAFullDiskEndsInAClearErrorOrOkAndNeverPartOfAFile, ()) {
    const harness::ExploreCase c =
        *gen_case(sim::ProtocolKind::ferry, harness::all_fault_knobs, chunk_bytes, size_max);
    const harness::CaseResult result = harness::run_case(c);
    log_replay(c, result);
    const sim::TransferReport& r = result.report;
    RC_ASSERT(result.verdict != CaseVerdict::deadlock);
    RC_ASSERT(result.verdict != CaseVerdict::time_budget);
    if (r.outcome == sim::Outcome::failed) {
        // A clear error: someone says what went wrong, and the file is not
        // torn.
        RC_ASSERT(!r.client_error.empty() || !r.server_error.empty());
        RC_ASSERT(r.detail.find("wrong file") == std::string::npos);
        RC_ASSERT(r.stored_bytes == 0 || r.stored_bytes == c.size_bytes);
    }
    RC_ASSERT(result.verdict == CaseVerdict::ok);
}

RC_GTEST_PROP(FerryPut, aCaseReplaysToTheSameTraceDigest, ()) {
    const harness::ExploreCase c =
        *gen_case(sim::ProtocolKind::ferry, harness::all_fault_knobs, chunk_bytes, size_max);
    const harness::CaseResult first = harness::run_case(c);
    const harness::CaseResult again = harness::run_case(c);
    RC_ASSERT(first.report.digest == again.report.digest);
    const auto parsed = harness::parse_case_text(harness::case_to_text(c));
    RC_ASSERT(parsed.has_value());
    RC_ASSERT(harness::run_case(*parsed).report.digest == first.report.digest);
}

TEST(FerryExplore, ThousandsOfRandomRunsWithAllFaultsFindNothing) {
    harness::ExploreOptions options;
    options.protocol = sim::ProtocolKind::ferry;
    options.runs = 3000;
    const harness::ExploreSummary summary = harness::explore(options);
    EXPECT_EQ(summary.runs, 3000u);
    for (const auto& f : summary.findings)
        ADD_FAILURE() << harness::describe_case(f.minimal, f.minimal_result);
}

TEST(FerryExplore, ExhaustiveCutsOfSmallPayloadsFindNothing) {
    harness::ExploreOptions options;
    options.protocol = sim::ProtocolKind::ferry;
    options.strategy = harness::Strategy::exhaustive;
    options.chunk_bytes = 4;
    options.size_max = 6;
    options.faults = harness::parse_fault_list("cuts").value();
    options.exhaustive_cuts_max = 1;
    const harness::ExploreSummary summary = harness::explore(options);
    EXPECT_TRUE(summary.exhausted);
    EXPECT_GT(summary.runs, 100u);
    for (const auto& f : summary.findings)
        ADD_FAILURE() << harness::describe_case(f.minimal, f.minimal_result);
}

}  // namespace
}  // namespace ferry::explore_test
