// The chapter's protocol is wrong in known ways. Here its properties are
// stated as a correct protocol would satisfy them, and must FAIL; the
// meta-tests check that rapidcheck and `ferry explore` find each bug within a
// bounded number of cases and shrink it to the minimal counterexample:
// 0 bytes and exactly C bytes deadlock, and 2 bytes with one short read
// truncate.

#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <optional>

#include "harness/explore.h"
#include "tests/explore/generators.h"

namespace ferry::explore_test {
namespace {

constexpr std::size_t chunk = 1024;

/// The last failing case a property saw. rapidcheck keeps every failing
/// shrink candidate, so after a failed check this is the minimal one.
std::optional<harness::ExploreCase> last_failing;

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

// --- the properties, as a correct protocol would have them ---

/// Any payload on a calm network is stored whole and acknowledged.
void any_payload_on_a_calm_network_is_stored() {
    harness::ExploreCase c;
    c.protocol = sim::ProtocolKind::naive;
    c.chunk_bytes = chunk;
    c.size_bytes = *gen_size(c.protocol, chunk, 4 * chunk);
    const harness::CaseResult result = harness::run_case(c);
    if (result.verdict != harness::CaseVerdict::ok)
        last_failing = c;
    RC_ASSERT(result.verdict == harness::CaseVerdict::ok);
}

/// A payload of at least one byte never deadlocks.
void a_nonempty_payload_never_deadlocks() {
    harness::ExploreCase c;
    c.protocol = sim::ProtocolKind::naive;
    c.chunk_bytes = chunk;
    c.size_bytes = *gen_size(c.protocol, chunk, 4 * chunk);
    RC_PRE(c.size_bytes >= 1);
    const harness::CaseResult result = harness::run_case(c);
    if (result.verdict == harness::CaseVerdict::deadlock)
        last_failing = c;
    RC_ASSERT(result.verdict != harness::CaseVerdict::deadlock);
}

/// Under short reads the server never keeps fewer bytes than were sent.
void short_reads_never_truncate() {
    harness::ExploreCase c;
    c.protocol = sim::ProtocolKind::naive;
    c.chunk_bytes = chunk;
    // Uniform sizes: rapidcheck halves them towards the smallest that still
    // truncates (gen_size would stop at a whole chunk, its own minimum).
    c.size_bytes = *rc::gen::inRange<std::uint64_t>(0, 4 * chunk + 1);
    c.faults.short_reads = sim::Ratio{1, 2};
    c.choices = *gen_schedule();
    const harness::CaseResult result = harness::run_case(c);
    if (result.signature == "truncated file")
        last_failing = c;
    RC_ASSERT(result.signature != "truncated file");
}

TEST(NaiveProperties, AnyPayloadIsStoredFailsAndShrinksToZeroBytes) {
    const PropertyRun run = check_property(any_payload_on_a_calm_network_is_stored);
    ASSERT_TRUE(run.failed) << "the chapter's protocol passed a property it breaks";
    EXPECT_LT(run.cases_passed_before_failure, 50);
    ASSERT_TRUE(last_failing.has_value());
    EXPECT_EQ(last_failing->size_bytes, 0u) << run.description;
}

TEST(NaiveProperties, NonEmptyPayloadsNeverDeadlockFailsAndShrinksToExactlyOneChunk) {
    const PropertyRun run = check_property(a_nonempty_payload_never_deadlocks);
    ASSERT_TRUE(run.failed);
    EXPECT_LT(run.cases_passed_before_failure, 100);
    ASSERT_TRUE(last_failing.has_value());
    EXPECT_EQ(last_failing->size_bytes, chunk);
}

TEST(NaiveProperties, ShortReadsNeverTruncateFailsAndShrinksToTwoBytesAndOneCut) {
    const PropertyRun run = check_property(short_reads_never_truncate);
    ASSERT_TRUE(run.failed);
    EXPECT_LT(run.cases_passed_before_failure, 100);
    ASSERT_TRUE(last_failing.has_value());
    EXPECT_EQ(last_failing->size_bytes, 2u) << harness::case_to_text(*last_failing);
    // One read fires the fault and is cut: at most those two choices differ
    // from calm.
    EXPECT_LE(nonzero(last_failing->choices), 2u) << harness::case_to_text(*last_failing);
}

// --- the same bugs through the explorer (ferry explore) ---

harness::ExploreOptions naive_options(harness::Strategy strategy) {
    harness::ExploreOptions options;
    options.protocol = sim::ProtocolKind::naive;
    options.strategy = strategy;
    options.seed = 1;
    options.runs = 2000;
    options.keep_going = true;
    return options;
}

const harness::Finding* find_signature(const harness::ExploreSummary& summary,
                                       std::string_view signature) {
    for (const auto& f : summary.findings) {
        if (f.minimal_result.signature == signature)
            return &f;
    }
    return nullptr;
}

void expect_chapter_bugs_found_and_shrunk(harness::Strategy strategy) {
    const harness::ExploreSummary summary = harness::explore(naive_options(strategy));

    const harness::Finding* deadlock = find_signature(summary, "deadlock");
    ASSERT_NE(deadlock, nullptr);
    EXPECT_LT(deadlock->run_index, 200u);
    EXPECT_TRUE(deadlock->minimal.size_bytes == 0 || deadlock->minimal.size_bytes == chunk)
        << harness::case_to_text(deadlock->minimal);
    EXPECT_FALSE(harness::has_disruptive_faults(deadlock->minimal));
    EXPECT_TRUE(deadlock->minimal.choices.empty())
        << "a deadlock needs no schedule: " << harness::case_to_text(deadlock->minimal);
    const std::string text = harness::case_to_text(deadlock->minimal);
    EXPECT_EQ(std::count(text.begin(), text.end(), '='), 3) << "no fault: " << text;

    const harness::Finding* truncated = find_signature(summary, "truncated file");
    ASSERT_NE(truncated, nullptr);
    EXPECT_LT(truncated->run_index, 2000u);
    EXPECT_EQ(truncated->minimal.size_bytes, 2u) << harness::case_to_text(truncated->minimal);
    EXPECT_FALSE(harness::has_disruptive_faults(truncated->minimal));
    // One fault: a cut read, a cut send, or a cap on sends.
    const harness::ExploreCase& m = truncated->minimal;
    const int faults = (m.faults.short_reads.numerator != 0 ? 1 : 0) +
                       (m.faults.partial_sends.numerator != 0 ? 1 : 0) +
                       (m.faults.max_send_bytes != 0 ? 1 : 0) +
                       (m.faults.latency_ms_max != 1 ? 1 : 0);
    EXPECT_EQ(faults, 1) << harness::case_to_text(m);
    EXPECT_LE(nonzero(m.choices), 2u) << harness::case_to_text(m);
    // The minimal case replays to the same failure.
    EXPECT_EQ(harness::run_case(m).signature, "truncated file");
}

TEST(NaiveExplore, RandomStrategyFindsTheDeadlockAndTheTruncationAndShrinksThem) {
    expect_chapter_bugs_found_and_shrunk(harness::Strategy::random);
}

TEST(NaiveExplore, PctStrategyFindsTheDeadlockAndTheTruncationAndShrinksThem) {
    expect_chapter_bugs_found_and_shrunk(harness::Strategy::pct);
}

TEST(NaiveExplore, ExhaustiveCutsFindTheTruncationAtTwoBytes) {
    harness::ExploreOptions options;
    options.protocol = sim::ProtocolKind::naive;
    options.strategy = harness::Strategy::exhaustive;
    options.chunk_bytes = 4;
    options.size_max = 9;
    options.faults = harness::parse_fault_list("short_reads").value();
    options.exhaustive_cuts_max = 1;
    options.keep_going = true;
    const harness::ExploreSummary summary = harness::explore(options);
    EXPECT_TRUE(summary.exhausted);
    const harness::Finding* deadlock = find_signature(summary, "deadlock");
    ASSERT_NE(deadlock, nullptr);
    EXPECT_EQ(deadlock->minimal.size_bytes, 0u);
    const harness::Finding* truncated = find_signature(summary, "truncated file");
    ASSERT_NE(truncated, nullptr);
    EXPECT_EQ(truncated->found.size_bytes, 2u) << "enumeration goes size by size, smallest first";
    EXPECT_EQ(truncated->minimal.size_bytes, 2u);
}

TEST(NaiveExplore, SavedScenarioReproducesTheFailure) {
    harness::ExploreCase c;
    c.protocol = sim::ProtocolKind::naive;
    c.size_bytes = chunk;
    const harness::CaseResult result = harness::run_case(c);
    ASSERT_EQ(result.verdict, harness::CaseVerdict::deadlock);
    const auto toml = harness::scenario_for_case(c, result);
    ASSERT_TRUE(toml.has_value());
    EXPECT_NE(toml->find("outcome = \"pass\""), std::string::npos) << *toml;
    EXPECT_NE(toml->find("size = 1024"), std::string::npos) << *toml;
}

TEST(ExploreCaseText, RoundTripsEveryKnob) {
    const std::string text =
        "ferry size=7 chunk=5 payload=9 partial_sends=1/8 short_reads=3/8 max_send=4 "
        "latency_ms=0..20 send_buffer=16 window=64 segment=7 clog_ms=10+500 stall=client:3+100 "
        "reset=server:12 refused=1/2 disk_bytes=6 fail_write=2 fail_fsync=1 fail_rename=1 persist "
        "choices=0,3,1";
    std::string error;
    const auto c = harness::parse_case_text(text, &error);
    ASSERT_TRUE(c.has_value()) << error;
    EXPECT_EQ(harness::case_to_text(*c), text);
    EXPECT_FALSE(harness::parse_case_text("ferry size=x").has_value());
    EXPECT_FALSE(harness::parse_case_text("tcp size=1").has_value());
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

TEST(ExploreEdges, SizesAtTheChunkAndHeaderEdges) {
    const auto edges = harness::edge_sizes(sim::ProtocolKind::naive, 1024, 4096);
    for (std::uint64_t size : {0, 1, 1023, 1024, 1025, 2047, 2048, 2049, 4095, 4096})
        EXPECT_NE(std::find(edges.begin(), edges.end(), size), edges.end()) << size;
    const auto ferry_edges = harness::edge_sizes(sim::ProtocolKind::ferry, 1024, 4096);
    EXPECT_GT(ferry_edges.size(), edges.size()) << "ferry/1 adds the header-line edges";
}

}  // namespace
}  // namespace ferry::explore_test
