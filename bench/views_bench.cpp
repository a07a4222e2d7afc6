// The views' cost (views/, issue 14's figure): a 64 MiB simulated upload
//   BM_SimUpload64MiB/views:0   the run alone
//   BM_SimUpload64MiB/views:1   the same run recorded, and its SVG, pcap and
//                               Perfetto timeline written to files
// Target: the views add < 50% to the run's time and the SVG stays < 2 MB.
// Compare the medians: build/bench/ferry_bench
// --benchmark_filter=SimUpload64MiB --benchmark_repetitions=5
// --benchmark_report_aggregates_only=true (the svg_bytes counter is the SVG's size).

#include <malloc.h>

#ifdef FERRY_WITH_TCMALLOC
#include <gperftools/malloc_extension.h>
#endif

#include <cstdint>
#include <filesystem>
#include <string>

#include <benchmark/benchmark.h>

#include "bench/bench_support.h"
#include "ferry/harness/sim_driver.h"
#include "ferry/sim/recording.h"
#include "ferry/views/views.h"
#include "ferry/workloads/builtin.h"

namespace ferry::bench {
namespace {

void BM_SimUpload64MiB(benchmark::State& state) {
    constexpr std::uint64_t size_bytes = 64 * mib;
    const bool with_views = state.range(0) != 0;
    const harness::Workload& ferry = workloads::builtin_workload("ferry");
    harness::RunSpec spec;
    spec.workload = "ferry";
    spec.work = ferry.simple_case(size_bytes);  // as `ferry sim --workload ferry --size 67108864`
    spec.seed = 1;
    // Keep freed memory between iterations for both arms alike (see
    // BM_SimBulk256MiB): the kernel's page faults are not what is measured.
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
#ifdef FERRY_WITH_TCMALLOC
    MallocExtension::instance()->SetMemoryReleaseRate(0);  // the same, for tcmalloc
#endif
    const auto dir = std::filesystem::temp_directory_path() / "ferry_views_bench";
    std::filesystem::create_directories(dir);
    const views::ViewPaths paths = views::view_paths_in(dir, "upload");
    for (auto _ : state) {
        sim::Recording recording;
        harness::SimDriverOptions options;
        if (with_views) {
            views::prepare_recording(recording, paths);
            options.recording = &recording;
        }
        const harness::RunResult result = harness::run_on_sim(ferry, spec, options);
        if (!result.passed())
            state.SkipWithError("the upload failed");
        if (with_views)
            views::write_views(recording, paths);
    }
    if (with_views) {
        state.counters["svg_bytes"] = static_cast<double>(std::filesystem::file_size(*paths.svg));
        state.counters["pcap_bytes"] = static_cast<double>(std::filesystem::file_size(*paths.pcap));
        state.counters["perfetto_bytes"] =
            static_cast<double>(std::filesystem::file_size(*paths.perfetto));
    }
    std::filesystem::remove_all(dir);
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * size_bytes));
}
BENCHMARK(BM_SimUpload64MiB)
    ->ArgName("views")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace ferry::bench
