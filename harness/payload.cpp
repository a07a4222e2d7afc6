#include "ferry/harness/payload.h"

#include <span>

#include "ferry/sim/decisions.h"

namespace ferry::harness {

std::uint64_t generated_payload_state(std::uint64_t seed, std::size_t client_index,
                                      std::size_t op_index) {
    std::uint64_t state = seed;
    state = sim::splitmix64(state) ^ (client_index + 1) * 0x9E3779B97F4A7C15ull;
    state = sim::splitmix64(state) ^ (op_index + 1) * 0xBF58476D1CE4E5B9ull;
    return state;
}

sim::CompactBytes generated_content(std::uint64_t seed, std::size_t client_index,
                                    std::size_t op_index, std::uint64_t size_bytes) {
    return sim::CompactBytes::generated(generated_payload_state(seed, client_index, op_index),
                                        size_bytes);
}

std::string generated_payload(std::uint64_t seed, std::size_t client_index, std::size_t op_index,
                              std::uint64_t size_bytes) {
    std::string bytes(size_bytes, '\0');
    sim::fill_generated(generated_payload_state(seed, client_index, op_index), 0,
                        std::as_writable_bytes(std::span(bytes.data(), bytes.size())));
    return bytes;
}

}  // namespace ferry::harness
