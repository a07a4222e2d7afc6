#pragma once
// The workloads the ferry executable knows: ferry's own (workloads/) and the
// key-value example (examples/kv).

#include <string>

#include "ferry/harness/workload.h"

namespace ferry::cli {

const harness::WorkloadRegistry& known_workloads();
/// Each workload's summary, settings, client options and operations, as
/// Markdown (docs/workloads.md).
std::string workloads_markdown(const harness::WorkloadRegistry& workloads);

}  // namespace ferry::cli
