#pragma once
// The one-line text form of a run, what `--replay` takes and every failure
// prints: the workload, its settings, each client in client(...), the
// active fault knobs, the seed and the choices.
//
//   ferry chunk_size=1024 client(put(a.bin,size=1025) get(a.bin)) client(dir)
//       partial_sends=1/8 reset=client:700 seed=12 choices=0,1,3
//
// Text that is not a plain word is quoted ("a b", with \" \\ and \xHH), so
// the whole line fits in single quotes on a shell command line.

#include <optional>
#include <string>
#include <string_view>

#include "ferry/harness/run_spec.h"
#include "ferry/harness/workload.h"

namespace ferry::harness {

std::string value_text(const ParamValue& value);
/// put(a.bin,size=1025): the primary parameter bare when schema names it.
std::string operation_text(const Operation& op, const WorkloadSchema* schema = nullptr);
std::string run_spec_text(const RunSpec& spec, const Workload& workload);

/// Parses a run's text; none and why in error if it is not one. Accepts the
/// older explore form too ("naive size=2 chunk=1024 payload=1 ...": size is
/// the workload's simple case, chunk its chunk_size, payload the seed).
std::optional<RunSpec> parse_run_spec_text(std::string_view text, const WorkloadRegistry& workloads,
                                           std::string* error = nullptr);

}  // namespace ferry::harness
