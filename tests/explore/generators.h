#pragma once
// rapidcheck generators for exploration (tests/explore), over the same knobs
// as `ferry explore` (harness/explore.h):
//
//   gen_size      payload sizes biased to the edges (0, 1, C−1, C, C+1, kC±1,
//                 header-line edges), shrinking towards 0
//   gen_faults    a fault plan: harness::draw_faults with every draw a
//                 rapidcheck pick, so each knob shrinks towards calm
//   gen_schedule  a list of choices for a RecordedDecisions: rapidcheck
//                 shrinks the schedule itself (fewer, smaller, earlier choices)
//   gen_case      all three, as an ExploreCase

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <vector>

#include <rapidcheck.h>

#include "harness/explore.h"
#include "sim/decisions.h"

namespace ferry::explore_test {

/// Every choice is a rapidcheck pick in [0, option_count): shrinks to 0, the
/// calm default.
class RapidcheckDecisions final : public sim::DecisionSource {
  protected:
    std::uint64_t next_choice(std::uint64_t option_count) override {
        return *rc::gen::inRange<std::uint64_t>(0, option_count);
    }
};

/// k chunks plus a remainder: 0, anything, 1, C−1, or one of the other
/// edges (header-line edges for ferry/1). In that order, so rapidcheck shrinks
/// towards whole chunks, then fewer of them: a deadlock at kC shrinks to C,
/// a truncation to the smallest remainder that shows it.
inline rc::Gen<std::uint64_t> gen_size(sim::ProtocolKind protocol, std::size_t chunk_bytes,
                                       std::uint64_t size_max) {
    return rc::gen::exec([=] {
        const std::uint64_t chunk = std::max<std::size_t>(chunk_bytes, 1);
        const std::uint64_t chunks = *rc::gen::inRange<std::uint64_t>(0, size_max / chunk + 1);
        std::uint64_t rest = 0;
        switch (*rc::gen::inRange(0, 5)) {
            case 0:
                break;
            case 1:
                rest = *rc::gen::inRange<std::uint64_t>(0, chunk);
                break;
            case 2:
                rest = 1;
                break;
            case 3:
                rest = chunk - 1;
                break;
            default: {
                const auto edges = harness::edge_sizes(protocol, chunk_bytes, size_max);
                return *rc::gen::elementOf(edges);
            }
        }
        return std::min(chunks * chunk + rest, size_max);
    });
}

struct FaultPlan {
    sim::NetworkFaults network;
    sim::StoreFaults store;
};

inline rc::Gen<FaultPlan> gen_faults(harness::FaultSet enabled, std::size_t chunk_bytes,
                                     std::uint64_t size_bytes) {
    return rc::gen::exec([=] {
        FaultPlan plan;
        RapidcheckDecisions picks;
        harness::draw_faults(picks, enabled, chunk_bytes, size_bytes, plan.network, plan.store);
        return plan;
    });
}

/// Mostly calm choices, some small (cut a little, the second process), a few
/// large (cut a lot; a chance() that fires).
inline rc::Gen<std::vector<std::uint64_t>> gen_schedule() {
    return rc::gen::container<std::vector<std::uint64_t>>(
        rc::gen::weightedOneOf<std::uint64_t>({{4, rc::gen::just<std::uint64_t>(0)},
                                               {3, rc::gen::inRange<std::uint64_t>(0, 8)},
                                               {1, rc::gen::inRange<std::uint64_t>(0, 4096)}}));
}

inline rc::Gen<harness::ExploreCase> gen_case(sim::ProtocolKind protocol, harness::FaultSet enabled,
                                              std::size_t chunk_bytes, std::uint64_t size_max) {
    return rc::gen::exec([=] {
        harness::ExploreCase c;
        c.protocol = protocol;
        c.chunk_bytes = chunk_bytes;
        c.size_bytes = *gen_size(protocol, chunk_bytes, size_max);
        c.payload_seed = *rc::gen::inRange<std::uint64_t>(1, 1 << 20);
        const FaultPlan plan = *gen_faults(enabled, chunk_bytes, c.size_bytes);
        c.faults = plan.network;
        c.store_faults = plan.store;
        c.choices = *gen_schedule();
        return c;
    });
}

}  // namespace ferry::explore_test

namespace ferry::harness {

/// How rapidcheck shows a counterexample: the case's replay text.
inline void showValue(const ExploreCase& c, std::ostream& os) {
    os << case_to_text(c);
}

}  // namespace ferry::harness
