// SimFilesystem calls that take virtual time (FsFaults::call_latency_ms_*):
// each call waits as long as the DecisionSource draws before it takes
// effect, other processes run meanwhile, a replay of the recorded choices
// interleaves them the same way, and a calm disk draws nothing.

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ferry/sim/sim_filesystem.h"
#include "ferry/sim/sim_node.h"
#include "ferry/sim/simulation.h"
#include "sim_test_support.h"

namespace ferry::sim {
namespace {

using testing::bytes_of;

FsFaults slow_calls(std::uint64_t min_ms, std::uint64_t max_ms) {
    FsFaults faults;
    faults.call_latency_ms_min = min_ms;
    faults.call_latency_ms_max = max_ms;
    return faults;
}

std::uint64_t ms_now(const Simulation& sim) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(sim.now().since_epoch).count());
}

TEST(SimFilesystemTime, EachCallTakesTheTimeDrawnBeforeItTakesEffect) {
    RecordedDecisions decisions({3, 0, 5, 9});
    Simulation sim({}, decisions);
    SimFilesystem disk(sim, slow_calls(0, 9));
    std::vector<std::uint64_t> at_ms;
    sim.spawn("writer", [&] {
        auto fs = disk.mount();
        auto file = std::move(fs->open("f", FsOpenMode::create_new).value);
        at_ms.push_back(ms_now(sim));
        EXPECT_FALSE(disk.file("g"));
        EXPECT_EQ(file->write(as_bytes(std::string_view("abc"))).value, 3u);
        at_ms.push_back(ms_now(sim));
        EXPECT_EQ(file->set_attribute("k", "v"), 0);
        at_ms.push_back(ms_now(sim));
        EXPECT_EQ(fs->rename("f", "g"), 0);
        at_ms.push_back(ms_now(sim));
    });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_EQ(at_ms, (std::vector<std::uint64_t>{3, 3, 8, 17}));
    EXPECT_TRUE(disk.file("g"));
}

/// A reader opens f, reads it and then looks the name up again, while a
/// writer replaces f (a new file renamed over it): whether the replacement
/// landed between the reader's calls. Also the run's trace digest and its
/// choices.
struct RaceOutcome {
    bool replaced_between = false;
    std::uint64_t digest = 0;
    std::vector<std::uint64_t> choices;
};

RaceOutcome race(DecisionSource& decisions, const FsFaults& faults) {
    RaceOutcome outcome;
    decisions.record_into(&outcome.choices);
    Simulation sim({}, decisions);
    SimFilesystem disk(sim);
    disk.put_durable_file("f", bytes_of("old"));
    disk.set_faults(faults);
    sim.spawn("reader", [&] {
        auto fs = disk.mount();
        auto file = std::move(fs->open("f", FsOpenMode::read).value);
        std::vector<std::byte> buffer(8);
        (void)file->read_at(0, buffer);
        outcome.replaced_between = fs->stat("f").value.file_id != file->stat().value.file_id;
    });
    sim.spawn("writer", [&] {
        auto fs = disk.mount();
        auto file = std::move(fs->open("tmp", FsOpenMode::create_new).value);
        (void)file->write(as_bytes(std::string_view("new")));
        (void)file->close();
        (void)fs->rename("tmp", "f");
    });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
    outcome.digest = sim.trace().digest();
    decisions.record_into(nullptr);
    return outcome;
}

TEST(SimFilesystemTime, OtherProcessesRunBetweenCallsAsDrawnAndAReplayInterleavesAlike) {
    int interleaved = 0;
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        PrngDecisions prng(seed);
        const RaceOutcome drawn = race(prng, slow_calls(0, 3));
        interleaved += drawn.replaced_between ? 1 : 0;
        RecordedDecisions recorded(drawn.choices);
        const RaceOutcome replayed = race(recorded, slow_calls(0, 3));
        EXPECT_EQ(replayed.replaced_between, drawn.replaced_between) << "seed " << seed;
        EXPECT_EQ(replayed.digest, drawn.digest) << "seed " << seed;
        EXPECT_EQ(replayed.choices, drawn.choices) << "seed " << seed;
    }
    // Both orders happen: the seeds reach the interleaving and its absence.
    EXPECT_GT(interleaved, 0);
    EXPECT_LT(interleaved, 40);
}

TEST(SimFilesystemTime, ACalmDiskDrawsNothingAndNeverInterleavesCalls) {
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        PrngDecisions prng(seed);
        const RaceOutcome calm = race(prng, FsFaults{});
        EXPECT_FALSE(calm.replaced_between) << "seed " << seed;
        // Only which process starts first is chosen.
        EXPECT_EQ(calm.choices.size(), 1u) << "seed " << seed;
    }
}

TEST(SimFilesystemTime, AProcessKilledWhileItsCallTakesTimeGetsEioAndUnwinds) {
    Simulation sim({});
    SimFilesystem disk(sim, slow_calls(10, 10));
    SimNode node(sim, "server", &disk);
    int written = -1;
    bool went_on = false;
    node.spawn("writer", [&] {
        auto fs = node.mount();
        auto file = std::move(fs->open("f", FsOpenMode::create_new).value);  // at 10 ms
        written = file->write(as_bytes(std::string_view("abc"))).error;      // killed at 15 ms
        sim.delay(std::chrono::milliseconds(1));                             // unwinds here
        went_on = true;
    });
    sim.spawn("killer", [&] {
        sim.delay(std::chrono::milliseconds(15));
        node.kill();
    });
    EXPECT_EQ(sim.run().status, RunStatus::completed);
    EXPECT_EQ(written, EIO);
    EXPECT_FALSE(went_on);
    EXPECT_EQ(disk.file("f")->size(), 0u);
}

}  // namespace
}  // namespace ferry::sim
