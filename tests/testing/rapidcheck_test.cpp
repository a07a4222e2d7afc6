// The public rapidcheck generators: counterexamples print in words, and the
// generators shrink towards calm.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ferry/testing/rapidcheck.h"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;

TEST(RapidcheckShow, AScheduleNamesItsChoicesOffTheCalmDefault) {
    EXPECT_EQ(rc::toString(Schedule{{0, 0, 3, 0, 4095}}),
              "schedule of 5 choices, 2 off the calm default: #3 = 3, #5 = 4095");
    EXPECT_EQ(rc::toString(Schedule{}), "schedule of 0 choices, 0 off the calm default");
}

TEST(RapidcheckShow, AFaultPlanIsItsTextAndItsWords) {
    harness::FaultPlan plan;
    plan.network.short_reads = sim::Ratio{1, 8};
    const std::string shown = rc::toString(plan);
    EXPECT_THAT(shown, ::testing::StartsWith("fault plan short_reads=1/8:\n  "));
    EXPECT_THAT(shown, HasSubstr("a recv may return less than is buffered (1/8 of reads)"));
    EXPECT_EQ(rc::toString(harness::FaultPlan{}), "fault plan: calm (no faults)");
}

TEST(RapidcheckGenerators, ShrinkToOneKnobAndOneCalmChoice) {
    const auto knobs = harness::parse_knob_list("cuts,latency");
    ASSERT_TRUE(knobs.has_value());
    // A property that fails on anything but calm: rapidcheck's smallest
    // counterexample is then the calmest plan that is not calm.
    // The last failing case rapidcheck tries is the one it shrank to.
    std::optional<harness::FaultPlan> smallest_plan;
    std::optional<Schedule> smallest_schedule;
    rc::detail::TestParams params;
    params.seed = 1;
    const rc::detail::TestResult result = rc::detail::checkTestable(
        [&] {
            const harness::FaultPlan plan = *gen_fault_plan(*knobs);
            const Schedule schedule = *gen_schedule();
            const bool cut = !harness::is_calm(plan) && !schedule.choices.empty();
            if (cut) {
                smallest_plan = plan;
                smallest_schedule = schedule;
            }
            RC_ASSERT(!cut);
        },
        rc::detail::TestMetadata{}, params);
    rc::detail::FailureResult failure;
    ASSERT_TRUE(result.match(failure)) << "rapidcheck never drew a plan that was not calm";
    ASSERT_TRUE(smallest_plan.has_value());
    EXPECT_EQ(harness::fault_plan_words(*smallest_plan).size(), 1u) << rc::toString(*smallest_plan);
    EXPECT_EQ(rc::toString(*smallest_schedule), "schedule of 1 choices, 0 off the calm default");
}

}  // namespace
}  // namespace ferry::testing
