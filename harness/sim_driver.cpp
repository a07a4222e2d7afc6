#include "ferry/harness/sim_driver.h"

#include <fmt/core.h>

#include "ferry/harness/sim_world.h"
#include "ferry/harness/value_text.h"
#include "ferry/sim/simulation.h"

namespace ferry::harness {

namespace {

/// The failure a run's end is, if it did not finish.
std::optional<Failure> end_failure(const sim::SimResult& r, const RunSpec& spec) {
    if (r.status == sim::RunStatus::deadlock) {
        return Failure{FailureKind::deadlock, "",
                       "no process can run and nothing is in flight\n" + r.report.text()};
    }
    if (r.status == sim::RunStatus::time_budget_exceeded) {
        return Failure{FailureKind::time_budget, "",
                       fmt::format("still running after {} ms of virtual time\n{}",
                                   whole_ms(spec.time_budget), r.report.text())};
    }
    return std::nullopt;
}

RunResult::End end_of(sim::RunStatus status) {
    switch (status) {
        case sim::RunStatus::completed:
            return RunResult::End::finished;
        case sim::RunStatus::deadlock:
            return RunResult::End::deadlock;
        case sim::RunStatus::time_budget_exceeded:
            return RunResult::End::time_budget;
    }
    return RunResult::End::finished;
}

std::optional<Failure> process_failure(const sim::SimResult& r) {
    if (r.failures.empty())
        return std::nullopt;
    std::string detail;
    for (const sim::ProcessFailure& f : r.failures)
        detail += fmt::format("{}{} threw: {}", detail.empty() ? "" : "; ", f.process, f.message);
    return Failure{FailureKind::process_failed, "", detail};
}

}  // namespace

RunResult run_on_sim(const Workload& workload, const RunSpec& spec,
                     const SimDriverOptions& options) {
    std::optional<sim::RecordedDecisions> replay;
    sim::DecisionSource* decisions = options.decisions;
    if (decisions == nullptr && spec.choices)
        decisions = &replay.emplace(*spec.choices);
    sim::SimOptions sim_options;
    sim_options.seed = spec.seed;
    sim_options.faults = spec.faults.network;
    sim_options.time_budget = spec.time_budget;
    sim_options.drain = true;
    sim::Simulation sim(sim_options, decisions);
    std::vector<std::uint64_t> own_record;
    std::vector<std::uint64_t>* record = options.record ? options.record : &own_record;
    const std::size_t recorded_before = record->size();
    sim.decisions().record_into(record);
    sim.trace().write_json_lines_to(options.trace_json);
    sim.trace().record_into(options.recording);
    if (options.recording != nullptr)
        options.recording->set_receive_window(sim_options.faults.receive_window_bytes,
                                              sim_options.faults.segment_bytes_max);
    sim.trace().set_digest_enabled(options.full_report);
    SimWorld world(sim, spec.faults, spec.seed);

    std::unique_ptr<WorkloadRun> run = workload.start(world, spec.work);
    const sim::SimResult r = sim.run();
    if (options.recording != nullptr) {
        options.recording->finish(sim.trace(), sim.process_count(), r);
        sim.trace().record_into(nullptr);
    }
    RunResult result;
    result.end = end_of(r.status);
    result.digest = r.digest;
    result.events = r.events;
    result.end_time = r.end_time;
    result.choices_used = record->size() - recorded_before;
    if (result.end != RunResult::End::finished) {
        result.deadlock = r.report;
        result.stuck_report = r.report.text();
    }
    // The trace's tail as the run left it, before the check reads the store.
    std::string recent;
    if (options.full_report)
        recent = sim.trace().recent_text(24);
    result.failure = end_failure(r, spec);
    if (!result.failure)
        result.failure = process_failure(r);
    // Every process unwinds, the power goes and the store opens again.
    std::optional<Failure> leftovers = world.finish();
    if (!result.failure)
        result.failure = std::move(leftovers);
    std::optional<Failure> model = run->check(spec.faults, result.end == RunResult::End::finished);
    if (!result.failure)
        result.failure = std::move(model);
    if (result.failure)
        result.recent_events = std::move(recent);
    sim.decisions().record_into(nullptr);
    result.history = run->history().records();
    if (options.full_report)
        result.files = run->files();  // a copy of every file: not for a search
    return result;
}

}  // namespace ferry::harness
