#include "ferry/harness/explore_jobs.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <exception>
#include <limits>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <utility>
#include <vector>

#include "ferry/harness/pct_decisions.h"
#include "ferry/harness/shrink.h"
#include "ferry/harness/sim_driver.h"

namespace ferry::harness {

std::uint64_t shard_runs(std::uint64_t total_runs, std::uint64_t shard_index,
                         std::uint64_t shard_count) {
    const std::uint64_t shards = std::max<std::uint64_t>(shard_count, 1);
    return total_runs / shards + (shard_index < total_runs % shards ? 1 : 0);
}

Finding shrink_finding(const Workload& workload, const ExploreOptions& options, RunSpec found,
                       RunResult found_result, std::uint64_t run_index, double seconds) {
    Finding finding;
    finding.run_index = run_index;
    finding.seconds = seconds;
    finding.found = found;
    finding.found_result = std::move(found_result);
    finding.minimal = std::move(found);
    if (options.shrink) {
        ShrinkResult shrunk =
            shrink_run(workload, finding.found, finding.found_result, options.shrink_runs_max);
        finding.minimal = std::move(shrunk.minimal);
        finding.shrink_runs = shrunk.runs;
    }
    // Once more, with the trace's tail and digest for the report.
    finding.minimal_result = run_on_sim(workload, finding.minimal);
    return finding;
}

namespace {

constexpr std::uint64_t no_cutoff = std::numeric_limits<std::uint64_t>::max();

/// About the choices a run makes, for PCT's horizon.
std::uint64_t pct_horizon(const Workload& workload, const RunSpec& spec, std::size_t chunk_bytes) {
    const std::uint64_t chunks =
        workload.bytes_in_play(spec.work) / std::max<std::size_t>(chunk_bytes, 1) + 2;
    return 4 + 8 * chunks * (spec.work.clients.size() + 1);
}

/// Global run number global, drawn and run; spec.choices set when it fails.
std::pair<RunSpec, RunResult> run_drawn_case(const Workload& workload,
                                             const ExploreOptions& options,
                                             const std::vector<WorkloadCase>& edges,
                                             std::uint64_t global,
                                             std::vector<std::uint64_t>& recorded) {
    sim::PrngDecisions rng(case_seed(options.seed, global) ^ 0x63617365);  // "case"
    RunSpec spec = explore_case(workload, options, edges, global, rng);
    recorded.clear();
    SimDriverOptions driver;
    driver.record = &recorded;
    driver.full_report = false;
    std::optional<PctDecisions> pct;
    if (options.strategy == Strategy::pct) {
        const std::uint64_t depth = 1 + global % std::max<std::uint64_t>(options.pct_depth_max, 1);
        pct.emplace(rng.next_u64(), depth, pct_horizon(workload, spec, options.draw.chunk_bytes),
                    options.pct_calm_data);
        driver.decisions = &*pct;
    } else {
        driver.decisions = &rng;
    }
    RunResult result = run_on_sim(workload, spec, driver);
    if (!result.passed())
        spec.choices = recorded;
    return {std::move(spec), std::move(result)};
}

/// The global run index past which no job need go; it only ever falls.
class Cutoff {
  public:
    explicit Cutoff(const ExploreOptions& options)
        : keep_going_(options.keep_going),
          wanted_(options.stop_when_found.begin(), options.stop_when_found.end()) {}

    std::uint64_t value() const { return value_.load(std::memory_order_acquire); }
    /// Global run global failed with signature.
    void failed(std::uint64_t global, const std::string& signature);

  private:
    void lower(std::uint64_t to);

    const bool keep_going_;
    const std::set<std::string> wanted_;
    alignas(64) std::atomic<std::uint64_t> value_{no_cutoff};  ///< read at every run
    alignas(64) std::mutex mutex_;
    std::map<std::string, std::uint64_t> first_wanted_;  ///< least failing run of each
};

void Cutoff::failed(std::uint64_t global, const std::string& signature) {
    if (!keep_going_) {
        lower(global);
        return;
    }
    if (!wanted_.contains(signature))
        return;
    std::lock_guard lock(mutex_);
    auto [it, inserted] = first_wanted_.emplace(signature, global);
    if (!inserted)
        it->second = std::min(it->second, global);
    if (first_wanted_.size() < wanted_.size())
        return;
    std::uint64_t all_found_by = 0;
    for (const auto& [unused, first] : first_wanted_)
        all_found_by = std::max(all_found_by, first);
    lower(all_found_by);
}

void Cutoff::lower(std::uint64_t to) {
    std::uint64_t now = value_.load(std::memory_order_relaxed);
    while (to < now && !value_.compare_exchange_weak(now, to, std::memory_order_acq_rel)) {
    }
}

/// The first failing run of a kind that one job met.
struct FirstFailure {
    std::uint64_t global = 0;
    double seconds = 0;
    std::string signature;
    RunSpec spec;
    RunResult result;
};

/// What one job did: events[m] is its run m's, global m·stride + first.
/// A cache line of its own: each job writes its record at every run.
struct alignas(64) JobRecord {
    std::uint64_t first = 0;
    std::uint64_t stride = 1;
    std::vector<std::uint64_t> events;
    std::vector<FirstFailure> failures;
    std::exception_ptr error;
};

}  // namespace

}  // namespace ferry::harness

namespace ferry::harness {

namespace {

/// The jobs of one exploration and what they share.
class JobSet {
  public:
    JobSet(const Workload& workload, const ExploreOptions& options)
        : workload_(workload),
          options_(options),
          jobs_(std::max<std::uint64_t>(options.jobs, 1)),
          shards_(std::max<std::uint64_t>(options.shard_count, 1)),
          edges_(workload.edge_cases(options.draw)),
          cutoff_(options),
          start_(std::chrono::steady_clock::now()),
          cpu_start_(std::clock()) {}

    ExploreSummary run(const std::function<void(const ExploreProgress&)>& progress,
                       const std::function<void(const Finding&)>& on_finding);

  private:
    double elapsed() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    }
    /// Out of time, or told to stop.
    bool out_of_time() const {
        if (options_.stop && options_.stop->load(std::memory_order_relaxed))
            return true;
        return options_.time_limit && elapsed() >= options_.time_limit->count();
    }
    void run_job(JobRecord& record);
    /// Runs every job on a thread of its own, reporting progress meanwhile.
    void run_jobs(const std::function<void(const ExploreProgress&)>& progress);
    /// The first failing run of each kind, at or before the cut-off, by run.
    std::vector<const FirstFailure*> first_of_each_kind() const;
    std::vector<Finding> shrink_all(const std::vector<const FirstFailure*>& firsts) const;
    void count_runs(ExploreSummary& summary) const;

    const Workload& workload_;
    const ExploreOptions& options_;
    const std::uint64_t jobs_;
    const std::uint64_t shards_;
    const std::vector<WorkloadCase> edges_;
    Cutoff cutoff_;
    std::chrono::steady_clock::time_point start_;
    std::clock_t cpu_start_;
    std::vector<JobRecord> records_;
    // Counted by every job at every run: kept off the lines the jobs read.
    alignas(64) std::atomic<std::uint64_t> runs_done_{0};
    std::atomic<std::uint64_t> failures_{0};
    alignas(64) std::mutex done_mutex_;
    std::condition_variable done_;
    std::uint64_t jobs_done_ = 0;
};

void JobSet::run_job(JobRecord& record) {
    std::vector<std::uint64_t> recorded;
    recorded.reserve(256);
    std::set<std::string> signatures;
    for (std::uint64_t m = 0;; ++m) {
        const std::uint64_t global = m * record.stride + record.first;
        if (options_.runs && global >= *options_.runs)
            break;
        if (global > cutoff_.value() || ((m & 15) == 0 && out_of_time()))
            break;
        auto [spec, result] = run_drawn_case(workload_, options_, edges_, global, recorded);
        record.events.push_back(result.events);
        runs_done_.fetch_add(1, std::memory_order_relaxed);
        if (result.passed())
            continue;
        failures_.fetch_add(1, std::memory_order_relaxed);
        std::string signature = result.failure->signature();
        cutoff_.failed(global, signature);
        if (!signatures.insert(signature).second)
            continue;
        record.failures.push_back(
            {global, elapsed(), std::move(signature), std::move(spec), std::move(result)});
    }
}

void JobSet::run_jobs(const std::function<void(const ExploreProgress&)>& progress) {
    records_.resize(jobs_);
    std::vector<std::thread> threads;
    for (std::uint64_t j = 0; j < jobs_; ++j) {
        JobRecord& record = records_[j];
        record.first = options_.shard_index + j * shards_;
        record.stride = shards_ * jobs_;
        threads.emplace_back([this, &record] {
            try {
                run_job(record);
            } catch (...) {
                record.error = std::current_exception();
            }
            std::lock_guard lock(done_mutex_);
            ++jobs_done_;
            done_.notify_all();
        });
    }
    // Progress from this thread only, so its output never interleaves.
    std::unique_lock lock(done_mutex_);
    while (!done_.wait_for(lock, std::chrono::milliseconds(100),
                           [&] { return jobs_done_ == jobs_; })) {
        lock.unlock();
        if (progress)
            progress(ExploreProgress{runs_done_.load(), failures_.load(), elapsed()});
        lock.lock();
    }
    lock.unlock();
    for (std::thread& thread : threads)
        thread.join();
    for (const JobRecord& record : records_) {
        if (record.error)
            std::rethrow_exception(record.error);
    }
}

std::vector<const FirstFailure*> JobSet::first_of_each_kind() const {
    const std::uint64_t cutoff = cutoff_.value();
    std::vector<const FirstFailure*> all;
    for (const JobRecord& record : records_) {
        for (const FirstFailure& f : record.failures) {
            if (f.global <= cutoff)
                all.push_back(&f);
        }
    }
    std::sort(all.begin(), all.end(),
              [](const FirstFailure* a, const FirstFailure* b) { return a->global < b->global; });
    std::vector<const FirstFailure*> firsts;
    std::set<std::string_view> seen;
    for (const FirstFailure* f : all) {
        if (seen.insert(f->signature).second)
            firsts.push_back(f);
    }
    return firsts;
}

std::vector<Finding> JobSet::shrink_all(const std::vector<const FirstFailure*>& firsts) const {
    std::vector<Finding> findings(firsts.size());
    std::atomic<std::size_t> next{0};
    std::vector<std::exception_ptr> errors(firsts.size());
    auto work = [&] {
        for (std::size_t i = next++; i < firsts.size(); i = next++) {
            const FirstFailure& f = *firsts[i];
            try {
                findings[i] =
                    shrink_finding(workload_, options_, f.spec, f.result,
                                   (f.global - options_.shard_index) / shards_, f.seconds);
            } catch (...) {
                errors[i] = std::current_exception();
            }
        }
    };
    std::vector<std::thread> threads;
    const std::uint64_t helpers = std::min<std::uint64_t>(jobs_, firsts.size());
    for (std::uint64_t t = 1; t < helpers; ++t)
        threads.emplace_back(work);
    work();
    for (std::thread& thread : threads)
        thread.join();
    for (const std::exception_ptr& error : errors) {
        if (error)
            std::rethrow_exception(error);
    }
    return findings;
}

void JobSet::count_runs(ExploreSummary& summary) const {
    const std::uint64_t cutoff = cutoff_.value();
    for (const JobRecord& record : records_) {
        const std::uint64_t ran = record.events.size();
        const std::uint64_t within =
            cutoff == no_cutoff     ? ran
            : cutoff < record.first ? 0
                                    : std::min(ran, (cutoff - record.first) / record.stride + 1);
        summary.runs += within;
        for (std::uint64_t m = 0; m < within; ++m)
            summary.events += record.events[m];
    }
}

ExploreSummary JobSet::run(const std::function<void(const ExploreProgress&)>& progress,
                           const std::function<void(const Finding&)>& on_finding) {
    run_jobs(progress);
    ExploreSummary summary;
    count_runs(summary);
    summary.findings = shrink_all(first_of_each_kind());
    for (const Finding& finding : summary.findings) {
        if (on_finding)
            on_finding(finding);
    }
    summary.seconds = elapsed();
    summary.cpu_seconds = static_cast<double>(std::clock() - cpu_start_) / CLOCKS_PER_SEC;
    if (progress)
        progress(ExploreProgress{summary.runs, failures_.load(), summary.seconds});
    return summary;
}

}  // namespace

ExploreSummary explore_drawn(const Workload& workload, const ExploreOptions& options,
                             const std::function<void(const ExploreProgress&)>& progress,
                             const std::function<void(const Finding&)>& on_finding) {
    return JobSet(workload, options).run(progress, on_finding);
}

}  // namespace ferry::harness
