#include "cli/run_report.h"

#include <algorithm>

#include <fmt/core.h>

#include "ferry/harness/run_text.h"
#include "ferry/sim/trace.h"

namespace ferry::cli {

std::string outcome_text(const harness::RunResult& result) {
    if (result.failure)
        return result.failure->signature();
    const bool errors =
        std::any_of(result.history.begin(), result.history.end(),
                    [](const harness::OpRecord& r) { return r.status != harness::OpStatus::ok; });
    return errors ? "passed (with errors its faults excuse)" : "passed";
}

std::string indented(std::string_view text, std::string_view prefix) {
    std::string out;
    while (!text.empty()) {
        const auto end = text.find('\n');
        const std::string_view line = text.substr(0, end);
        out += fmt::format("{}{}\n", prefix, line);
        text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    }
    return out;
}

void print_run_report(const harness::RunResult& result) {
    if (result.failure)
        fmt::print("{}", indented(result.failure->detail, "  "));
    // Even a run that passed may have ended operations in errors its faults
    // excuse: say what each got.
    if (!result.history.empty())
        fmt::print("history:\n{}", harness::history_text(result.history));
    if (result.failure) {
        if (!result.recent_events.empty())
            fmt::print("last events:\n{}", indented(result.recent_events, "  "));
    }
    fmt::print("virtual time: {:.6f} s, events: {}\n",
               static_cast<double>(result.end_time.since_epoch.count()) / 1e9, result.events);
    fmt::print("digest: {}\n", sim::digest_to_hex(result.digest));
}

namespace {

std::string case_words(const harness::RunSpec& spec, const harness::Workload& workload) {
    std::string text;
    for (const harness::Param& p : spec.work.settings)
        text += fmt::format("  setting: {} = {}\n", p.key, harness::value_text(p.value));
    for (std::size_t c = 0; c < spec.work.clients.size(); ++c) {
        const harness::ClientPlan& client = spec.work.clients[c];
        std::string options;
        for (const harness::Param& p : client.options)
            options += fmt::format(" {}={}", p.key, harness::value_text(p.value));
        text += fmt::format("  client {}{}:", c + 1, options);
        for (const harness::Operation& op : client.ops)
            text += " " + harness::operation_text(op, &workload.schema());
        text += "\n";
    }
    return text;
}

std::string schedule_words(const harness::RunSpec& spec, const harness::RunResult& result) {
    std::string choices;
    std::size_t nonzero = 0;
    const std::vector<std::uint64_t> none;
    const auto& list = spec.choices ? *spec.choices : none;
    for (std::size_t i = 0; i < list.size(); ++i) {
        if (list[i] == 0)
            continue;
        if (++nonzero <= 16)
            choices += fmt::format("{}#{}={}", choices.empty() ? "" : ", ", i + 1, list[i]);
        else if (nonzero == 17)
            choices += ", ...";
    }
    if (!spec.choices)
        return fmt::format("  schedule: drawn from seed {}\n", spec.seed);
    if (nonzero == 0) {
        return "  schedule: every choice the calm default (first runnable process, whole sends "
               "and reads, least latency, no fault)\n";
    }
    return fmt::format("  schedule: {} of {} choices differ from the calm default: {}\n", nonzero,
                       result.choices_used, choices);
}

}  // namespace

std::string describe_run(const harness::RunSpec& spec, const harness::RunResult& result,
                         const harness::Workload& workload) {
    std::string text = fmt::format("  workload: {} (seed {})\n", spec.workload, spec.seed);
    text += case_words(spec, workload);
    const std::vector<std::string> faults = harness::fault_plan_words(spec.faults);
    if (faults.empty()) {
        text += "  faults: none (a calm network)\n";
    } else {
        text += fmt::format("  faults ({}):\n", faults.size());
        for (const std::string& line : faults)
            text += fmt::format("    - {}\n", line);
    }
    text += schedule_words(spec, result);
    text += fmt::format("  outcome: {}\n", outcome_text(result));
    if (result.failure)
        text += indented(result.failure->detail, "    ");
    if (result.failure && !result.history.empty())
        text += "  history:\n" + indented(harness::history_text(result.history), "  ");
    if (!result.recent_events.empty())
        text += "  last events:\n" + indented(result.recent_events, "    ");
    return text;
}

}  // namespace ferry::cli
