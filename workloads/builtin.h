#pragma once
// workloads/ — the workloads ferry ships, each in files of its own:
//
//   naive_workload.*  the chapter's chunked upload, bugs included
//   ferry_workload.*  ferry/1: PUT, GET, DIR from concurrent, pipelining,
//                     dishonest and slow clients, server limits at the edges
//
// and examples/kv (a key-value protocol written as a user would write theirs).

#include <string_view>

#include "ferry/harness/workload.h"

namespace ferry::workloads {

/// Adds every workload ferry ships to registry.
void add_builtin_workloads(harness::WorkloadRegistry& registry);

/// A registry of them, made once.
const harness::WorkloadRegistry& builtin_workloads();
/// One of them by name; throws std::invalid_argument for an unknown name.
const harness::Workload& builtin_workload(std::string_view name);

}  // namespace ferry::workloads
