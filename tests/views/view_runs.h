#pragma once
// Recorded runs of the built-in workloads for the views' tests: the
// chapter's deadlock, ferry/1 under partial sends and short reads, a reset,
// a stall.

#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferry/harness/fault_plan.h"
#include "ferry/harness/sim_driver.h"
#include "ferry/harness/value_text.h"
#include "ferry/sim/recording.h"
#include "ferry/workloads/builtin.h"

namespace ferry::views_test {

struct RecordedRun {
    harness::RunResult result;
    std::unique_ptr<sim::Recording> recording = std::make_unique<sim::Recording>();
};

struct ViewRunSpec {
    std::string_view name;
    std::string_view workload;
    std::uint64_t size_bytes = 0;
    std::uint64_t seed = 1;
    std::vector<std::pair<std::string_view, std::string_view>> knobs;
};

inline harness::RunSpec run_spec_of(const ViewRunSpec& view_run) {
    harness::RunSpec spec;
    spec.workload = std::string(view_run.workload);
    spec.work = workloads::builtin_workload(view_run.workload).simple_case(view_run.size_bytes);
    spec.seed = view_run.seed;
    for (const auto& [key, value] : view_run.knobs) {
        if (auto error = harness::set_fault_knob(spec.faults, key, value))
            throw std::invalid_argument(*error);
    }
    return spec;
}

inline RecordedRun record_run(const ViewRunSpec& view_run) {
    RecordedRun run;
    harness::SimDriverOptions options;
    options.recording = run.recording.get();
    run.result = harness::run_on_sim(workloads::builtin_workload(view_run.workload),
                                     run_spec_of(view_run), options);
    return run;
}

/// A stalled reader with a small receive window: its buffer fills up.
inline ViewRunSpec zero_window_run() {
    return {"zero window",
            "naive",
            20'000,
            4,
            {{"stall", "server:1000+50"}, {"buffers", "2048:2048:1460"}}};
}

/// Runs with partial sends, short reads, a reset, a stall, a full receive
/// buffer and a deadlock.
inline std::vector<ViewRunSpec> view_runs() {
    return {
        {"naive deadlock", "naive", 1024, 1, {}},
        {"partial sends and short reads",
         "ferry",
         300'000,
         3,
         {{"partial_sends", "1/2"}, {"short_reads", "1/2"}}},
        {"reset", "ferry", 200'000, 2, {{"reset", "client:70000"}}},
        {"stall", "naive", 5000, 4, {{"stall", "server:1000+50"}, {"short_reads", "1/3"}}},
        zero_window_run(),
    };
}

/// The bytes each end of each connection put on the wire, by (conn, side).
inline std::map<std::pair<std::uint64_t, std::uint64_t>, std::string> bytes_sent(
    const sim::Recording& recording) {
    std::map<std::pair<std::uint64_t, std::uint64_t>, std::string> sent;
    std::size_t segment = 0;
    for (const sim::TraceEvent& event : recording.events()) {
        if (event.kind != sim::TraceKind::segment)
            continue;
        const auto payload = recording.segment_payload(segment++);
        std::string& out = sent[{event.conn, event.side}];
        for (const std::byte byte : payload)
            out.push_back(static_cast<char>(byte));
    }
    return sent;
}

}  // namespace ferry::views_test
