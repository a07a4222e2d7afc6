// Exploration benchmarks (harness/explore.h, `ferry explore`):
//   BM_ExploreNaiveFindsChapterBugs  the naive workload from seed 1: wall time
//                                    until the deadlock and the truncation are
//                                    found and shrunk; targets < 1 s and < 5 s;
//                                    counters give the minimal cases' bytes
//                                    and fault knobs
//   BM_ExploreFerryAllFaults         the ferry workload under every fault knob,
//                                    payloads <= 4 KiB: runs/s (target >=
//                                    50,000), runs per CPU second and
//                                    simulated events per run
//   BM_ExploreFerryCalm              the same with no faults: the floor
//   BM_ExploreStrategyRunsToFind     random vs PCT (scheduler) vs PCT (calm
//                                    stream): mean runs until the first deadlock
//                                    and truncation over 20 seeds, all faults
//                                    or short reads only
//   BM_ReplayMinimalCase             replaying a shrunk case from its text
//                                    (target < 1 s)
//   BM_ExploreJobs/jobs:N            `ferry explore --workload ferry` as the
//                                    CLI runs it, on N threads: runs per wall
//                                    second (target: 2 jobs >= 1.8x 1 job)
//   BM_ExploreTwoProcesses           the same runs as two single-threaded
//                                    processes side by side (two --shard
//                                    processes): what the machine gives two
//                                    independent explorations
//   BM_SpinCeiling/threads:N         N threads of pure arithmetic, no memory:
//                                    what the machine gives two cores at all
//   BM_MemoryCeiling/threads:N       N threads each chasing pointers through
//                                    a private 8 MiB (past L2, within L3):
//                                    what it gives two threads that wait on
//                                    memory
//   BM_CopyCeiling/threads:N         N threads each copying a private 1 MiB
//                                    buffer (within L2) over and over: what it
//                                    gives two threads that move bytes, as a
//                                    simulation's segments, buffers and
//                                    allocations do
//                                    (bench/sim_report.py --scaling prints
//                                    the ratios)

#include <sys/wait.h>
#include <unistd.h>

#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "ferry/harness/explore.h"
#include "ferry/harness/run_text.h"
#include "ferry/harness/sim_driver.h"
#include "ferry/sim/decisions.h"
#include "ferry/workloads/builtin.h"

namespace ferry::bench {
namespace {

// The chapter's bugs as explore names them: kind (tag).
constexpr std::string_view deadlock_signature = "deadlock";
constexpr std::string_view truncation_signature = "wrong data (truncated file)";

const harness::WorkloadRegistry& registry() {
    return workloads::builtin_workloads();
}

const harness::Workload& workload(std::string_view name) {
    const harness::Workload* w = registry().find(name);
    if (w == nullptr)
        throw std::logic_error(fmt::format("no workload {}", name));
    return *w;
}

const harness::Finding* find(const harness::ExploreSummary& summary, std::string_view signature) {
    for (const auto& f : summary.findings) {
        if (f.minimal_result.failure && f.minimal_result.failure->signature() == signature)
            return &f;
    }
    return nullptr;
}

/// The bytes the run's operations move (a minimal chapter case has one put).
double case_bytes(const harness::RunSpec& spec) {
    std::uint64_t bytes = 0;
    for (const auto& client : spec.work.clients) {
        for (const auto& op : client.ops)
            bytes += harness::count_param(op.params, "size", 0);
    }
    return static_cast<double>(bytes);
}

/// How many fault knobs the run turns.
double fault_count(const harness::RunSpec& spec) {
    return std::popcount(harness::active_knobs(spec.faults));
}

void BM_ExploreNaiveFindsChapterBugs(benchmark::State& state) {
    harness::ExploreOptions options;
    options.seed = 1;
    options.runs = 1'000'000;
    options.keep_going = true;
    options.stop_when_found = {std::string(deadlock_signature), std::string(truncation_signature)};
    const harness::Workload& naive = workload("naive");
    harness::ExploreSummary summary;
    for (auto _ : state) {
        summary = harness::explore(naive, options);
        benchmark::DoNotOptimize(summary.runs);
    }
    const harness::Finding* deadlock = find(summary, deadlock_signature);
    const harness::Finding* truncated = find(summary, truncation_signature);
    if (deadlock == nullptr || truncated == nullptr) {
        state.SkipWithError("a chapter bug was not found");
        return;
    }
    // Found and shrunk: the finding is recorded after its shrinking.
    state.counters["deadlock_found_s"] = deadlock->seconds;
    state.counters["deadlock_min_size"] = case_bytes(deadlock->minimal);
    state.counters["deadlock_min_faults"] = fault_count(deadlock->minimal);
    state.counters["truncation_found_s"] = truncated->seconds;
    state.counters["truncation_min_size"] = case_bytes(truncated->minimal);
    state.counters["truncation_min_faults"] = fault_count(truncated->minimal);
    state.counters["runs"] = static_cast<double>(summary.runs);
}

void explore_ferry(benchmark::State& state, harness::KnobSet faults) {
    harness::ExploreOptions options;
    options.faults = faults;
    options.draw.size_max = 4096;
    options.runs = static_cast<std::uint64_t>(state.range(0));
    const harness::Workload& ferry = workload("ferry");
    std::uint64_t runs = 0;
    std::uint64_t events = 0;
    double seconds = 0;
    double cpu_seconds = 0;
    std::string found;
    for (auto _ : state) {
        const harness::ExploreSummary summary = harness::explore(ferry, options);
        runs += summary.runs;
        events += summary.events;
        seconds += summary.seconds;
        cpu_seconds += summary.cpu_seconds;
        if (!summary.findings.empty() && found.empty())
            found = harness::run_spec_text(summary.findings.front().minimal, ferry);
        ++options.seed;
    }
    if (!found.empty()) {
        const std::string error = "ferry/1 failed a property: ferry sim --run '" + found + "'";
        state.SkipWithError(error.c_str());
    }
    // By explore's own clocks: wall time, and this process's CPU time (which
    // differ when the machine is busy).
    state.counters["runs_per_s"] = static_cast<double>(runs) / std::max(seconds, 1e-9);
    state.counters["runs_per_cpu_s"] = static_cast<double>(runs) / std::max(cpu_seconds, 1e-9);
    state.counters["events_per_run"] =
        static_cast<double>(events) / static_cast<double>(std::max<std::uint64_t>(runs, 1));
}

void BM_ExploreFerryAllFaults(benchmark::State& state) {
    explore_ferry(state, harness::all_knobs());
}

void BM_ExploreFerryCalm(benchmark::State& state) {
    explore_ferry(state, harness::KnobSet{0});
}

void BM_ExploreStrategyRunsToFind(benchmark::State& state) {
    // 0 random, 1 PCT over the scheduler, 2 PCT over the whole choice stream.
    const auto strategy = state.range(0) == 0 ? harness::Strategy::random : harness::Strategy::pct;
    const bool calm_data = state.range(0) == 2;
    const std::string_view knobs = state.range(1) == 0 ? "all" : "short_reads";
    constexpr std::uint64_t seeds = 20;
    constexpr std::uint64_t runs_max = 100'000;
    const harness::Workload& naive = workload("naive");
    double deadlock_runs = 0;
    double truncation_runs = 0;
    for (auto _ : state) {
        deadlock_runs = 0;
        truncation_runs = 0;
        for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
            harness::ExploreOptions options;
            options.strategy = strategy;
            options.seed = seed;
            options.runs = runs_max;
            options.keep_going = true;
            options.shrink = false;
            options.pct_calm_data = calm_data;
            options.faults = harness::parse_knob_list(knobs).value();
            options.stop_when_found = {std::string(deadlock_signature),
                                       std::string(truncation_signature)};
            const harness::ExploreSummary summary = harness::explore(naive, options);
            const harness::Finding* d = find(summary, deadlock_signature);
            const harness::Finding* t = find(summary, truncation_signature);
            deadlock_runs +=
                d ? static_cast<double>(d->run_index + 1) : static_cast<double>(runs_max);
            truncation_runs +=
                t ? static_cast<double>(t->run_index + 1) : static_cast<double>(runs_max);
        }
    }
    state.SetLabel(
        fmt::format("{} faults={}", calm_data ? "pct-calm" : harness::to_string(strategy), knobs));
    state.counters["deadlock_mean_runs"] = deadlock_runs / seeds;
    state.counters["truncation_mean_runs"] = truncation_runs / seeds;
}

void BM_ReplayMinimalCase(benchmark::State& state) {
    // The chapter's truncation as explore shrinks and prints it: two bytes,
    // one short read (in the older form: "naive size=2 chunk=1024
    // payload=7960286522194355700 short_reads=1/8 choices=0,7,1").
    constexpr std::string_view text =
        "naive chunk_size=1024 client(put(upload.bin,size=2)) short_reads=1/8 "
        "seed=7960286522194355700 choices=0,7,1";
    std::string error;
    const auto spec = harness::parse_run_spec_text(text, registry(), &error);
    if (!spec) {
        state.SkipWithError(error.c_str());
        return;
    }
    const harness::Workload& w = workload(spec->workload);
    for (auto _ : state) {
        const harness::RunResult result = harness::run_on_sim(w, *spec);
        if (!result.failure || result.failure->signature() != truncation_signature)
            state.SkipWithError("the minimal case no longer fails");
        benchmark::DoNotOptimize(result.digest);
    }
}

constexpr std::uint64_t jobs_bench_runs = 40'000;

/// `ferry explore --workload ferry --runs R` with the CLI's defaults.
harness::ExploreOptions cli_ferry_options(std::uint64_t runs) {
    harness::ExploreOptions options;
    options.runs = runs;
    return options;
}

void BM_ExploreJobs(benchmark::State& state) {
    harness::ExploreOptions options = cli_ferry_options(jobs_bench_runs);
    options.jobs = static_cast<std::uint64_t>(state.range(0));
    const harness::Workload& ferry = workload("ferry");
    std::uint64_t runs = 0;
    for (auto _ : state) {
        const harness::ExploreSummary summary = harness::explore(ferry, options);
        if (!summary.findings.empty()) {
            state.SkipWithError("ferry/1 failed a property");
            return;
        }
        runs += summary.runs;
    }
    state.counters["runs_per_s"] =
        benchmark::Counter(static_cast<double>(runs), benchmark::Counter::kIsRate);
}

/// Runs body in count child processes at once; false if any failed.
template <typename Body>
bool in_processes(int count, Body body) {
    std::vector<pid_t> children;
    for (int k = 0; k < count; ++k) {
        const pid_t pid = fork();
        if (pid == 0)
            _exit(body(k) ? 0 : 1);
        children.push_back(pid);
    }
    bool all_passed = true;
    for (const pid_t pid : children) {
        int status = 0;
        all_passed = waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
                     WEXITSTATUS(status) == 0 && all_passed;
    }
    return all_passed;
}

void BM_ExploreTwoProcesses(benchmark::State& state) {
    const harness::Workload& ferry = workload("ferry");
    for (auto _ : state) {
        const auto start = std::chrono::steady_clock::now();
        const bool passed = in_processes(2, [&](int shard) {
            harness::ExploreOptions options = cli_ferry_options(jobs_bench_runs);
            options.shard_index = static_cast<std::uint64_t>(shard);
            options.shard_count = 2;
            return harness::explore(ferry, options).findings.empty();
        });
        state.SetIterationTime(
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
        if (!passed) {
            state.SkipWithError("a shard failed");
            return;
        }
    }
    state.counters["runs_per_s"] = benchmark::Counter(
        static_cast<double>(jobs_bench_runs * state.iterations()), benchmark::Counter::kIsRate);
}

void BM_SpinCeiling(benchmark::State& state) {
    const auto threads = static_cast<std::size_t>(state.range(0));
    constexpr std::uint64_t steps = 200'000'000;
    for (auto _ : state) {
        std::vector<std::thread> spinners;
        for (std::size_t t = 0; t < threads; ++t) {
            spinners.emplace_back([t] {
                std::uint64_t x = t + 1;
                for (std::uint64_t i = 0; i < steps; ++i) {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                }
                benchmark::DoNotOptimize(x);
            });
        }
        for (std::thread& spinner : spinners)
            spinner.join();
    }
    state.counters["steps_per_s"] = benchmark::Counter(
        static_cast<double>(steps * threads), benchmark::Counter::kIsIterationInvariantRate);
}

/// A cycle through all of slots visiting them in an order drawn from seed:
/// next[i] is the slot after i.
std::vector<std::uint32_t> random_cycle(std::size_t slots, std::uint64_t seed) {
    std::vector<std::uint32_t> order(slots);
    for (std::size_t i = 0; i < slots; ++i)
        order[i] = static_cast<std::uint32_t>(i);
    sim::PrngDecisions prng(seed);
    for (std::size_t i = slots - 1; i > 0; --i)
        std::swap(order[i], order[prng.choose(i + 1)]);
    std::vector<std::uint32_t> next(slots);
    for (std::size_t i = 0; i < slots; ++i)
        next[order[i]] = order[(i + 1) % slots];
    return next;
}

void BM_MemoryCeiling(benchmark::State& state) {
    const auto threads = static_cast<std::size_t>(state.range(0));
    constexpr std::size_t slots = 8 * 1024 * 1024 / sizeof(std::uint32_t);
    constexpr std::uint64_t steps = 20'000'000;
    std::vector<std::vector<std::uint32_t>> cycles;
    for (std::size_t t = 0; t < threads; ++t)
        cycles.push_back(random_cycle(slots, t + 1));
    for (auto _ : state) {
        std::vector<std::thread> chasers;
        for (std::size_t t = 0; t < threads; ++t) {
            chasers.emplace_back([&cycle = cycles[t]] {
                std::uint32_t at = 0;
                for (std::uint64_t i = 0; i < steps; ++i)
                    at = cycle[at];
                benchmark::DoNotOptimize(at);
            });
        }
        for (std::thread& chaser : chasers)
            chaser.join();
    }
    state.counters["loads_per_s"] = benchmark::Counter(
        static_cast<double>(steps * threads), benchmark::Counter::kIsIterationInvariantRate);
}

void BM_CopyCeiling(benchmark::State& state) {
    const auto threads = static_cast<std::size_t>(state.range(0));
    constexpr std::size_t buffer_bytes = 1024 * 1024;
    constexpr std::size_t copies = 2048;
    for (auto _ : state) {
        std::vector<std::thread> copiers;
        for (std::size_t t = 0; t < threads; ++t) {
            copiers.emplace_back([] {
                std::vector<char> from(buffer_bytes, 1);
                std::vector<char> to(buffer_bytes);
                for (std::size_t i = 0; i < copies; ++i) {
                    std::memcpy(to.data(), from.data(), buffer_bytes);
                    from[i % buffer_bytes] = to[(i * 7) % buffer_bytes];
                }
                benchmark::DoNotOptimize(to.data());
            });
        }
        for (std::thread& copier : copiers)
            copier.join();
    }
    state.counters["bytes_per_s"] =
        benchmark::Counter(static_cast<double>(buffer_bytes * copies * threads),
                           benchmark::Counter::kIsIterationInvariantRate);
}

BENCHMARK(BM_ExploreNaiveFindsChapterBugs)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_ExploreFerryAllFaults)->Arg(20'000)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ExploreFerryCalm)->Arg(20'000)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ExploreStrategyRunsToFind)
    ->ArgsProduct({{0, 1, 2}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK(BM_ReplayMinimalCase)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ExploreJobs)
    ->ArgName("jobs")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1)
    ->UseRealTime();
BENCHMARK(BM_ExploreTwoProcesses)->Unit(benchmark::kMillisecond)->Iterations(1)->UseManualTime();
/// One thread, then two, timed once each on the wall clock.
void one_then_two_threads(benchmark::internal::Benchmark* bench) {
    bench->ArgName("threads")->Arg(1)->Arg(2);
    bench->Unit(benchmark::kMillisecond)->Iterations(1)->UseRealTime();
}

BENCHMARK(BM_SpinCeiling)->Apply(one_then_two_threads);
BENCHMARK(BM_MemoryCeiling)->Apply(one_then_two_threads);
BENCHMARK(BM_CopyCeiling)->Apply(one_then_two_threads);

}  // namespace
}  // namespace ferry::bench
