#pragma once
// The workloads the command line knows: ferry's own (workloads/) and those
// the program adds through tool::run (the ferry executable adds the
// key-value example's, examples/kv).

#include <string>

#include "ferry/harness/workload.h"

namespace ferry::cli {

/// The registry tool::run adds a program's workloads to, before any command
/// reads it.
harness::WorkloadRegistry& workload_registry();
const harness::WorkloadRegistry& known_workloads();
/// Each workload's summary, settings, client options and operations, as
/// Markdown (docs/workloads.md).
std::string workloads_markdown(const harness::WorkloadRegistry& workloads);

}  // namespace ferry::cli
