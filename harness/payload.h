#pragma once
// The bytes a workload's operation sends when its case gives only a size:
// generated from the run's seed, the client and the operation, the same on
// both backends and on every machine. They are a stream of the simulator's
// generator (sim/compact_bytes.h), so the simulated disk and the model hold
// a payload of any size in a few words.

#include <cstddef>
#include <cstdint>
#include <string>

#include "ferry/sim/compact_bytes.h"

namespace ferry::harness {

/// The generator state of operation op_index of client client_index.
std::uint64_t generated_payload_state(std::uint64_t seed, std::size_t client_index,
                                      std::size_t op_index);

/// The payload, held as its stream.
sim::CompactBytes generated_content(std::uint64_t seed, std::size_t client_index,
                                    std::size_t op_index, std::uint64_t size_bytes);

/// The payload's bytes.
std::string generated_payload(std::uint64_t seed, std::size_t client_index, std::size_t op_index,
                              std::uint64_t size_bytes);

}  // namespace ferry::harness
