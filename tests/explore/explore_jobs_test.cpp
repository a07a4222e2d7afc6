// `ferry explore --jobs N` (harness/explore_jobs.h): the same seed and run
// count give the same findings and the same summary on any number of jobs,
// and --runs is the total over jobs and shards.

#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ferry/harness/explore.h"
#include "ferry/harness/explore_jobs.h"
#include "ferry/harness/run_text.h"
#include "kv_workload.h"
#include "tests/explore/generators.h"

namespace ferry::explore_test {
namespace {

/// kv/1 (examples/kv), correct and with its two planted slips.
const harness::Workload& kv_workload(bool buggy) {
    static const auto correct = kv::make_kv_workload(false);
    static const auto slipped = kv::make_kv_workload(true);
    return buggy ? *slipped : *correct;
}

/// What an exploration's outcome is, as text: everything but its timing.
std::string outcome_text(const harness::ExploreSummary& summary, const harness::Workload& w) {
    std::string text =
        "runs " + std::to_string(summary.runs) + " events " + std::to_string(summary.events) + "\n";
    for (const harness::Finding& f : summary.findings) {
        text += "at " + std::to_string(f.run_index) + ": " + f.found_result.failure->signature() +
                "\n  found " + harness::run_spec_text(f.found, w) + "\n  minimal " +
                harness::run_spec_text(f.minimal, w) + " after " + std::to_string(f.shrink_runs) +
                " shrink runs: " +
                (f.minimal_result.failure ? f.minimal_result.failure->signature() : "passes") +
                "\n";
    }
    return text;
}

harness::ExploreOptions naive_options(std::uint64_t jobs, bool keep_going, std::uint64_t runs) {
    harness::ExploreOptions options;
    options.seed = 1;
    options.runs = runs;
    options.keep_going = keep_going;
    options.jobs = jobs;
    return options;
}

TEST(ExploreJobs, KeepGoingFindsTheSameKindsAtTheSameRunsOnOneTwoOrThreeJobs) {
    const harness::Workload& naive = workload_named("naive");
    const harness::ExploreSummary one = harness::explore(naive, naive_options(1, true, 600));
    ASSERT_GE(one.findings.size(), 2u) << "the deadlock and the truncation, at least";
    EXPECT_EQ(one.runs, 600u);
    for (std::uint64_t jobs : {2, 3}) {
        const harness::ExploreSummary many =
            harness::explore(naive, naive_options(jobs, true, 600));
        EXPECT_EQ(outcome_text(many, naive), outcome_text(one, naive)) << jobs << " jobs";
    }
}

TEST(ExploreJobs, WithoutKeepGoingTheFirstFailingRunWinsOnAnyNumberOfJobs) {
    // kv-buggy's first slip is some runs in: later jobs run past it.
    const harness::Workload& kv = kv_workload(true);
    harness::ExploreOptions options = naive_options(1, false, 2000);
    options.pct_depth_max = 3;
    for (const harness::Strategy strategy : {harness::Strategy::random, harness::Strategy::pct}) {
        options.strategy = strategy;
        options.jobs = 1;
        const harness::ExploreSummary one = harness::explore(kv, options);
        ASSERT_EQ(one.findings.size(), 1u);
        EXPECT_EQ(one.runs, one.findings.front().run_index + 1) << "it stops at the failure";
        EXPECT_GT(one.runs, 3u) << "a failure past the first runs of every job";
        for (std::uint64_t jobs : {2, 3}) {
            options.jobs = jobs;
            EXPECT_EQ(outcome_text(harness::explore(kv, options), kv), outcome_text(one, kv))
                << to_string(strategy) << ", " << jobs << " jobs";
        }
    }
}

TEST(ExploreJobs, RunsIsTheTotalOverShardsAndJobs) {
    const harness::Workload& kv = kv_workload(false);
    std::uint64_t total = 0;
    std::vector<std::uint64_t> per_shard;
    for (std::uint64_t k = 0; k < 3; ++k) {
        harness::ExploreOptions options = naive_options(2, true, 100);
        options.shard_index = k;
        options.shard_count = 3;
        const harness::ExploreSummary summary = harness::explore(kv, options);
        per_shard.push_back(summary.runs);
        total += summary.runs;
    }
    EXPECT_EQ(total, 100u);
    EXPECT_EQ(per_shard, (std::vector<std::uint64_t>{34, 33, 33}));
    EXPECT_EQ(harness::shard_runs(100, 0, 3), 34u);
    EXPECT_EQ(harness::shard_runs(100, 2, 3), 33u);
    EXPECT_EQ(harness::shard_runs(2, 2, 3), 0u);
}

TEST(ExploreJobs, ShardsOnJobsFindWhatOneProcessFinds) {
    const harness::Workload& naive = workload_named("naive");
    const harness::ExploreSummary whole = harness::explore(naive, naive_options(1, true, 300));
    std::uint64_t runs = 0;
    std::uint64_t events = 0;
    for (std::uint64_t k = 0; k < 2; ++k) {
        harness::ExploreOptions options = naive_options(3, true, 300);
        options.shard_index = k;
        options.shard_count = 2;
        const harness::ExploreSummary shard = harness::explore(naive, options);
        runs += shard.runs;
        events += shard.events;
        for (const harness::Finding& f : shard.findings)
            EXPECT_EQ(f.found.seed, harness::case_seed(1, f.run_index * 2 + k));
    }
    EXPECT_EQ(runs, whole.runs);
    EXPECT_EQ(events, whole.events);
}

TEST(ExploreJobs, StopWhenFoundStopsAtTheSameRunOnAnyNumberOfJobs) {
    const harness::Workload& naive = workload_named("naive");
    harness::ExploreOptions options = naive_options(1, true, 5000);
    const harness::ExploreSummary all = harness::explore(naive, naive_options(1, true, 600));
    ASSERT_GE(all.findings.size(), 2u);
    options.stop_when_found = {all.findings[0].found_result.failure->signature(),
                               all.findings[1].found_result.failure->signature()};
    const harness::ExploreSummary one = harness::explore(naive, options);
    EXPECT_EQ(one.runs, all.findings[1].run_index + 1);
    options.jobs = 3;
    EXPECT_EQ(outcome_text(harness::explore(naive, options), naive), outcome_text(one, naive));
}

}  // namespace
}  // namespace ferry::explore_test
