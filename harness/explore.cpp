#include "harness/explore.h"

#include <algorithm>
#include <ctime>
#include <set>

#include "harness/exhaustive.h"
#include "harness/pct_decisions.h"
#include "harness/shrink.h"
#include "harness/sim_driver.h"

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
    const FaultDrawBounds bounds{options.draw.chunk_bytes, workload.bytes_in_play(spec.work)};
    spec.faults = draw_fault_plan(rng, options.faults & workload.relevant_knobs(), bounds);
    return spec;
}

namespace {

/// About the choices a run makes, for PCT's horizon.
std::uint64_t pct_horizon(const Workload& workload, const RunSpec& spec, std::size_t chunk_bytes) {
    const std::uint64_t chunks =
        workload.bytes_in_play(spec.work) / std::max<std::size_t>(chunk_bytes, 1) + 2;
    return 4 + 8 * chunks * (spec.work.clients.size() + 1);
}

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
        if (options_.strategy == Strategy::exhaustive)
            run_exhaustive();
        else
            run_drawn();
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
    void run_drawn();
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
    if (options_.runs && runs >= *options_.runs)
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
    Finding finding;
    finding.run_index = run_index;
    finding.seconds = elapsed();
    finding.found = spec;
    finding.found_result = std::move(result);
    finding.minimal = spec;
    if (options_.shrink) {
        ShrinkResult shrunk =
            shrink_run(workload_, spec, finding.found_result, options_.shrink_runs_max);
        finding.minimal = std::move(shrunk.minimal);
        finding.shrink_runs = shrunk.runs;
    }
    // Once more, with the trace's tail and digest for the report.
    finding.minimal_result = run_on_sim(workload_, finding.minimal);
    summary_.findings.push_back(std::move(finding));
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

void Explorer::run_drawn() {
    const std::uint64_t shards = std::max<std::uint64_t>(options_.shard_count, 1);
    const std::vector<WorkloadCase> edges = workload_.edge_cases(options_.draw);
    recorded_.reserve(256);
    for (std::uint64_t i = 0;; ++i) {
        if (out_of_budget(i))
            break;
        const std::uint64_t global = i * shards + options_.shard_index;
        sim::PrngDecisions rng(case_seed(options_.seed, global) ^ 0x63617365);  // "case"
        RunSpec spec = explore_case(workload_, options_, edges, global, rng);
        recorded_.clear();
        SimDriverOptions driver;
        driver.record = &recorded_;
        driver.full_report = false;
        std::optional<PctDecisions> pct;
        if (options_.strategy == Strategy::pct) {
            const std::uint64_t depth =
                1 + global % std::max<std::uint64_t>(options_.pct_depth_max, 1);
            pct.emplace(rng.next_u64(), depth,
                        pct_horizon(workload_, spec, options_.draw.chunk_bytes),
                        options_.pct_calm_data);
            driver.decisions = &*pct;
        } else {
            driver.decisions = &rng;
        }
        RunResult result = run_on_sim(workload_, spec, driver);
        summary_.runs = i + 1;
        summary_.events += result.events;
        if (!result.passed()) {
            spec.choices = recorded_;
            if (handle(std::move(spec), std::move(result), i))
                break;
        }
    }
}

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
    return Explorer(workload, options, progress, on_finding).run();
}

}  // namespace ferry::harness
