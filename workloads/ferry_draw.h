#pragma once
// Drawing the ferry workload's cases for explore: clients, operations,
// dishonest variants and server limits at the edges of what was drawn.

#include <cstdint>
#include <vector>

#include "ferry/harness/workload.h"

namespace ferry::workloads {

/// Payload sizes at the edges for ferry/1 with chunk C: the chunk edges,
/// and the sizes at which a PUT's header line and its body fill a chunk
/// exactly (and one byte either side).
std::vector<std::uint64_t> ferry_edge_sizes(std::uint64_t chunk_bytes, std::uint64_t size_max);

harness::WorkloadCase draw_ferry_case(sim::DecisionSource& source,
                                      const harness::DrawOptions& options);

}  // namespace ferry::workloads
