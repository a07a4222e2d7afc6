#pragma once
// How `ferry explore` and `ferry explore merge` report a finding: in words,
// with the command that replays it, and as a scenario file that replays it.

#include <string>

#include "ferry/harness/explore.h"

namespace ferry::cli {

/// "ferry explore --replay '<the run's text>'".
std::string replay_command(const harness::RunSpec& spec, const harness::Workload& workload);
/// FOUND, the case as found, and the minimal case in words with its replay.
void print_finding(const harness::Finding& f, const harness::Workload& workload);
/// Writes the minimal case as folder/<workload>-<failure>.toml, and its views
/// (docs/seeing-a-run.md) beside it as .svg, .pcap and .perfetto.json, and
/// says so.
void save_scenario(const std::string& folder, const harness::Finding& f,
                   const harness::Workload& workload);

}  // namespace ferry::cli
