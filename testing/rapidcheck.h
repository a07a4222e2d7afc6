#pragma once
// rapidcheck generators for simulated tests, over any protocol (target
// ferry::rapidcheck, built when rapidcheck is installed):
//
//   RapidcheckDecisions  the simulator's decision source driven by rapidcheck:
//                        each choice a pick that shrinks to 0, the calm one
//   gen_schedule         a Schedule: choices replayed by sim::RecordedDecisions,
//                        so rapidcheck shrinks the schedule itself (fewer,
//                        smaller, earlier choices)
//   gen_fault_plan       a harness::FaultPlan over chosen knobs, each shrinking
//                        towards calm
//
// A counterexample prints as a fault plan in words and a schedule that
// names its choices off the calm default, not as rows of numbers.

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include <rapidcheck.h>

#include "ferry/harness/fault_plan.h"
#include "ferry/sim/decisions.h"

namespace ferry::testing {

/// Every choice is a rapidcheck pick in [0, option_count): shrinks to 0, the
/// calm default. Use it inside a property (rc::gen::exec, RC_GTEST_PROP).
class RapidcheckDecisions final : public sim::DecisionSource {
  protected:
    std::uint64_t next_choice(std::uint64_t option_count) override {
        return *rc::gen::inRange<std::uint64_t>(0, option_count);
    }
};

/// The choices a simulation replays (sim::RecordedDecisions(schedule.choices));
/// past the end, every choice is the calm default.
struct Schedule {
    std::vector<std::uint64_t> choices;
};

/// Mostly calm choices, some small (cut a little, the second process), a few
/// large (cut a lot; a chance() that fires).
inline rc::Gen<Schedule> gen_schedule() {
    return rc::gen::map(
        rc::gen::container<std::vector<std::uint64_t>>(
            rc::gen::weightedOneOf<std::uint64_t>({{4, rc::gen::just<std::uint64_t>(0)},
                                                   {3, rc::gen::inRange<std::uint64_t>(0, 8)},
                                                   {1, rc::gen::inRange<std::uint64_t>(0, 4096)}})),
        [](std::vector<std::uint64_t> choices) { return Schedule{std::move(choices)}; });
}

/// A plan over the knobs in enabled (harness::all_knobs(), benign_knobs(),
/// parse_knob_list("cuts,latency")), drawn as `ferry explore` draws it, with
/// every draw a rapidcheck pick.
inline rc::Gen<harness::FaultPlan> gen_fault_plan(harness::KnobSet enabled,
                                                  harness::FaultDrawBounds bounds = {}) {
    return rc::gen::exec([=] {
        RapidcheckDecisions picks;
        return harness::draw_fault_plan(picks, enabled, bounds);
    });
}

/// "12 choices, 2 off the calm default: #4 = 3, #9 = 4095".
inline void showValue(const Schedule& schedule, std::ostream& os) {
    std::string off;
    std::size_t off_count = 0;
    for (std::size_t i = 0; i < schedule.choices.size(); ++i) {
        if (schedule.choices[i] == 0)
            continue;
        off += (off_count++ == 0 ? ": #" : ", #") + std::to_string(i + 1) + " = " +
               std::to_string(schedule.choices[i]);
    }
    os << "schedule of " << schedule.choices.size() << " choices, " << off_count
       << " off the calm default" << off;
}

}  // namespace ferry::testing

namespace ferry::harness {

/// "fault plan short_reads=1/2 (a recv returns ...)": its text, then each
/// active knob in words.
inline void showValue(const FaultPlan& plan, std::ostream& os) {
    const std::vector<std::string> words = fault_plan_words(plan);
    if (words.empty()) {
        os << "fault plan: calm (no faults)";
        return;
    }
    os << "fault plan " << fault_plan_text(plan) << ":";
    for (const std::string& sentence : words)
        os << "\n  " << sentence;
}

}  // namespace ferry::harness
