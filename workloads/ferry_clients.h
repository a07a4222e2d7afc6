#pragma once
// The ferry workload's client processes: one operation at a time on a
// connection that is dropped after any error or dishonest request, or
// pipelined (a writer process sends every request, a reader process reads
// the replies in order, on one connection).

#include <cstddef>

#include "ferry/workloads/ferry_run_state.h"

namespace ferry::workloads {

/// Spawns client c's process (or its writer and reader when it pipelines).
void spawn_ferry_client(FerryRunState& state, std::size_t client);

}  // namespace ferry::workloads
