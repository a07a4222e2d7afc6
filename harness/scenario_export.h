#pragma once
// A failing run as a scenario file: the run exactly (its seed and recorded
// choices, so `ferry scenario run` replays it with the same trace digest)
// judged as explore judged it ([expect] outcome = "allowed"), so the file
// fails until the bug is fixed and passes after.

#include <optional>
#include <string>

#include "ferry/harness/run_spec.h"
#include "ferry/harness/workload.h"

namespace ferry::harness {

/// The scenario text; none and why in why_not when the run cannot be written
/// as TOML (a value that is not valid UTF-8).
std::optional<std::string> scenario_for_run(const RunSpec& spec, const RunResult& result,
                                            const Workload& workload,
                                            std::string* why_not = nullptr);

}  // namespace ferry::harness
