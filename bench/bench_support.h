#pragma once
// bench/ — Google Benchmark programs for ferry (one executable, ferry_bench).
//
//   bench_support.*        payloads, FileReaders over memory, scratch dirs on tmpfs
//   transfer_bench.cpp     BM_RealPut256MiB against BM_RawLoopback256MiB
//   server_rss_bench.cpp   BM_ServerPeakRss1GiB: a `ferry serve` child's VmHWM
//   sim_bench.cpp          (sim/'s, when present)
//   sim_scale_bench.cpp    BM_SimScale/N: N simulated clients, CPU time per client
//   abuse_bench.cpp        ferry serve under 300 slow clients: a fresh client's
//                          wait, and 1,000 concurrent uploads verified

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "ferry/protocol/span_reader.h"
#include "ferry/protocol/store.h"

namespace ferry::bench {

inline constexpr std::uint64_t mib = 1024 * 1024;

/// Reproducible pseudo-random bytes (splitmix64), so runs compare.
std::vector<std::byte> random_bytes(std::size_t size_bytes, std::uint64_t seed);

/// A FileReader over bytes in memory: what the raw benchmark sends too.
using MemoryFileReader = SpanReader;

/// A FileReader of size_bytes whose content is a repeated random block, so a
/// 1 GiB upload needs only the block in memory.
class RepeatingFileReader : public FileReader {
  public:
    RepeatingFileReader(std::uint64_t size_bytes, std::size_t block_bytes, std::uint64_t seed);
    std::uint64_t size_bytes() const override { return size_bytes_; }
    std::size_t read_at(std::uint64_t offset, std::span<std::byte> buffer) const override;

  private:
    std::uint64_t size_bytes_;
    std::vector<std::byte> block_;
};

/// A fresh directory under /dev/shm (tmpfs; /tmp when there is none),
/// removed with everything in it on destruction.
class ScratchDir {
  public:
    ScratchDir();
    ~ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const { return path_; }

  private:
    std::filesystem::path path_;
};

}  // namespace ferry::bench
