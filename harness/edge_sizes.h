#pragma once
// Payload sizes at the edges, where chunked protocols break: 0, 1, 2, C−1,
// C, C+1 and kC±1 for a chunk of C bytes, and whatever edges a workload adds.

#include <cstdint>
#include <set>
#include <vector>

#include "ferry/sim/decisions.h"

namespace ferry::harness {

/// 0, 1, 2, kC−1, kC, kC+1 (k ≤ 64) and size_max, those ≤ size_max, sorted.
std::set<std::uint64_t> chunk_edge_sizes(std::uint64_t chunk_bytes, std::uint64_t size_max);
/// Adds size−1, size and size+1 (those ≤ size_max) to sizes.
void add_around(std::set<std::uint64_t>& sizes, std::uint64_t size, std::uint64_t size_max);
/// Three times in four one of edges, else uniform in [0, size_max].
std::uint64_t draw_size(sim::DecisionSource& source, const std::vector<std::uint64_t>& edges,
                        std::uint64_t size_max);

}  // namespace ferry::harness
