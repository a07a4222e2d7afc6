#pragma once
// testing/ — ferry's public API for testing a protocol of one's own under the
// simulator with GoogleTest.
//
//   sim_test.h     SimTest: runs a test body over seeds (FERRY_SEED,
//                  FERRY_SEEDS), checks each run, checks determinism, and on
//                  a failure prints the seed, the fault plan in words, the
//                  trace's tail and the command that replays it (this file)
//   seed_range.h   SeedRange and the FERRY_SEED / FERRY_SEEDS variables
//   spawn_pair.h   spawn_pair: a server that accepts, a client that connects
//   print.h        PrintTo for SimResult and RunStatus
//   rapidcheck.h   generators of fault plans and schedules for rapidcheck,
//                  printed readably (target ferry::rapidcheck)
//
//   TEST(Greeting, SurvivesShortReads) {
//       ferry::testing::SimTest test;
//       test.options.faults.short_reads = ferry::sim::always;
//       test.run([](ferry::testing::SeedRun& run) {
//           std::string reply;
//           ferry::testing::spawn_pair(run.sim(), serve_greeting,
//                                      [&](ferry::Connection& c) { reply = greet(c, "ada"); });
//           run.finish();
//           EXPECT_EQ(reply, "HI ada");
//       });
//   }

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "ferry/sim/simulation.h"
#include "ferry/testing/print.h"
#include "ferry/testing/seed_range.h"

namespace ferry::testing {

/// One seed's simulation, handed to the test body.
class SeedRun {
  public:
    explicit SeedRun(const sim::SimOptions& options) : sim_(options) {}

    sim::Simulation& sim() { return sim_; }
    std::uint64_t seed() const { return sim_.options().seed; }
    /// Runs the simulation to its end and unwinds whatever is still blocked
    /// (daemons), so nothing runs after the body returns; the result is
    /// checked by SimTest. Call it once, before checking what the processes
    /// left behind.
    const sim::SimResult& finish();
    bool finished() const { return result_.has_value(); }
    /// After finish().
    const sim::SimResult& result() const { return *result_; }

  private:
    sim::Simulation sim_;
    std::optional<sim::SimResult> result_;
};

struct SimTest {
    /// The simulation's options: faults, time budget, drain. The seed is
    /// each run's own.
    sim::SimOptions options;
    /// The seeds run when neither FERRY_SEED nor FERRY_SEEDS is set.
    SeedRange seeds{1, 100};
    /// Every seed twice, their trace digests compared: the same seed must
    /// give the same run, or no failure could be replayed.
    bool check_determinism = true;
    /// How a run must end; a deadlock test says RunStatus::deadlock.
    sim::RunStatus expected_status = sim::RunStatus::completed;
    /// A process that throws fails the test unless this is set.
    bool process_failures_expected = false;

    /// Runs body once per seed (twice with the determinism check), each time
    /// on a fresh Simulation, until a seed fails: a GoogleTest failure in the
    /// body or its processes, a run that ends otherwise than
    /// expected_status, a process that threw, or a second run that differs.
    /// Then it adds one failure with the seed, the fault plan in words, the
    /// trace's tail and the replay command, and returns that seed (none
    /// when every seed passed or FERRY_SEED/FERRY_SEEDS was not valid).
    std::optional<std::uint64_t> run(const std::function<void(SeedRun&)>& body) const;
};

/// "FERRY_SEED=17 ./my_test --gtest_filter=Suite.Name" for the running test.
std::string replay_command(std::uint64_t seed);

}  // namespace ferry::testing
