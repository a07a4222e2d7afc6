// Fuzz target: scenario files (harness/scenario.h), parsed as `ferry
// scenario run` parses them, against the builtin workloads.
//
// A ScenarioError is a normal outcome (a bad file, exit 2); a finding is a
// crash, UB, any other exception, an error message that does not name the
// file, a scenario whose seeds run backwards or whose run does not start at
// its first seed, or a run that does not read back from its own text or
// scenario file (run_round_trip.h).

#include <string>

#include "ferry/harness/scenario.h"
#include "ferry/workloads/builtin.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/run_round_trip.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using ferry::fuzz::require;
    const auto& workloads = ferry::workloads::builtin_workloads();
    ferry::harness::Scenario scenario;
    try {
        scenario = ferry::harness::parse_scenario(ferry::fuzz::input_text(data, size), "fuzz.toml",
                                                  workloads);
    } catch (const ferry::harness::ScenarioError& e) {
        require(std::string(e.what()).starts_with("fuzz.toml:"),
                "a scenario error that does not name the file");
        return 0;
    }
    require(scenario.seed_first <= scenario.seed_last, "a scenario's seeds run backwards");
    require(scenario.run.seed == scenario.seed_first, "a scenario's run is not at its first seed");
    require(!scenario.backends.empty(), "a scenario with no backend");
    ferry::fuzz::require_run_round_trips(scenario.run, workloads);
    return 0;
}
