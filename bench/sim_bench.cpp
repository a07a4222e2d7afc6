// The simulator's benchmarks (sim/):
//   BM_SimPut2KiB           a complete simulated ferry/1 PUT of 2 KiB: new
//                           simulation, connect, PUT, OK, close
//   BM_RealLoopbackPut2KiB  the same over real 127.0.0.1 sockets, in process
//                           (server on a thread, MemoryStore). Target: the
//                           simulator >= 20x faster, >= 100,000 sessions/s
//   BM_SimBulk256MiB        a simulated 256 MiB PUT with 64 KiB chunks; target:
//                           at least BM_RawLoopback256MiB/65536's bytes/s
//   BM_SimStall300s         300 s of virtual stall before a PUT completes;
//                           target < 50 ms of wall time

#include <malloc.h>

#ifdef FERRY_WITH_TCMALLOC
#include <gperftools/malloc_extension.h>
#endif

#include <map>
#include <memory>
#include <thread>
#include <vector>

#include <benchmark/benchmark.h>

#include "bench/bench_support.h"
#include "protocol/ferry_client.h"
#include "protocol/ferry_server.h"
#include "protocol/memory_store.h"
#include "real/steady_clock.h"
#include "real/tcp_connection.h"
#include "real/tcp_listener.h"
#include "sim/sim_run.h"

namespace ferry::bench {
namespace {

/// The payload of size_bytes, made once per size (Google Benchmark calls each
/// benchmark function more than once).
std::shared_ptr<const std::vector<std::byte>> shared_payload(std::size_t size_bytes) {
    static std::map<std::size_t, std::shared_ptr<const std::vector<std::byte>>> payloads;
    auto& payload = payloads[size_bytes];
    if (!payload)
        payload = std::make_shared<const std::vector<std::byte>>(random_bytes(size_bytes, 42));
    return payload;
}

void BM_SimPut2KiB(benchmark::State& state) {
    sim::TransferSpec spec;
    spec.protocol = sim::ProtocolKind::ferry;
    spec.size_bytes = 2048;
    spec.payload = shared_payload(spec.size_bytes);
    std::uint64_t seed = 0;
    for (auto _ : state) {
        spec.seed = ++seed;
        const sim::TransferReport report = sim::run_transfer(spec);
        if (report.outcome != sim::Outcome::passed)
            state.SkipWithError(report.detail.c_str());
        benchmark::DoNotOptimize(report.digest);
    }
    state.counters["sessions_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_RealLoopbackPut2KiB(benchmark::State& state) {
    const auto payload = random_bytes(2048, 42);
    const MemoryFileReader reader(payload);
    MemoryStore store;
    TcpListener listener(HostPort{"127.0.0.1", 0}, SteadyClock::instance());
    // One server thread serving the connections one after another, as the
    // simulated server does: no thread per connection to pay for.
    std::thread server([&] {
        while (auto conn = listener.accept()) {
            serve_ferry_connection(*conn, store, FerryServerConfig{});
        }
    });
    for (auto _ : state) {
        auto conn = connect_tcp(listener.local_address(), SteadyClock::instance());
        FerryClient client(*conn);
        const TransferResult result = client.put("payload.bin", reader);
        benchmark::DoNotOptimize(result);
        conn->close();
    }
    listener.interrupt();
    server.join();
    state.counters["sessions_per_s"] =
        benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}

void BM_SimBulk256MiB(benchmark::State& state) {
    constexpr std::size_t size_bytes = 256 * mib;
    sim::TransferSpec spec;
    spec.protocol = sim::ProtocolKind::ferry;
    spec.size_bytes = size_bytes;
    spec.chunk_bytes = 64 * 1024;
    spec.payload = shared_payload(size_bytes);
    spec.check_stored_bytes = false;  // the server's digest check covers them
    // The simulated store keeps all 256 MiB in memory. Let malloc keep the
    // memory between iterations instead of returning it to the kernel and
    // faulting 65,536 fresh pages back in each time: that would time the
    // kernel's page allocator, not the simulator.
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
#ifdef FERRY_WITH_TCMALLOC
    MallocExtension::instance()->SetMemoryReleaseRate(0);  // the same, for tcmalloc
#endif
    for (auto _ : state) {
        const sim::TransferReport report = sim::run_transfer(spec);
        if (report.outcome != sim::Outcome::passed || report.stored_bytes != size_bytes) {
            state.SkipWithError(report.detail.c_str());
        }
        state.counters["virtual_s"] =
            static_cast<double>(report.end_time.since_epoch.count()) / 1e9;
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size_bytes));
}

void BM_SimStall300s(benchmark::State& state) {
    sim::TransferSpec spec;
    spec.protocol = sim::ProtocolKind::ferry;
    spec.size_bytes = 1024 * 1024;
    spec.payload = shared_payload(spec.size_bytes);
    sim::StallFault stall;
    stall.side = sim::Side::server;
    stall.after_bytes = 4096;
    stall.duration = std::chrono::seconds(300);
    spec.faults.stall = stall;
    spec.server_idle_timeout = std::chrono::seconds(400);
    spec.client_timeout = std::chrono::seconds(400);
    for (auto _ : state) {
        const sim::TransferReport report = sim::run_transfer(spec);
        if (report.outcome != sim::Outcome::passed)
            state.SkipWithError(report.detail.c_str());
        state.counters["virtual_s"] =
            static_cast<double>(report.end_time.since_epoch.count()) / 1e9;
    }
}

BENCHMARK(BM_SimPut2KiB);
BENCHMARK(BM_RealLoopbackPut2KiB)->UseRealTime();
BENCHMARK(BM_SimBulk256MiB)->Unit(benchmark::kMillisecond)->MinTime(2.0);
BENCHMARK(BM_SimStall300s)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ferry::bench
