// The simulator's benchmarks (sim/):
//   BM_SimPut2KiB           a complete simulated ferry/1 PUT of 2 KiB, the
//                           ferry workload's simple case through the one
//                           simulated driver (harness/sim_driver.h): new
//                           simulation, connect, PUT, OK, close, model check
//   BM_RealLoopbackPut2KiB  the same over real 127.0.0.1 sockets, in process
//                           (server on a thread, MemoryStore). Target: the
//                           simulator >= 20x faster, >= 100,000 sessions/s
//   BM_SimBulk256MiB        a simulated 256 MiB PUT with 64 KiB chunks, against
//                           BM_RawLoopback256MiB/65536 (bench/report.py).
//                           The whole run is timed: generating the payload
//                           from the seed and the model's check of the
//                           stored file count too. Each iteration has a seed,
//                           and so a payload, of its own
//   BM_SimBulk1GiB          a simulated 1 GiB PUTS (as ferry put sends it)
//                           and GET; peak_rss_mib is the process's peak, so
//                           run it alone for its figure (target < 64 MiB:
//                           the disk, the model and the client hold the
//                           payload as its generator, sim/compact_bytes.h)
//   BM_SimStall300s         300 s of virtual stall before a PUT completes;
//                           target < 50 ms of wall time

#include <sys/resource.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include <benchmark/benchmark.h>

#include "bench/bench_support.h"
#include "ferry/harness/sim_driver.h"
#include "ferry/protocol/ferry_client.h"
#include "ferry/protocol/ferry_server.h"
#include "ferry/protocol/memory_store.h"
#include "ferry/real/steady_clock.h"
#include "ferry/real/tcp_connection.h"
#include "ferry/real/tcp_listener.h"
#include "ferry/workloads/builtin.h"

namespace ferry::bench {
namespace {

const harness::Workload& ferry_workload() {
    return workloads::builtin_workload("ferry");
}

/// The ferry workload's simple case: one client puts size_bytes (generated
/// from the seed) as payload.bin on an otherwise calm network.
harness::RunSpec simple_put(std::uint64_t size_bytes) {
    harness::RunSpec spec;
    spec.workload = "ferry";
    spec.work = ferry_workload().simple_case(size_bytes);
    return spec;
}

/// Why a run that should pass did not, for SkipWithError.
std::string failure_text(const harness::RunResult& result) {
    if (result.passed())
        return "passed";
    return result.failure->signature() + ": " + result.failure->detail;
}

/// The size of the server's payload.bin afterwards; none if it has none.
std::optional<std::size_t> stored_size(const harness::RunResult& result) {
    if (!result.files)
        return std::nullopt;
    for (const auto& [name, content] : *result.files) {
        if (name == "payload.bin")
            return content.size();
    }
    return std::nullopt;
}

void BM_SimPut2KiB(benchmark::State& state) {
    const harness::Workload& ferry = ferry_workload();
    harness::RunSpec spec = simple_put(2048);
    std::uint64_t seed = 0;
    for (auto _ : state) {
        spec.seed = ++seed;
        const harness::RunResult result = harness::run_on_sim(ferry, spec);
        if (!result.passed() || stored_size(result) != 2048u)
            state.SkipWithError(failure_text(result).c_str());
        benchmark::DoNotOptimize(result.digest);
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
    const harness::Workload& ferry = ferry_workload();
    harness::RunSpec spec = simple_put(size_bytes);
    harness::set_param(spec.work.settings, "chunk_size", std::uint64_t{64 * 1024});
    for (auto _ : state) {
        ++spec.seed;  // a payload of its own: no digest known from the last iteration
        const harness::RunResult result = harness::run_on_sim(ferry, spec);
        if (!result.passed() || stored_size(result) != size_bytes)
            state.SkipWithError(failure_text(result).c_str());
        state.counters["virtual_s"] =
            static_cast<double>(result.end_time.since_epoch.count()) / 1e9;
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size_bytes));
}

void BM_SimBulk1GiB(benchmark::State& state) {
    constexpr std::uint64_t size_bytes = 1024 * mib;
    const harness::Workload& ferry = ferry_workload();
    harness::RunSpec spec;
    spec.workload = "ferry";
    harness::set_param(spec.work.settings, "chunk_size", std::uint64_t{64 * 1024});
    spec.work.clients.push_back(harness::ClientPlan{
        {},
        {harness::Operation{
             "put", {{"name", std::string("big.bin")}, {"size", size_bytes}, {"streamed", true}}},
         harness::Operation{"get", {{"name", std::string("big.bin")}}}}});
    for (auto _ : state) {
        ++spec.seed;  // a payload of its own: no digest known from the last iteration
        const harness::RunResult result = harness::run_on_sim(ferry, spec);
        if (!result.passed())
            state.SkipWithError(failure_text(result).c_str());
    }
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    state.counters["peak_rss_mib"] = static_cast<double>(usage.ru_maxrss) / 1024.0;
    // Up and back down: the payload crosses the simulated network twice.
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * 2 * size_bytes));
}

void BM_SimStall300s(benchmark::State& state) {
    const harness::Workload& ferry = ferry_workload();
    harness::RunSpec spec = simple_put(1024 * 1024);
    sim::StallFault stall;
    stall.side = sim::Side::server;
    stall.after_bytes = 4096;
    stall.duration = std::chrono::seconds(300);
    spec.faults.network.stall = stall;
    // Timeouts past the stall, so the upload waits it out and completes.
    harness::set_param(spec.work.settings, "idle_timeout_ms", std::uint64_t{400'000});
    harness::set_param(spec.work.clients.at(0).options, "timeout_ms", std::uint64_t{400'000});
    for (auto _ : state) {
        const harness::RunResult result = harness::run_on_sim(ferry, spec);
        if (!result.passed() || stored_size(result) != 1024u * 1024u)
            state.SkipWithError(failure_text(result).c_str());
        state.counters["virtual_s"] =
            static_cast<double>(result.end_time.since_epoch.count()) / 1e9;
    }
}

BENCHMARK(BM_SimPut2KiB);
BENCHMARK(BM_RealLoopbackPut2KiB)->UseRealTime();
BENCHMARK(BM_SimBulk256MiB)->Unit(benchmark::kMillisecond)->MinTime(2.0)->UseRealTime();
BENCHMARK(BM_SimBulk1GiB)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();
BENCHMARK(BM_SimStall300s)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ferry::bench
