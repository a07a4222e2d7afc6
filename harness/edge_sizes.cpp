#include "ferry/harness/edge_sizes.h"

#include <algorithm>

namespace ferry::harness {

void add_around(std::set<std::uint64_t>& sizes, std::uint64_t size, std::uint64_t size_max) {
    for (std::uint64_t s : {size == 0 ? size : size - 1, size, size + 1}) {
        if (s <= size_max)
            sizes.insert(s);
    }
}

std::set<std::uint64_t> chunk_edge_sizes(std::uint64_t chunk_bytes, std::uint64_t size_max) {
    std::set<std::uint64_t> sizes;
    for (std::uint64_t s : {0, 1, 2}) {
        if (s <= size_max)
            sizes.insert(s);
    }
    const std::uint64_t chunk = std::max<std::uint64_t>(chunk_bytes, 1);
    for (std::uint64_t k = 1; k <= 64 && k * chunk <= size_max + 1; ++k)
        add_around(sizes, k * chunk, size_max);
    sizes.insert(size_max);
    return sizes;
}

std::uint64_t draw_size(sim::DecisionSource& source, const std::vector<std::uint64_t>& edges,
                        std::uint64_t size_max) {
    if (!edges.empty() && source.choose(4) != 0)
        return edges[source.choose(edges.size())];
    return source.between(0, size_max);
}

}  // namespace ferry::harness
