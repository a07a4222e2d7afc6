// The slow_disk knob in whole runs of the ferry workload: a store's calls
// interleave with other requests' as the seed draws, a run replays from its
// recorded choices, and the workload draws the race it exists for (a GET
// keeping the digest of a file without one, an upload of the same size
// replacing it).

#include <algorithm>
#include <set>
#include <stdexcept>
#include <string>

#include <gtest/gtest.h>

#include "ferry/harness/fault_plan.h"
#include "ferry/harness/run_text.h"
#include "ferry/harness/sim_driver.h"
#include "ferry/harness/workload_case.h"
#include "ferry/sim/decisions.h"
#include "ferry/workloads/builtin.h"

namespace ferry::explore_test {
namespace {

using harness::RunResult;
using harness::RunSpec;

constexpr std::string_view digest_race =
    "ferry files={doc.txt=old_bytes} client(get(doc.txt) get(doc.txt)) "
    "client(put(doc.txt,size=9) get(doc.txt)) slow_disk=0..2 seed=";

RunSpec race_spec(std::uint64_t seed) {
    std::string error;
    auto spec = harness::parse_run_spec_text(std::string(digest_race) + std::to_string(seed),
                                             workloads::builtin_workloads(), &error);
    if (!spec)
        throw std::invalid_argument(error);
    return *spec;
}

RunResult run(const RunSpec& spec, std::vector<std::uint64_t>* record = nullptr) {
    return harness::run_on_sim(workloads::builtin_workload("ferry"), spec, {.record = record});
}

/// The most each call waits in slow_disk plans drawn with these bounds; 0
/// when none of 300 draws had it on.
std::uint64_t drawn_slow_disk_max(std::uint64_t op_bytes_max) {
    const harness::KnobSet slow_disk_only = *harness::parse_knob_list("slow_disk");
    std::uint64_t most = 0;
    for (std::uint64_t seed = 1; seed <= 300; ++seed) {
        sim::PrngDecisions prng(seed);
        const harness::FaultPlan plan = harness::draw_fault_plan(
            prng, slow_disk_only, harness::FaultDrawBounds{1024, op_bytes_max, op_bytes_max});
        most = std::max<std::uint64_t>(most, plan.disk.call_latency_ms_max);
    }
    return most;
}

// A request makes up to a disk call per byte of its payload; were the waits
// of all of them to pass the clients' 30 s timeout, explore would report the
// timeout no fault explains (it did, with --size-max 300000 and an upload
// a byte a frame).
TEST(SlowDisk, TheDrawnWaitsOfTheLargestPayloadsCallsStayWellWithinTheTimeouts) {
    EXPECT_EQ(drawn_slow_disk_max(4096), 2u);  // explore's default size-max: as before
    EXPECT_LE(drawn_slow_disk_max(20'000) * (20'000 + 64), 10'000u);
    EXPECT_EQ(drawn_slow_disk_max(300'000), 0u);  // too large for any wait: off
}

// Likewise a window or segment a thousand times smaller than the payload
// takes longer than the run's time budget (it did: a 16-byte window, 147 KiB).
TEST(FaultDraws, BuffersAreNoSmallerThanA256thOfTheLargestPayload) {
    const harness::KnobSet buffers_only = *harness::parse_knob_list("buffers");
    for (const std::uint64_t op_bytes_max : {4096u, 300'000u}) {
        for (std::uint64_t seed = 1; seed <= 100; ++seed) {
            sim::PrngDecisions prng(seed);
            const harness::FaultPlan plan = harness::draw_fault_plan(
                prng, buffers_only, harness::FaultDrawBounds{1024, op_bytes_max, op_bytes_max});
            EXPECT_GE(plan.network.receive_window_bytes, op_bytes_max / 256);
            EXPECT_GE(plan.network.segment_bytes_max, op_bytes_max / 256);
        }
    }
}

TEST(SlowDisk, TheRaceInterleavesDifferentlyAcrossSeedsAndEachReplaysExactly) {
    std::set<std::uint64_t> digests;
    for (std::uint64_t seed = 1; seed <= 30; ++seed) {
        RunSpec spec = race_spec(seed);
        std::vector<std::uint64_t> choices;
        const RunResult drawn = run(spec, &choices);
        EXPECT_TRUE(drawn.passed()) << "seed " << seed << ": " << drawn.failure->detail;
        digests.insert(drawn.digest);
        spec.choices = choices;
        const RunResult replayed = run(spec);
        EXPECT_EQ(replayed.digest, drawn.digest) << "seed " << seed;
        EXPECT_EQ(replayed.choices_used, choices.size()) << "seed " << seed;
    }
    EXPECT_GT(digests.size(), 20u);
}

TEST(SlowDisk, ACalmDiskDrawsNoChoiceForItsCalls) {
    RunSpec slow = race_spec(1);
    RunSpec calm = slow;
    calm.faults.disk.call_latency_ms_max = 0;
    std::vector<std::uint64_t> slow_choices;
    std::vector<std::uint64_t> calm_choices;
    (void)run(slow, &slow_choices);
    (void)run(calm, &calm_choices);
    // Every filesystem call of the server draws one; a calm disk's none.
    EXPECT_GT(slow_choices.size(), calm_choices.size() + 15);
}

/// Whether c preloads a file that one client GETs while another PUTs a file
/// of the same size under its name.
bool has_digest_race(const harness::WorkloadCase& c) {
    const harness::TextTable* files = harness::table_param(c.settings, "files");
    if (files == nullptr)
        return false;
    for (const auto& [name, content] : *files) {
        std::set<std::size_t> getters;
        std::set<std::size_t> putters;
        for (std::size_t i = 0; i < c.clients.size(); ++i) {
            for (const harness::Operation& op : c.clients[i].ops) {
                const auto* op_name = harness::find_param(op.params, "name");
                if (op_name == nullptr || std::get<std::string>(*op_name) != name)
                    continue;
                if (op.verb == "get")
                    getters.insert(i);
                if (op.verb == "put" &&
                    harness::count_param(op.params, "size", 0) == content.size())
                    putters.insert(i);
            }
        }
        for (const std::size_t g : getters) {
            if (putters.size() > (putters.count(g) != 0 ? 1u : 0u))
                return true;
        }
    }
    return false;
}

TEST(SlowDisk, TheFerryWorkloadDrawsGetsOfFilesWithoutADigestRacingSameSizePuts) {
    sim::PrngDecisions source(7);
    const harness::Workload& ferry = workloads::builtin_workload("ferry");
    int preloaded = 0;
    int races = 0;
    constexpr int cases = 2000;
    for (int i = 0; i < cases; ++i) {
        const harness::WorkloadCase c = ferry.draw(source, {});
        preloaded += harness::table_param(c.settings, "files") != nullptr ? 1 : 0;
        races += has_digest_race(c) ? 1 : 0;
    }
    EXPECT_GT(preloaded, cases / 6);
    EXPECT_GT(races, cases / 12);
}

}  // namespace
}  // namespace ferry::explore_test
