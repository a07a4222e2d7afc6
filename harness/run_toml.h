#pragma once
// The TOML form of a run, what a scenario file holds (docs/scenarios.md):
// the workload, the seed or the choices, the [faults] table (the knob
// table's TOML forms), the workload's settings in a table named after it,
// and [[client]] tables with their steps. Reading is in scenario.cpp.

#include <optional>
#include <string>
#include <string_view>

#include "ferry/harness/run_spec.h"
#include "ferry/harness/workload.h"

namespace ferry::harness {

/// text as a TOML basic string; none when it is not valid UTF-8 (a TOML file
/// cannot hold it).
std::optional<std::string> toml_string(std::string_view text);
/// A knob's value as TOML.
std::string toml_knob_value(const KnobValue& value);
/// A parameter's value as TOML; none when it holds text TOML cannot.
std::optional<std::string> toml_param_value(const ParamValue& value);

/// The run's lines of a scenario file (without name, backends and
/// [expect]); none and why in why_not when a value cannot be written.
std::optional<std::string> run_spec_toml(const RunSpec& spec, const Workload& workload,
                                         std::string* why_not = nullptr);

}  // namespace ferry::harness
