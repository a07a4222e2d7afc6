// Exploration benchmarks (harness/explore.h, `ferry explore`):
//   BM_ExploreNaiveFindsChapterBugs  from seed 1, wall time until the deadlock
//                                    and the truncation are found and shrunk;
//                                    targets < 1 s and < 5 s; counters give the
//                                    minimal sizes and fault counts
//   BM_ExploreFerryAllFaults         ferry/1 under every fault knob, payloads
//                                    <= 4 KiB: runs/s (target >= 50,000) and
//                                    simulated events per run
//   BM_ExploreFerryCalm              the same with no faults: the floor
//   BM_ExploreStrategyRunsToFind     random vs PCT (scheduler) vs PCT (calm
//                                    stream): mean runs until the first deadlock
//                                    and truncation over 20 seeds, all faults
//                                    or short reads only
//   BM_ReplayMinimalCase             replaying a shrunk case (target < 1 s)

#include <benchmark/benchmark.h>
#include <fmt/core.h>

#include "harness/explore.h"

namespace ferry::bench {
namespace {

const harness::Finding* find(const harness::ExploreSummary& summary, std::string_view signature) {
    for (const auto& f : summary.findings) {
        if (f.minimal_result.signature == signature)
            return &f;
    }
    return nullptr;
}

int fault_count(const harness::ExploreCase& c) {
    const std::string text = harness::case_to_text(c);
    // "naive size=.. chunk=.. payload=.." then one token per fault (and choices).
    int tokens = 0;
    for (char ch : text)
        tokens += ch == ' ' ? 1 : 0;
    return tokens - 3 - (c.choices.empty() ? 0 : 1);
}

void BM_ExploreNaiveFindsChapterBugs(benchmark::State& state) {
    harness::ExploreOptions options;
    options.protocol = sim::ProtocolKind::naive;
    options.seed = 1;
    options.runs = 1'000'000;
    options.keep_going = true;
    options.stop_when_found = {"deadlock", "truncated file"};
    harness::ExploreSummary summary;
    for (auto _ : state) {
        summary = harness::explore(options);
        benchmark::DoNotOptimize(summary.runs);
    }
    const harness::Finding* deadlock = find(summary, "deadlock");
    const harness::Finding* truncated = find(summary, "truncated file");
    if (deadlock == nullptr || truncated == nullptr) {
        state.SkipWithError("a chapter bug was not found");
        return;
    }
    // Found and shrunk: the finding is recorded after its shrinking.
    state.counters["deadlock_found_s"] = deadlock->seconds;
    state.counters["deadlock_min_size"] = static_cast<double>(deadlock->minimal.size_bytes);
    state.counters["deadlock_min_faults"] = fault_count(deadlock->minimal);
    state.counters["truncation_found_s"] = truncated->seconds;
    state.counters["truncation_min_size"] = static_cast<double>(truncated->minimal.size_bytes);
    state.counters["truncation_min_faults"] = fault_count(truncated->minimal);
    state.counters["runs"] = static_cast<double>(summary.runs);
}

void explore_ferry(benchmark::State& state, harness::FaultSet faults) {
    harness::ExploreOptions options;
    options.protocol = sim::ProtocolKind::ferry;
    options.faults = faults;
    options.size_max = 4096;
    options.runs = static_cast<std::uint64_t>(state.range(0));
    std::uint64_t runs = 0;
    std::uint64_t events = 0;
    std::uint64_t found = 0;
    for (auto _ : state) {
        const harness::ExploreSummary summary = harness::explore(options);
        runs += summary.runs;
        events += summary.events;
        found += summary.findings.size();
        ++options.seed;
    }
    if (found != 0)
        state.SkipWithError("ferry/1 failed a property: run ferry explore --protocol ferry");
    state.counters["runs_per_s"] =
        benchmark::Counter(static_cast<double>(runs), benchmark::Counter::kIsRate);
    state.counters["events_per_run"] =
        static_cast<double>(events) / static_cast<double>(std::max<std::uint64_t>(runs, 1));
}

void BM_ExploreFerryAllFaults(benchmark::State& state) {
    explore_ferry(state, harness::all_fault_knobs);
}

void BM_ExploreFerryCalm(benchmark::State& state) {
    explore_ferry(state, 0);
}

void BM_ExploreStrategyRunsToFind(benchmark::State& state) {
    // 0 random, 1 PCT over the scheduler, 2 PCT over the whole choice stream.
    const auto strategy = state.range(0) == 0 ? harness::Strategy::random : harness::Strategy::pct;
    const bool calm_data = state.range(0) == 2;
    constexpr std::uint64_t seeds = 20;
    double deadlock_runs = 0;
    double truncation_runs = 0;
    for (auto _ : state) {
        deadlock_runs = 0;
        truncation_runs = 0;
        for (std::uint64_t seed = 1; seed <= seeds; ++seed) {
            harness::ExploreOptions options;
            options.protocol = sim::ProtocolKind::naive;
            options.strategy = strategy;
            options.seed = seed;
            options.runs = 100'000;
            options.keep_going = true;
            options.shrink = false;
            options.pct_calm_data = calm_data;
            options.faults =
                harness::parse_fault_list(state.range(1) == 0 ? "all" : "short_reads").value();
            options.stop_when_found = {"deadlock", "truncated file"};
            const harness::ExploreSummary summary = harness::explore(options);
            const harness::Finding* d = find(summary, "deadlock");
            const harness::Finding* t = find(summary, "truncated file");
            deadlock_runs += d ? static_cast<double>(d->run_index + 1) : 100'000.0;
            truncation_runs += t ? static_cast<double>(t->run_index + 1) : 100'000.0;
        }
    }
    state.SetLabel(fmt::format("{} faults={}",
                               calm_data ? "pct-calm" : harness::to_string(strategy),
                               state.range(1) == 0 ? "all" : "short_reads"));
    state.counters["deadlock_mean_runs"] = deadlock_runs / seeds;
    state.counters["truncation_mean_runs"] = truncation_runs / seeds;
}

void BM_ReplayMinimalCase(benchmark::State& state) {
    const auto c = harness::parse_case_text(
        "naive size=2 chunk=1024 payload=7960286522194355700 short_reads=1/8 choices=0,7,1");
    for (auto _ : state) {
        const harness::CaseResult result = harness::run_case(*c);
        if (result.signature != "truncated file")
            state.SkipWithError("the minimal case no longer fails");
        benchmark::DoNotOptimize(result.report.digest);
    }
}

BENCHMARK(BM_ExploreNaiveFindsChapterBugs)->Unit(benchmark::kMillisecond)->Iterations(1);
BENCHMARK(BM_ExploreFerryAllFaults)->Arg(20'000)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ExploreFerryCalm)->Arg(20'000)->Unit(benchmark::kMillisecond)->Iterations(3);
BENCHMARK(BM_ExploreStrategyRunsToFind)
    ->ArgsProduct({{0, 1, 2}, {0, 1}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);
BENCHMARK(BM_ReplayMinimalCase)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace ferry::bench
