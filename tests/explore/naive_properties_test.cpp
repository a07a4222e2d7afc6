// The chapter's protocol is wrong in known ways. Here its properties are
// stated as a correct protocol would satisfy them, and must FAIL; the
// meta-tests check that rapidcheck and `ferry explore` find each bug within a
// bounded number of cases and shrink it to the minimal counterexample:
// 0 bytes and exactly C bytes deadlock, and 2 bytes with one short read
// truncate.

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <bit>
#include <optional>
#include <set>

#include "ferry/harness/explore.h"
#include "ferry/harness/run_text.h"
#include "ferry/harness/run_toml.h"
#include "ferry/harness/scenario.h"
#include "ferry/harness/scenario_export.h"
#include "ferry/harness/sim_driver.h"
#include "ferry/harness/value_text.h"
#include "tests/explore/generators.h"

namespace ferry::explore_test {
namespace {

constexpr std::size_t chunk = 1024;

/// The last failing case a property saw. rapidcheck keeps every failing
/// shrink candidate, so after a failed check this is the minimal one.
std::optional<harness::RunSpec> last_failing;

struct PropertyRun {
    bool failed = false;
    int cases_passed_before_failure = 0;
    std::string description;
};

template <typename Property>
PropertyRun check_property(Property property, std::uint64_t seed = 1, int max_success = 200) {
    last_failing.reset();
    rc::detail::TestParams params;
    params.seed = seed;
    params.maxSuccess = max_success;
    const rc::detail::TestResult result =
        rc::detail::checkTestable(property, rc::detail::TestMetadata{}, params);
    PropertyRun run;
    rc::detail::FailureResult failure;
    if (result.match(failure)) {
        run.failed = true;
        run.cases_passed_before_failure = failure.numSuccess;
        run.description = failure.description;
    }
    return run;
}

std::size_t nonzero(const std::vector<std::uint64_t>& choices) {
    return static_cast<std::size_t>(
        std::count_if(choices.begin(), choices.end(), [](std::uint64_t v) { return v != 0; }));
}

/// The size of the run's first put (0 when it has none).
std::uint64_t put_size(const harness::RunSpec& spec) {
    if (spec.work.clients.empty() || spec.work.clients[0].ops.empty())
        return 0;
    return harness::count_param(spec.work.clients[0].ops[0].params, "size", 0);
}

std::string text_of(const harness::RunSpec& spec) {
    return harness::run_spec_text(spec, workload_named(spec.workload));
}

harness::RunResult run(const harness::RunSpec& spec) {
    return harness::run_on_sim(workload_named(spec.workload), spec);
}

bool is_tagged(const harness::RunResult& result, std::string_view tag) {
    return result.failure.has_value() && result.failure->tag == tag;
}

// --- the properties, as a correct protocol would have them ---

/// Any payload on a calm network is stored whole and acknowledged.
void any_payload_on_a_calm_network_is_stored() {
    const harness::RunSpec spec = simple_run("naive", *gen_size(chunk, 4 * chunk), chunk);
    const harness::RunResult result = run(spec);
    if (!result.passed())
        last_failing = spec;
    RC_ASSERT(result.passed());
}

/// A payload of at least one byte never deadlocks.
void a_nonempty_payload_never_deadlocks() {
    const harness::RunSpec spec = simple_run("naive", *gen_size(chunk, 4 * chunk), chunk);
    RC_PRE(put_size(spec) >= 1);
    const harness::RunResult result = run(spec);
    if (result.end == harness::RunResult::End::deadlock)
        last_failing = spec;
    RC_ASSERT(result.end != harness::RunResult::End::deadlock);
}

/// Under short reads the server never keeps fewer bytes than were sent.
void short_reads_never_truncate() {
    // Uniform sizes: rapidcheck halves them towards the smallest that still
    // truncates (gen_size would stop at a whole chunk, its own minimum).
    harness::RunSpec spec =
        simple_run("naive", *rc::gen::inRange<std::uint64_t>(0, 4 * chunk + 1), chunk);
    spec.faults.network.short_reads = sim::Ratio{1, 2};
    spec.choices = (*gen_schedule()).choices;
    const harness::RunResult result = run(spec);
    if (is_tagged(result, "truncated file"))
        last_failing = spec;
    RC_ASSERT(!is_tagged(result, "truncated file"));
}

TEST(NaiveProperties, AnyPayloadIsStoredFailsAndShrinksToZeroBytes) {
    const PropertyRun run = check_property(any_payload_on_a_calm_network_is_stored);
    ASSERT_TRUE(run.failed) << "the chapter's protocol passed a property it breaks";
    EXPECT_LT(run.cases_passed_before_failure, 50);
    ASSERT_TRUE(last_failing.has_value());
    EXPECT_EQ(put_size(*last_failing), 0u) << run.description;
}

TEST(NaiveProperties, NonEmptyPayloadsNeverDeadlockFailsAndShrinksToExactlyOneChunk) {
    const PropertyRun run = check_property(a_nonempty_payload_never_deadlocks);
    ASSERT_TRUE(run.failed);
    EXPECT_LT(run.cases_passed_before_failure, 100);
    ASSERT_TRUE(last_failing.has_value());
    EXPECT_EQ(put_size(*last_failing), chunk) << text_of(*last_failing);
}

TEST(NaiveProperties, ShortReadsNeverTruncateFailsAndShrinksToTwoBytesAndOneCut) {
    const PropertyRun run = check_property(short_reads_never_truncate);
    ASSERT_TRUE(run.failed);
    EXPECT_LT(run.cases_passed_before_failure, 100);
    ASSERT_TRUE(last_failing.has_value());
    EXPECT_EQ(put_size(*last_failing), 2u) << text_of(*last_failing);
    // One read fires the fault and is cut: at most those two choices differ
    // from calm.
    EXPECT_LE(nonzero(last_failing->choices.value_or(std::vector<std::uint64_t>{})), 2u)
        << text_of(*last_failing);
}

// --- the same bugs through the explorer (ferry explore) ---

harness::ExploreOptions naive_options(harness::Strategy strategy) {
    harness::ExploreOptions options;
    options.strategy = strategy;
    options.seed = 1;
    options.runs = 2000;
    options.keep_going = true;
    return options;
}

const harness::Finding* find_tag(const harness::ExploreSummary& summary, std::string_view tag) {
    for (const auto& f : summary.findings) {
        if (is_tagged(f.minimal_result, tag))
            return &f;
    }
    return nullptr;
}

const harness::Finding* find_deadlock(const harness::ExploreSummary& summary) {
    for (const auto& f : summary.findings) {
        if (f.minimal_result.end == harness::RunResult::End::deadlock)
            return &f;
    }
    return nullptr;
}

std::vector<std::uint64_t> choices_of(const harness::RunSpec& spec) {
    return spec.choices.value_or(std::vector<std::uint64_t>{});
}

void expect_minimal_deadlock(const harness::Finding& deadlock) {
    EXPECT_LT(deadlock.run_index, 200u);
    EXPECT_TRUE(put_size(deadlock.minimal) == 0 || put_size(deadlock.minimal) == chunk)
        << text_of(deadlock.minimal);
    EXPECT_TRUE(harness::is_calm(deadlock.minimal.faults)) << text_of(deadlock.minimal);
    EXPECT_EQ(nonzero(choices_of(deadlock.minimal)), 0u)
        << "a deadlock needs no schedule: " << text_of(deadlock.minimal);
}

void expect_minimal_truncation(const harness::Finding& truncated) {
    const harness::RunSpec& m = truncated.minimal;
    EXPECT_LT(truncated.run_index, 2000u);
    EXPECT_EQ(put_size(m), 2u) << text_of(m);
    // One fault: a cut read, a cut send, a cap on sends, or a stall after
    // the first byte (a read as short as a cut one, with no schedule).
    EXPECT_EQ(std::popcount(harness::active_knobs(m.faults)), 1) << text_of(m);
    EXPECT_LE(nonzero(choices_of(m)), 2u) << text_of(m);
    // The minimal run replays, from its text, to the same failure.
    const auto replayed = harness::parse_run_spec_text(text_of(m), test_workloads());
    ASSERT_TRUE(replayed.has_value()) << text_of(m);
    EXPECT_TRUE(is_tagged(run(*replayed), "truncated file")) << text_of(m);
}

void expect_chapter_bugs_found_and_shrunk(harness::Strategy strategy) {
    const harness::ExploreSummary summary =
        harness::explore(workload_named("naive"), naive_options(strategy));
    const harness::Finding* deadlock = find_deadlock(summary);
    ASSERT_NE(deadlock, nullptr);
    expect_minimal_deadlock(*deadlock);
    const harness::Finding* truncated = find_tag(summary, "truncated file");
    ASSERT_NE(truncated, nullptr);
    expect_minimal_truncation(*truncated);
}

TEST(NaiveExplore, RandomStrategyFindsTheDeadlockAndTheTruncationAndShrinksThem) {
    expect_chapter_bugs_found_and_shrunk(harness::Strategy::random);
}

TEST(NaiveExplore, PctStrategyFindsTheDeadlockAndTheTruncationAndShrinksThem) {
    expect_chapter_bugs_found_and_shrunk(harness::Strategy::pct);
}

TEST(NaiveExplore, ExhaustiveCutsFindTheTruncationAtTwoBytes) {
    harness::ExploreOptions options;
    options.strategy = harness::Strategy::exhaustive;
    options.draw.chunk_bytes = 4;
    options.draw.size_max = 9;
    options.faults = harness::parse_knob_list("short_reads").value();
    options.exhaustive_cuts_max = 1;
    options.keep_going = true;
    const harness::ExploreSummary summary = harness::explore(workload_named("naive"), options);
    EXPECT_TRUE(summary.exhausted);
    const harness::Finding* deadlock = find_deadlock(summary);
    ASSERT_NE(deadlock, nullptr);
    EXPECT_EQ(put_size(deadlock->minimal), 0u);
    const harness::Finding* truncated = find_tag(summary, "truncated file");
    ASSERT_NE(truncated, nullptr);
    EXPECT_EQ(put_size(truncated->found), 2u) << "enumeration goes size by size, smallest first";
    EXPECT_EQ(put_size(truncated->minimal), 2u);
}

TEST(NaiveExplore, SavedScenarioReproducesTheFailure) {
    const harness::RunSpec spec = simple_run("naive", chunk, chunk);
    const harness::RunResult result = run(spec);
    ASSERT_EQ(result.end, harness::RunResult::End::deadlock);
    std::string why_not;
    const auto toml = harness::scenario_for_run(spec, result, workload_named("naive"), &why_not);
    ASSERT_TRUE(toml.has_value()) << why_not;
    EXPECT_NE(toml->find("deadlock"), std::string::npos) << *toml;
    EXPECT_NE(toml->find("size = 1024"), std::string::npos) << *toml;
}

TEST(NaiveExplore, ASavedScenarioKeepsASeedTooLargeForATomlInteger) {
    // Explore draws seeds from all 64 bits; TOML integers stop at 2^63 − 1.
    harness::RunSpec spec = simple_run("naive", chunk, chunk, 16576546681787968880ull);
    spec.choices = std::vector<std::uint64_t>{0, 3};
    const harness::RunResult result = run(spec);
    const auto toml = harness::scenario_for_run(spec, result, workload_named("naive"));
    ASSERT_TRUE(toml.has_value());
    const harness::Scenario scenario =
        harness::parse_scenario(*toml, "saved.toml", test_workloads());
    EXPECT_EQ(scenario.run.seed, spec.seed) << *toml;
    EXPECT_EQ(scenario.run.choices, spec.choices) << *toml;
}

TEST(RunText, RoundTripsEveryKnob) {
    const std::string text =
        "ferry chunk_size=5 client(put(a.bin,size=7)) partial_sends=1/8 short_reads=3/8 "
        "max_send=4 latency=0..20 buffers=16:64:7 clog=10+500 stall=client:3+100 "
        "reset=server:12 refused=1/2 corrupt=1/4 disk_full=6 store_io=sync:1:persist "
        "disk_errors=1/9 slow_sync=2..30 crash=rename:1:kill seed=9 choices=0,3,1";
    std::string error;
    const auto spec = harness::parse_run_spec_text(text, test_workloads(), &error);
    ASSERT_TRUE(spec.has_value()) << error;
    EXPECT_EQ(text_of(*spec), text);
    EXPECT_FALSE(
        harness::parse_run_spec_text("ferry client(put(a,size=x))", test_workloads(), &error)
            .has_value());
    EXPECT_FALSE(harness::parse_run_spec_text("tcp seed=1", test_workloads(), &error).has_value());
    EXPECT_NE(error.find("tcp"), std::string::npos) << error;
}

// Found by fuzz/run_text.cpp: 0/8 stayed an active fault that printed as
// "never", and the printed run read back as a calm one.
TEST(RunText, ARatioThatNeverFiresIsCalm) {
    std::string error;
    const auto spec = harness::parse_run_spec_text(
        "ferry client(put(a.bin,size=3)) partial_sends=0/8 refused=0/3 seed=2", test_workloads(),
        &error);
    ASSERT_TRUE(spec.has_value()) << error;
    EXPECT_TRUE(harness::is_calm(spec->faults));
    EXPECT_FALSE(
        harness::excuses(harness::error_causes(spec->faults), harness::ErrorCause::refused));
    EXPECT_EQ(text_of(*spec), "ferry client(put(a.bin,size=3)) seed=2");
}

// Found by fuzz/run_text.cpp: a count past 2^63 − 1 other than the seed
// (here every one a run's text can give) was written to the scenario file as
// a bare integer, which TOML cannot hold, and the saved file did not read.
TEST(RunText, CountsPastATomlIntegerSurviveTheScenarioFile) {
    const std::string big = "18446744073709551615";
    const std::string text =
        "ferry chunk_size=" + big + " client(put(a.bin,size=" + big + ")) buffers=" + big +
        ":1:1 stall=client:" + big + "+5 reset=server:" + big +
        " disk_full=9223372036854775808 store_io=write:" + big + " seed=" + big + " choices=" + big;
    std::string error;
    const auto spec = harness::parse_run_spec_text(text, test_workloads(), &error);
    ASSERT_TRUE(spec.has_value()) << error;
    ASSERT_EQ(text_of(*spec), text);
    const auto toml =
        harness::scenario_for_run(*spec, harness::RunResult{}, workload_named("ferry"));
    ASSERT_TRUE(toml.has_value());
    const harness::Scenario scenario =
        harness::parse_scenario(*toml, "saved.toml", test_workloads());
    EXPECT_EQ(text_of(scenario.run), text) << *toml;
}

// Found by fuzz/run_text.cpp (UBSan): a clog at 2^63 ms overflowed the
// nanosecond clock while the text was read. Durations and latencies stop at
// run_ms_max in both forms; a time budget starts at 1 ms in both.
TEST(RunText, DurationsPastTheClocksRangeAreRefused) {
    const std::string too_long = std::to_string(harness::run_ms_max + 1);
    for (const std::string& knob :
         {"clog=" + too_long + "+1", "clog=1+" + too_long, "stall=client:0+" + too_long,
          "latency=0.." + too_long, "time_budget_ms=" + too_long,
          std::string("time_budget_ms=0")}) {
        std::string error;
        EXPECT_FALSE(
            harness::parse_run_spec_text("ferry client(dir) " + knob, test_workloads(), &error)
                .has_value())
            << knob;
        EXPECT_FALSE(error.empty()) << knob;
    }
    const std::string at_most = std::to_string(harness::run_ms_max);
    EXPECT_TRUE(harness::parse_run_spec_text("ferry client(dir) clog=" + at_most + "+" + at_most +
                                                 " time_budget_ms=" + at_most,
                                             test_workloads())
                    .has_value());
    // The same bounds in a scenario file.
    auto scenario_error = [](const std::string& lines) -> std::string {
        const std::string text = "name = \"bounds\"\nworkload = \"ferry\"\n" + lines +
                                 "[[client]]\nsteps = [{ dir = true }]\n";
        try {
            harness::parse_scenario(text, "bounds.toml", test_workloads());
        } catch (const harness::ScenarioError& e) {
            return e.what();
        }
        return "";
    };
    EXPECT_EQ(scenario_error("time_budget_ms = " + at_most + "\n[faults]\nclog = { at_ms = " +
                             at_most + ", for_ms = " + at_most + " }\n"),
              "");
    EXPECT_NE(scenario_error("time_budget_ms = " + too_long + "\n").find("time_budget_ms"),
              std::string::npos);
    EXPECT_NE(scenario_error("[faults]\nclog = { at_ms = 1, for_ms = " + too_long + " }\n")
                  .find("at most"),
              std::string::npos);
}

// Found by fuzz/run_text.cpp: toml_string took an overlong form (C0 9F) for
// UTF-8, wrote it into a saved scenario, and the TOML reader refused the file.
TEST(RunToml, TomlStringRefusesWhatIsNotUtf8) {
    EXPECT_EQ(harness::toml_string("a\u00e9\u20ac\U0001F600"), "\"a\u00e9\u20ac\U0001F600\"");
    for (const std::string bad :
         {"\xc0\x9f", "\xc1\xbf", "\xe0\x80\x80", "\xf0\x80\x80\x80", "\xed\xa0\x80",
          "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "\xe2\x82", "\x80"}) {
        EXPECT_FALSE(harness::toml_string("name" + bad).has_value()) << harness::value_text(bad);
    }
    const auto spec = harness::parse_run_spec_text(
        "ferry client(put(\"a\\xc0\\x9f\",size=1)) seed=1", test_workloads());
    ASSERT_TRUE(spec.has_value());
    std::string why_not;
    EXPECT_FALSE(harness::run_spec_toml(*spec, workload_named("ferry"), &why_not).has_value());
    EXPECT_NE(why_not.find("UTF-8"), std::string::npos) << why_not;
}

TEST(ExploreShards, ShardsTogetherCoverTheUnshardedSeedsWithoutOverlap) {
    std::set<std::uint64_t> sharded;
    for (std::uint64_t k = 0; k < 3; ++k) {
        for (std::uint64_t i = 0; i < 10; ++i)
            sharded.insert(harness::case_seed(7, i * 3 + k));
    }
    std::set<std::uint64_t> whole;
    for (std::uint64_t i = 0; i < 30; ++i)
        whole.insert(harness::case_seed(7, i));
    EXPECT_EQ(sharded, whole);
    EXPECT_EQ(whole.size(), 30u);
}

TEST(ExploreEdges, SizesAtTheChunkEdges) {
    const auto edges = harness::chunk_edge_sizes(1024, 4096);
    for (std::uint64_t size : {0, 1, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096})
        EXPECT_TRUE(edges.contains(size)) << size;
    const harness::DrawOptions draw;
    EXPECT_EQ(workload_named("naive").edge_cases(draw).size(), edges.size());
    EXPECT_GT(workload_named("ferry").edge_cases(draw).size(), edges.size())
        << "ferry/1 adds the header-line edges and its verbs";
}

}  // namespace
}  // namespace ferry::explore_test
