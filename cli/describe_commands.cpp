// ferry faults, ferry workloads: what a run can be made of, generated from
// the fault-plan table and the workloads' schemas (docs/faults.md and
// docs/workloads.md hold the same text, checked by a test).

#include <memory>

#include <fmt/core.h>

#include "cli/commands.h"
#include "cli/workloads.h"
#include "ferry/harness/fault_plan.h"
#include "ferry/harness/workload.h"

namespace ferry::cli {

namespace {

std::string params_markdown(const std::vector<harness::ParamSpec>& specs) {
    std::string text;
    for (const harness::ParamSpec& p : specs) {
        text +=
            fmt::format("| `{}` | {} | {} |\n", p.key, harness::to_string(p.kind), p.description);
    }
    return text;
}

std::string verbs_markdown(const harness::WorkloadSchema& schema) {
    std::string text;
    for (const harness::VerbSpec& v : schema.verbs) {
        std::string params = v.primary.empty() ? "" : fmt::format("`{}` (first)", v.primary);
        for (const harness::ParamSpec& p : v.params)
            params += fmt::format("{}`{}`", params.empty() ? "" : ", ", p.key);
        text += fmt::format("| `{}` | {} | {} |\n", v.verb, params.empty() ? "—" : params,
                            v.description);
    }
    return text;
}

}  // namespace

std::string workloads_markdown(const harness::WorkloadRegistry& workloads) {
    std::string text;
    for (const auto& w : workloads.all()) {
        const harness::WorkloadSchema& schema = w->schema();
        text += fmt::format("### `{}`\n\n{}.\n\n", w->name(), w->summary());
        if (!schema.settings.empty()) {
            text += fmt::format(
                "Settings (scenario table `[{}]`):\n\n| key | value | meaning |\n"
                "|---|---|---|\n{}\n",
                w->name(), params_markdown(schema.settings));
        }
        if (!schema.client_options.empty()) {
            text += fmt::format(
                "Client options (`[[client]]` keys):\n\n| key | value | meaning |\n"
                "|---|---|---|\n{}\n",
                params_markdown(schema.client_options));
        }
        text += fmt::format(
            "Operations (steps):\n\n| operation | parameters | what it does |\n"
            "|---|---|---|\n{}\n",
            verbs_markdown(schema));
    }
    return text;
}

void add_describe_commands(CLI::App& app, ExitStatus& status) {
    CLI::App* faults = app.add_subcommand(
        "faults", "List the fault knobs a run can turn (the [faults] table, the fault flags)");
    faults->footer("The same table is docs/faults.md.\nExample:\n  ferry faults");
    faults->callback([&status] {
        fmt::print("{}", harness::fault_knobs_markdown());
        status.code = exit_ok;
    });
    CLI::App* workloads =
        app.add_subcommand("workloads", "List the workloads, their settings and their operations");
    workloads->footer("The same text is in docs/workloads.md.\nExample:\n  ferry workloads");
    workloads->callback([&status] {
        fmt::print("{}", workloads_markdown(known_workloads()));
        status.code = exit_ok;
    });
}

}  // namespace ferry::cli
