#pragma once
// The bytes a workload's operation sends when its case gives only a size:
// generated from the run's seed, the client and the operation, the same on
// both backends and on every machine.

#include <cstddef>
#include <cstdint>
#include <string>

namespace ferry::harness {

std::string generated_payload(std::uint64_t seed, std::size_t client_index, std::size_t op_index,
                              std::uint64_t size_bytes);

}  // namespace ferry::harness
