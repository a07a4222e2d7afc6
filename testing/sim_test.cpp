#include "ferry/testing/sim_test.h"

#include <memory>
#include <sstream>
#include <vector>

#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include "ferry/harness/fault_plan.h"
#include "ferry/sim/trace.h"

namespace ferry::testing {

namespace {

/// How much of the trace a failure shows.
constexpr std::size_t trace_tail_events = 16;

/// Holds back the GoogleTest failures of one seed's run, so the runner can
/// tell whether this seed failed (also under a spy such as
/// EXPECT_NONFATAL_FAILURE), then hands them on to the reporter before it.
class SeedFailures {
  public:
    SeedFailures()
        : collector_(std::make_unique<::testing::ScopedFakeTestPartResultReporter>(
              ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD,
              &parts_)) {}
    SeedFailures(const SeedFailures&) = delete;
    SeedFailures& operator=(const SeedFailures&) = delete;
    ~SeedFailures() { release(); }

    /// Stops holding back and reports what was held; whether any failed.
    bool release() {
        if (!collector_)
            return false;
        collector_.reset();
        bool failed = false;
        for (int i = 0; i < parts_.size(); ++i) {
            const ::testing::TestPartResult& part = parts_.GetTestPartResult(i);
            failed = failed || part.failed();
            GTEST_MESSAGE_AT_(part.file_name(), part.line_number(), part.message(), part.type());
        }
        return failed;
    }

  private:
    ::testing::TestPartResultArray parts_;
    std::unique_ptr<::testing::ScopedFakeTestPartResultReporter> collector_;
};

/// A failure for each way the run itself went wrong.
void check_result(const SimTest& test, const sim::SimResult& result) {
    if (result.status != test.expected_status) {
        ADD_FAILURE() << "the run ended in " << sim::to_string(result.status) << ", expected "
                      << sim::to_string(test.expected_status)
                      << (result.report.blocked.empty() ? "" : ":\n" + result.report.text());
    }
    if (!test.process_failures_expected) {
        for (const sim::ProcessFailure& failure : result.failures)
            ADD_FAILURE() << "process '" << failure.process << "' threw: " << failure.message
                          << "\n(set SimTest::process_failures_expected if it should)";
    }
}

/// One run of body on seed, checked; whether it passed. The run stays for
/// the report.
bool run_once(const SimTest& test, std::uint64_t seed, const std::function<void(SeedRun&)>& body,
              std::unique_ptr<SeedRun>& run) {
    sim::SimOptions options = test.options;
    options.seed = seed;
    run = std::make_unique<SeedRun>(options);
    SeedFailures failures;
    body(*run);
    if (!run->finished()) {
        ADD_FAILURE() << "the test body returned without calling SeedRun::finish(): its "
                         "processes would outlive what they use";
        run->finish();
    }
    check_result(test, run->result());
    return !failures.release();
}

/// "fault plan: short_reads=1/2" and a line of words per active knob.
std::string fault_plan_in_words(const sim::NetworkFaults& faults) {
    harness::FaultPlan plan;
    plan.network = faults;
    const std::vector<std::string> words = harness::fault_plan_words(plan);
    if (words.empty())
        return "fault plan: calm (no faults)\n";
    std::string text = "fault plan: " + harness::fault_plan_text(plan) + "\n";
    for (const std::string& sentence : words)
        text += "  " + sentence + "\n";
    return text;
}

void report_failing_seed(const SimTest& test, SeedRun& run, std::string_view what) {
    ADD_FAILURE() << "ferry: seed " << run.seed() << " " << what << "\n"
                  << fault_plan_in_words(test.options.faults) << "trace tail:\n"
                  << run.sim().trace().recent_text(trace_tail_events)
                  << "result: " << run.result().summary() << "\n"
                  << "replay: " << replay_command(run.seed());
}

/// Whether seed passes, twice over with the determinism check.
bool seed_passes(const SimTest& test, std::uint64_t seed,
                 const std::function<void(SeedRun&)>& body) {
    std::unique_ptr<SeedRun> first;
    if (!run_once(test, seed, body, first)) {
        report_failing_seed(test, *first, "failed");
        return false;
    }
    if (!test.check_determinism)
        return true;
    std::unique_ptr<SeedRun> second;
    if (!run_once(test, seed, body, second)) {
        report_failing_seed(test, *second, "passed once, then failed when run again");
        return false;
    }
    if (second->result().digest != first->result().digest) {
        const std::string what = "is not deterministic: its trace digest was " +
                                 sim::digest_to_hex(first->result().digest) + ", then " +
                                 sim::digest_to_hex(second->result().digest) +
                                 " (does the test read a clock, a global or a random device, "
                                 "or keep state between runs?)";
        report_failing_seed(test, *second, what);
        return false;
    }
    return true;
}

}  // namespace

const sim::SimResult& SeedRun::finish() {
    if (!result_) {
        result_ = sim_.run();
        sim_.stop_processes();
    }
    return *result_;
}

std::optional<std::uint64_t> SimTest::run(const std::function<void(SeedRun&)>& body) const {
    std::string error;
    const std::optional<SeedRange> range = seeds_from_environment(seeds, &error);
    if (!range) {
        ADD_FAILURE() << error;
        return std::nullopt;
    }
    for (std::uint64_t seed = range->first;; ++seed) {
        if (!seed_passes(*this, seed, body))
            return seed;
        if (seed == range->last)
            return std::nullopt;
    }
}

std::string replay_command(std::uint64_t seed) {
    std::ostringstream command;
    command << "FERRY_SEED=" << seed;
    const std::vector<std::string> argv = ::testing::internal::GetArgvs();
    command << " " << (argv.empty() ? "<test program>" : argv.front());
    const ::testing::TestInfo* info = ::testing::UnitTest::GetInstance()->current_test_info();
    if (info == nullptr)
        return command.str();
    const std::string suite = info->test_suite_name();
    const std::string name = info->name();
    command << " --gtest_filter=" << suite << "." << name;
    if (suite.starts_with("DISABLED_") || name.starts_with("DISABLED_"))
        command << " --gtest_also_run_disabled_tests";
    return command.str();
}

}  // namespace ferry::testing
