#include "ferry/harness/scenario_export.h"

#include <fmt/core.h>

#include "ferry/harness/command_name.h"

#include "ferry/harness/run_text.h"
#include "ferry/harness/run_toml.h"
#include "ferry/sim/trace.h"

namespace ferry::harness {

std::optional<std::string> scenario_for_run(const RunSpec& spec, const RunResult& result,
                                            const Workload& workload, std::string* why_not) {
    const auto run = run_spec_toml(spec, workload, why_not);
    if (!run)
        return std::nullopt;
    const std::string what = result.failure ? result.failure->signature() : "passed";
    std::string text;
    text += fmt::format("# Found by {} explore: {}.\n", command_name(), what);
    text += fmt::format("# Replay exactly: {} explore --replay '{}'\n", command_name(),
                        run_spec_text(spec, workload));
    text += fmt::format(
        "# Trace digest when saved: {}. The file expects what the workload's model\n"
        "# allows, so `{} scenario run` fails on it until the bug is fixed.\n",
        sim::digest_to_hex(result.digest), command_name());
    text += fmt::format("name = {}\n",
                        toml_string(fmt::format("explore: {}", what)).value_or("\"explore\""));
    text += "backends = [\"sim\"]\n";
    text += *run;
    text += "\n[expect]\noutcome = \"allowed\"\n";
    return text;
}

}  // namespace ferry::harness
