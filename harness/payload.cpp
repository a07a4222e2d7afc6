#include "ferry/harness/payload.h"

#include <algorithm>
#include <cstring>

#include "ferry/sim/decisions.h"

namespace ferry::harness {

namespace {

/// x86-64 gets an AVX2 clone of the generator, chosen at load time where the
/// CPU has it (the same bytes either way).
#if defined(__x86_64__)
#define FERRY_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define FERRY_AVX2_CLONE
#endif

/// Words [0, count) of splitmix64 from state, in the machine's byte order.
/// Word i is mix(state + (i + 1)·gamma), independent of the others, so the
/// loop vectorises.
FERRY_AVX2_CLONE void fill_words(std::uint64_t state, char* out, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
        const std::uint64_t word = sim::splitmix64_mix(state + (i + 1) * sim::splitmix64_gamma);
        std::memcpy(out + i * sizeof word, &word, sizeof word);
    }
}

}  // namespace

std::string generated_payload(std::uint64_t seed, std::size_t client_index, std::size_t op_index,
                              std::uint64_t size_bytes) {
    std::uint64_t state = seed;
    state = sim::splitmix64(state) ^ (client_index + 1) * 0x9E3779B97F4A7C15ull;
    state = sim::splitmix64(state) ^ (op_index + 1) * 0xBF58476D1CE4E5B9ull;
    std::string bytes(size_bytes, '\0');
    const std::size_t words = bytes.size() / sizeof(std::uint64_t);
    fill_words(state, bytes.data(), words);
    const std::size_t left = bytes.size() % sizeof(std::uint64_t);
    if (left != 0) {
        state += words * sim::splitmix64_gamma;
        const std::uint64_t word = sim::splitmix64(state);
        std::memcpy(bytes.data() + words * sizeof word, &word, left);
    }
    return bytes;
}

}  // namespace ferry::harness
