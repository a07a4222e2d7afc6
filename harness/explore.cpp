#include "ferry/harness/explore.h"

#include <algorithm>
#include <ctime>
#include <set>

#include "ferry/harness/exhaustive.h"
#include "ferry/harness/explore_jobs.h"
#include "ferry/harness/sim_driver.h"

namespace ferry::harness {

std::string_view to_string(Strategy strategy) {
    switch (strategy) {
        case Strategy::random:
            return "random";
        case Strategy::pct:
            return "pct";
        case Strategy::exhaustive:
            return "exhaustive";
    }
    return "?";
}

std::uint64_t case_seed(std::uint64_t seed, std::uint64_t global_run) {
    std::uint64_t state = seed * 0x9e3779b97f4a7c15ULL + global_run;
    return sim::splitmix64(state);
}

RunSpec explore_case(const Workload& workload, const ExploreOptions& options,
                     const std::vector<WorkloadCase>& edges, std::uint64_t global_run,
                     sim::PrngDecisions& rng) {
    RunSpec spec;
    spec.workload = std::string(workload.name());
    spec.seed = case_seed(options.seed, global_run);
    if (global_run < edges.size()) {
        // First every edge case once on a calm network: the cheapest runs,
        // and the bugs they show need no luck to find.
        spec.work = edges[global_run];
        return spec;
    }
    spec.work = workload.draw(rng, options.draw);
    const FaultDrawBounds bounds{options.draw.chunk_bytes, workload.bytes_in_play(spec.work),
                                 options.draw.size_max};
    spec.faults = draw_fault_plan(rng, options.faults & workload.relevant_knobs(), bounds);
    return spec;
}

namespace {

/// The exhaustive strategy: one thread, the edge cases of this shard in
/// turn, every way to cut each up to the bound.
class Explorer {
  public:
    Explorer(const Workload& workload, const ExploreOptions& options,
             const std::function<void(const ExploreProgress&)>& progress,
             const std::function<void(const Finding&)>& on_finding)
        : workload_(workload),
          options_(options),
          progress_(progress),
          on_finding_(on_finding),
          start_(std::chrono::steady_clock::now()),
          cpu_start_(std::clock()) {}

    ExploreSummary run() {
        run_exhaustive();
        summary_.seconds = elapsed();
        summary_.cpu_seconds = static_cast<double>(std::clock() - cpu_start_) / CLOCKS_PER_SEC;
        if (progress_)
            progress_(ExploreProgress{summary_.runs, failures_, summary_.seconds});
        return std::move(summary_);
    }

  private:
    double elapsed() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }
    bool out_of_budget(std::uint64_t runs);
    /// Judges one run; true when exploration should stop.
    bool handle(RunSpec spec, RunResult result, std::uint64_t run_index);
    void run_exhaustive();
    bool exhaust_case(RunSpec spec);

    const Workload& workload_;
    const ExploreOptions& options_;
    const std::function<void(const ExploreProgress&)>& progress_;
    const std::function<void(const Finding&)>& on_finding_;
    std::chrono::steady_clock::time_point start_;
    std::clock_t cpu_start_;
    ExploreSummary summary_;
    std::set<std::string> signatures_;
    std::uint64_t failures_ = 0;
    double next_progress_ = 0.1;
    std::vector<std::uint64_t> recorded_;
};

bool Explorer::out_of_budget(std::uint64_t runs) {
    if (options_.runs &&
        runs >= shard_runs(*options_.runs, options_.shard_index, options_.shard_count))
        return true;
    if (options_.stop && options_.stop->load(std::memory_order_relaxed))
        return true;
    if ((runs & 63) != 0)
        return false;
    const double now = elapsed();
    if (options_.time_limit && now >= options_.time_limit->count())
        return true;
    if (progress_ && now >= next_progress_) {
        next_progress_ = now + 0.1;
        progress_(ExploreProgress{runs, failures_, now});
    }
    return false;
}

bool Explorer::handle(RunSpec spec, RunResult result, std::uint64_t run_index) {
    if (result.passed())
        return false;
    ++failures_;
    const std::string signature = result.failure->signature();
    if (!signatures_.insert(signature).second)
        return false;
    summary_.findings.push_back(shrink_finding(workload_, options_, std::move(spec),
                                               std::move(result), run_index, elapsed()));
    if (on_finding_)
        on_finding_(summary_.findings.back());
    const auto& wanted = options_.stop_when_found;
    if (!wanted.empty() && std::all_of(wanted.begin(), wanted.end(), [&](const std::string& s) {
            return signatures_.contains(s);
        }))
        return true;
    return !options_.keep_going;
}

}  // namespace

}  // namespace ferry::harness

namespace ferry::harness {

namespace {

/// Every schedule of spec with at most exhaustive_cuts_max non-calm
/// choices; true when exploration should stop.
bool Explorer::exhaust_case(RunSpec spec) {
    std::vector<std::uint64_t> prefix;
    while (true) {
        if (out_of_budget(summary_.runs)) {
            summary_.exhausted = false;
            return true;
        }
        EnumeratingDecisions source(prefix);
        recorded_.clear();
        SimDriverOptions driver;
        driver.decisions = &source;
        driver.record = &recorded_;
        driver.full_report = false;
        RunResult result = run_on_sim(workload_, spec, driver);
        summary_.events += result.events;
        RunSpec ran = spec;
        ran.choices = recorded_;
        const bool stop = handle(std::move(ran), std::move(result), summary_.runs);
        ++summary_.runs;
        if (stop)
            return true;
        const auto next =
            next_prefix(recorded_, source.option_counts(), options_.exhaustive_cuts_max);
        if (!next)
            return false;
        prefix = *next;
    }
}

void Explorer::run_exhaustive() {
    // Each edge case with calls cut wherever they can be, and every way to
    // cut them up to the bound.
    const std::vector<WorkloadCase> edges = workload_.edge_cases(options_.draw);
    const std::uint64_t shards = std::max<std::uint64_t>(options_.shard_count, 1);
    summary_.exhausted = true;
    for (std::size_t i = options_.shard_index; i < edges.size(); i += shards) {
        RunSpec spec;
        spec.workload = std::string(workload_.name());
        spec.seed = case_seed(options_.seed, i);
        spec.work = edges[i];
        for (const char* knob : {"partial_sends", "short_reads"}) {
            const FaultKnob* k = find_fault_knob(knob);
            const auto index = static_cast<std::size_t>(k - fault_knobs().data());
            if ((options_.faults >> index) & 1)
                (void)k->parse(spec.faults, "always");
        }
        if (exhaust_case(std::move(spec))) {
            // Stopped early (a failure, or the budget): not all covered.
            summary_.exhausted = false;
            break;
        }
    }
}

}  // namespace

ExploreSummary explore(const Workload& workload, const ExploreOptions& options,
                       const std::function<void(const ExploreProgress&)>& progress,
                       const std::function<void(const Finding&)>& on_finding) {
    if (options.strategy != Strategy::exhaustive)
        return explore_drawn(workload, options, progress, on_finding);
    return Explorer(workload, options, progress, on_finding).run();
}

}  // namespace ferry::harness
