#pragma once
// The fault plan's knobs as command-line flags, generated from the table in
// harness/fault_plan.cpp: --partial-sends[=RATIO], --reset SIDE:BYTES, ...
// (each alias a flag too: --latency-ms, --max-send-bytes).

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "ferry/harness/fault_plan.h"

namespace ferry::cli {

/// What the fault flags were given, filled in by CLI11.
struct FaultFlags {
    std::map<std::string, std::string> values;  ///< by knob name
    std::map<std::string, CLI::Option*> options;
};

/// Adds a flag for every knob (and alias) to command.
void add_fault_flags(CLI::App& command, FaultFlags& flags);
/// Sets the knobs given on the command line in plan; returns why not, or none.
std::optional<std::string> apply_fault_flags(const FaultFlags& flags, harness::FaultPlan& plan);
/// The flags that give plan: "--partial-sends 1/8 --reset client:700".
std::string fault_flags_text(const harness::FaultPlan& plan);
/// "--reset" for knob "reset".
std::string flag_name(std::string_view knob_name);

}  // namespace ferry::cli
