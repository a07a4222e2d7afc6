// Payloads, readers and scratch directories for the benchmarks.

#include "bench/bench_support.h"

#include <stdlib.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <system_error>

namespace ferry::bench {

std::vector<std::byte> random_bytes(std::size_t size_bytes, std::uint64_t seed) {
    std::vector<std::byte> bytes(size_bytes);
    std::uint64_t state = seed;
    for (std::size_t i = 0; i < size_bytes; i += 8) {
        state += 0x9e3779b97f4a7c15ULL;
        std::uint64_t z = state;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        std::memcpy(bytes.data() + i, &z, std::min<std::size_t>(8, size_bytes - i));
    }
    return bytes;
}

RepeatingFileReader::RepeatingFileReader(std::uint64_t size_bytes, std::size_t block_bytes,
                                         std::uint64_t seed)
    : size_bytes_(size_bytes), block_(random_bytes(block_bytes, seed)) {}

std::size_t RepeatingFileReader::read_at(std::uint64_t offset, std::span<std::byte> buffer) const {
    std::size_t done = 0;
    while (done < buffer.size() && offset + done < size_bytes_) {
        const std::uint64_t at = offset + done;
        const std::size_t in_block = at % block_.size();
        const std::size_t n = std::min<std::uint64_t>(
            {buffer.size() - done, block_.size() - in_block, size_bytes_ - at});
        std::memcpy(buffer.data() + done, block_.data() + in_block, n);
        done += n;
    }
    return done;
}

ScratchDir::ScratchDir() {
    const std::filesystem::path base =
        std::filesystem::is_directory("/dev/shm") ? "/dev/shm" : "/tmp";
    std::string pattern = (base / "ferry-bench-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) {
        throw std::system_error(errno, std::generic_category(), "mkdtemp " + pattern);
    }
    path_ = pattern;
}

ScratchDir::~ScratchDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

}  // namespace ferry::bench
