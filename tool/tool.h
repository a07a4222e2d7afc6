#pragma once
// The ferry command line as a library. A project with a protocol of its own
// builds its own ferry executable, which knows that protocol's workloads
// beside ferry's: `explore`, `sim --replay`, `scenario run`, `workloads` and
// every other subcommand work for it as they do for ferry/1.
//
//   int main(int argc, char** argv) {
//       return ferry::tool::run(argc, argv, [](ferry::harness::WorkloadRegistry& workloads) {
//           workloads.add(make_my_workload());
//       });
//   }

#include <functional>

#include "ferry/harness/workload.h"

namespace ferry::tool {

/// Adds a program's own workloads to those the command line knows.
using AddWorkloads = std::function<void(harness::WorkloadRegistry&)>;

/// Runs the ferry command line on argv, knowing ferry's built-in workloads
/// and those add_workloads adds (a name already taken is reported and ends
/// the program with exit code 2). Returns the exit code (docs/scenarios.md:
/// 0 passed, 1 failed, 2 usage, 3 deadlock, 4 time budget). Once per process.
int run(int argc, char** argv, const AddWorkloads& add_workloads = {});

}  // namespace ferry::tool
