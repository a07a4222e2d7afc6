#pragma once
// A run's result as the commands print it: the outcome in a word or a
// failure's signature, then the detail, the history, the trace's tail, the
// virtual time and the digest.

#include <string>

#include "ferry/harness/run_spec.h"
#include "ferry/harness/workload.h"

namespace ferry::cli {

/// "passed", or the failure's signature: "wrong data (truncated file)".
std::string outcome_text(const harness::RunResult& result);
/// The lines under a run's outcome (all but the outcome and the reproduce
/// line).
void print_run_report(const harness::RunResult& result);
/// A run and its result in words: the case, each fault, the schedule, the
/// outcome and its detail, the history and the trace's tail.
std::string describe_run(const harness::RunSpec& spec, const harness::RunResult& result,
                         const harness::Workload& workload);
/// text with every line indented by prefix.
std::string indented(std::string_view text, std::string_view prefix);

}  // namespace ferry::cli
