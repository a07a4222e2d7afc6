#pragma once
// The invariant the run-text and scenario fuzz targets share: a run read
// from either form prints as text that reads back to the same run, and, when
// it can be written as TOML, as a scenario file that reads back to it too
// (its parameters perhaps in another order, which means the same run).

#include <algorithm>
#include <cstdio>
#include <string>
#include <variant>

#include "ferry/harness/run_text.h"
#include "ferry/harness/scenario.h"
#include "ferry/harness/scenario_export.h"
#include "fuzz/fuzz_check.h"

namespace ferry::fuzz {

namespace detail {

/// params sorted by key from first on, and every table's entries too: the
/// order a scenario file reads them in (a TOML table's keys are sorted),
/// where a run's text keeps the order it was given. Both mean the same run.
inline void sort_params(harness::Params& params, std::size_t first = 0) {
    for (auto& param : params) {
        if (auto* table = std::get_if<harness::TextTable>(&param.value))
            std::sort(table->begin(), table->end());
    }
    if (first < params.size()) {
        std::stable_sort(params.begin() + static_cast<std::ptrdiff_t>(first), params.end(),
                         [](const auto& a, const auto& b) { return a.key < b.key; });
    }
}

/// The run's text with every list of parameters in a scenario file's order.
inline std::string text_in_file_order(harness::RunSpec spec, const harness::Workload& workload) {
    sort_params(spec.work.settings);
    for (auto& client : spec.work.clients) {
        sort_params(client.options);
        for (auto& op : client.ops) {
            const harness::VerbSpec* verb = workload.schema().find_verb(op.verb);
            const bool primary_first = verb != nullptr && !verb->primary.empty() &&
                                       !op.params.empty() && op.params[0].key == verb->primary;
            sort_params(op.params, primary_first ? 1 : 0);
        }
    }
    return harness::run_spec_text(spec, workload);
}

}  // namespace detail

inline void require_run_round_trips(const harness::RunSpec& spec,
                                    const harness::WorkloadRegistry& workloads) {
    const harness::Workload* workload = workloads.find(spec.workload);
    require(workload != nullptr, "a run names a workload the registry does not have");
    const std::string text = harness::run_spec_text(spec, *workload);
    std::string error;
    const auto again = harness::parse_run_spec_text(text, workloads, &error);
    if (!again) {
        std::fprintf(stderr, "printed: %s\nreads back as: %s\n", text.c_str(), error.c_str());
        require(false, "a run's printed text does not read back");
    }
    if (harness::run_spec_text(*again, *workload) != text) {
        std::fprintf(stderr, "printed: %s\nthen: %s\n", text.c_str(),
                     harness::run_spec_text(*again, *workload).c_str());
        require(false, "a run's printed text reads back as another run");
    }

    // A scenario file needs a client, each with a step (docs/scenarios.md);
    // a run's text needs neither, and explore never saves such a run.
    const bool has_idle_client = std::any_of(spec.work.clients.begin(), spec.work.clients.end(),
                                             [](const auto& client) { return client.ops.empty(); });
    if (spec.work.clients.empty() || has_idle_client)
        return;
    const auto file = harness::scenario_for_run(spec, harness::RunResult{}, *workload);
    if (!file)
        return;  // not valid UTF-8: no TOML form, and none is promised
    harness::Scenario scenario;
    try {
        scenario = harness::parse_scenario(*file, "exported.toml", workloads);
    } catch (const harness::ScenarioError& e) {
        std::fprintf(stderr, "exported:\n%s\nreads back as: %s\n", file->c_str(), e.what());
        require(false, "a run's scenario file does not read back");
    }
    const std::string in_file_order = detail::text_in_file_order(spec, *workload);
    if (detail::text_in_file_order(scenario.run, *workload) != in_file_order) {
        std::fprintf(stderr, "printed: %s\nexported and read back: %s\n", in_file_order.c_str(),
                     detail::text_in_file_order(scenario.run, *workload).c_str());
        require(false, "a run's scenario file reads back as another run");
    }
}

}  // namespace ferry::fuzz
