// kv/1 as a workload: the harness draws clients, operations and fault plans,
// checks each history against a register per key, and shrinks a failure to
// its smallest run, printed in the text `ferry sim --replay` takes.

#include <gtest/gtest.h>

#include "ferry/harness/explore.h"
#include "ferry/harness/run_text.h"
#include "kv_workload.h"

namespace {

ferry::harness::ExploreSummary explore(const ferry::harness::Workload& workload) {
    ferry::harness::ExploreOptions options;
    options.runs = 300;
    return ferry::harness::explore(workload, options);
}

TEST(KvFixed, ExploringTheWorkloadFindsNothing) {
    const auto workload = kv::make_kv_workload(false);
    EXPECT_TRUE(explore(*workload).findings.empty());
}

TEST(KvBuggy, ExploringTheWorkloadFindsNothing) {
    const auto workload = kv::make_kv_workload(true);
    for (const ferry::harness::Finding& finding : explore(*workload).findings)
        ADD_FAILURE() << "replay: ferry sim --replay '"
                      << ferry::harness::run_spec_text(finding.minimal, *workload) << "'";
}

}  // namespace
