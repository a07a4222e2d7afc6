#pragma once
// rapidcheck generators for exploring ferry's own workloads (tests/explore),
// over the same knobs as `ferry explore` (harness/explore.h). The generic
// ones (the rapidcheck decision source, schedules, fault plans) are ferry's
// public API, testing/rapidcheck.h; these add what is about transfers:
//
//   gen_size      payload sizes biased to the chunk edges (0, 1, C−1, C,
//                 C+1, kC±1), shrinking towards 0
//   gen_faults    testing::gen_fault_plan, with the draw's bounds
//   gen_run       a workload's drawn case, a fault plan and a schedule, as
//                 a RunSpec (shown as its replay text)

#include <algorithm>
#include <cstdint>
#include <ostream>
#include <vector>

#include <rapidcheck.h>

#include "ferry/harness/edge_sizes.h"
#include "ferry/harness/explore.h"
#include "ferry/harness/run_text.h"
#include "ferry/sim/decisions.h"
#include "ferry/testing/rapidcheck.h"
#include "ferry/workloads/builtin.h"

namespace ferry::explore_test {

/// The workloads ferry ships, by name.
inline const harness::WorkloadRegistry& test_workloads() {
    return workloads::builtin_workloads();
}

inline const harness::Workload& workload_named(std::string_view name) {
    return workloads::builtin_workload(name);
}

using testing::gen_schedule;
using testing::RapidcheckDecisions;

/// k chunks plus a remainder: 0, anything, 1, C−1, or one of the other
/// edges. In that order, so rapidcheck shrinks towards whole chunks, then
/// fewer of them: a deadlock at kC shrinks to C, a truncation to the
/// smallest remainder that shows it.
inline rc::Gen<std::uint64_t> gen_size(std::size_t chunk_bytes, std::uint64_t size_max) {
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
                const auto edges = harness::chunk_edge_sizes(chunk_bytes, size_max);
                return *rc::gen::elementOf(std::vector<std::uint64_t>(edges.begin(), edges.end()));
            }
        }
        return std::min(chunks * chunk + rest, size_max);
    });
}

inline rc::Gen<harness::FaultPlan> gen_faults(harness::KnobSet enabled,
                                              harness::FaultDrawBounds bounds) {
    return testing::gen_fault_plan(enabled, bounds);
}

/// One put of size bytes by the workload's simple case, chunk_size set.
inline harness::RunSpec simple_run(std::string_view workload, std::uint64_t size_bytes,
                                   std::size_t chunk_bytes, std::uint64_t seed = 1) {
    harness::RunSpec spec;
    spec.workload = std::string(workload);
    spec.work = workload_named(workload).simple_case(size_bytes);
    harness::set_param(spec.work.settings, "chunk_size", std::uint64_t{chunk_bytes});
    spec.seed = seed;
    return spec;
}

/// A drawn case of workload with a fault plan over enabled and a schedule.
inline rc::Gen<harness::RunSpec> gen_run(std::string_view workload_name, harness::KnobSet enabled,
                                         harness::DrawOptions draw) {
    const std::string name(workload_name);
    return rc::gen::exec([=] {
        const harness::Workload& workload = workload_named(name);
        harness::RunSpec spec;
        spec.workload = name;
        RapidcheckDecisions picks;
        spec.work = workload.draw(picks, draw);
        spec.faults =
            *gen_faults(enabled & workload.relevant_knobs(),
                        harness::FaultDrawBounds{draw.chunk_bytes,
                                                 workload.bytes_in_play(spec.work), draw.size_max});
        spec.seed = *rc::gen::inRange<std::uint64_t>(1, 1 << 20);
        spec.choices = (*gen_schedule()).choices;
        return spec;
    });
}

}  // namespace ferry::explore_test

namespace ferry::harness {

/// How rapidcheck shows a counterexample: the run's replay text.
inline void showValue(const RunSpec& spec, std::ostream& os) {
    const Workload* workload = explore_test::test_workloads().find(spec.workload);
    os << (workload != nullptr ? run_spec_text(spec, *workload) : spec.workload);
}

}  // namespace ferry::harness
