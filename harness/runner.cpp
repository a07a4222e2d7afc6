#include "ferry/harness/runner.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/core.h>
#include <fmt/format.h>

#include "ferry/harness/command_name.h"
#include "ferry/harness/fault_plan.h"

#include "ferry/harness/real_driver.h"
#include "ferry/harness/sim_driver.h"
#include "ferry/sim/recording.h"
#include "ferry/views/views.h"

namespace ferry::harness {

std::vector<std::filesystem::path> collect_scenario_files(
    const std::vector<std::filesystem::path>& paths) {
    std::set<std::filesystem::path> files;
    for (const auto& path : paths) {
        std::error_code error;
        const auto status = std::filesystem::status(path, error);
        if (error || !std::filesystem::exists(status)) {
            throw ScenarioError(fmt::format("{}: no such file or folder", path.string()));
        }
        if (std::filesystem::is_directory(status)) {
            for (const auto& entry : std::filesystem::recursive_directory_iterator(path)) {
                if (entry.is_regular_file() && entry.path().extension() == ".toml") {
                    files.insert(entry.path().lexically_normal());
                }
            }
        } else {
            files.insert(path.lexically_normal());
        }
    }
    return {files.begin(), files.end()};
}

namespace {

// The wall clock measures how long a scenario took, for people; it never
// decides anything in a run.
using WallClock = std::chrono::steady_clock;

std::string reproduce_command(const std::filesystem::path& path, Backend backend,
                              std::optional<std::uint64_t> seed) {
    std::string command = fmt::format("{} scenario run {} --backend {}", command_name(),
                                      path.string(), to_string(backend));
    if (seed)
        command += fmt::format(" --seed {}", *seed);
    return command;
}

}  // namespace

namespace {

/// One seed of a scenario on the simulator, run twice to prove determinism.
RunResult run_seed_on_sim(const Scenario& scenario, const Workload& workload, const RunSpec& spec,
                          const RunnerOptions& options, sim::Recording* recording) {
    std::ofstream trace_file;
    SimDriverOptions driver;
    driver.recording = recording;
    if (options.trace_dir) {
        std::filesystem::create_directories(*options.trace_dir);
        const auto name = fmt::format("{}-seed{}.jsonl", scenario.path.stem().string(), spec.seed);
        trace_file.open(*options.trace_dir / name, std::ios::binary | std::ios::trunc);
        driver.trace_json = &trace_file;
    }
    RunResult result = run_on_sim(workload, spec, driver);
    if (options.check_determinism) {
        const RunResult again = run_on_sim(workload, spec);
        if (again.digest != result.digest && !result.failure) {
            result.failure =
                Failure{FailureKind::nondeterministic, "",
                        fmt::format("the same seed gave trace digests {:016x} and {:016x}",
                                    result.digest, again.digest)};
        }
    }
    return result;
}

/// Writes the views of one seed; returns the line naming them. A real run's
/// recording holds only what crossed the wire: it gets the pcap alone.
std::string write_seed_views(const Scenario& scenario, Backend backend, std::uint64_t seed,
                             const sim::Recording& recording, const std::filesystem::path& dir) {
    const bool real = backend == Backend::real;
    const std::string stem = views::file_stem(
        fmt::format("{}-{}-seed{}", scenario.path.stem().string(), real ? "real" : "sim", seed));
    views::ViewPaths paths = views::view_paths_in(dir, stem);
    if (real) {
        paths.svg.reset();
        paths.perfetto.reset();
    }
    views::write_views(recording, paths);
    return views::view_paths_text(paths);
}

}  // namespace

ScenarioResult run_scenario(const Scenario& scenario, const Workload& workload, Backend backend,
                            const RunnerOptions& options) {
    ScenarioResult result;
    result.path = scenario.path;
    result.name = scenario.name;
    result.backend = backend;
    result.seed_first = options.seed.value_or(scenario.seed_first);
    result.seed_last = options.seed.value_or(scenario.seed_last);
    const auto started = WallClock::now();
    for (std::uint64_t seed = result.seed_first; seed <= result.seed_last; ++seed) {
        RunSpec spec = scenario.run;
        spec.seed = seed;
        std::optional<sim::Recording> recording;
        if (options.trace_dir)
            recording.emplace();
        RealDriverOptions real_options;
        real_options.recording = recording ? &*recording : nullptr;
        const RunResult run =
            backend == Backend::sim
                ? run_seed_on_sim(scenario, workload, spec, options, real_options.recording)
                : run_on_real(workload, spec, real_options);
        Verdict verdict = judge(scenario, run);
        if (run.failure && run.failure->kind == FailureKind::nondeterministic) {
            verdict.passed = false;
            verdict.reasons.push_back(run.failure->detail);
        }
        result.outcome = verdict.outcome;
        if (recording && (!verdict.passed || options.views_for_every_run))
            result.views =
                write_seed_views(scenario, backend, seed, *recording, *options.trace_dir);
        if (!verdict.passed) {
            result.passed = false;
            result.failed_seed = seed;
            result.reasons = std::move(verdict.reasons);
            result.recent_events = run.recent_events;
            result.history = run.history;
            break;
        }
    }
    result.wall = std::chrono::duration_cast<std::chrono::milliseconds>(WallClock::now() - started);
    result.reproduce = reproduce_command(scenario.path, backend, result.failed_seed);
    return result;
}

namespace {

struct Job {
    std::filesystem::path path;
    std::optional<Scenario> scenario;
    Backend backend = Backend::sim;
    std::string parse_error;
    std::optional<std::string> skip;  ///< why it does not run there
};

/// Why scenario cannot run on backend, which --backend forced on it: real
/// sockets do not inject some faults (docs/faults.md), and a scenario that
/// relies on one would fail there for want of it, with nothing wrong.
std::optional<std::string> unsupported_on(const Scenario& scenario, Backend backend) {
    if (backend != Backend::real || std::find(scenario.backends.begin(), scenario.backends.end(),
                                              backend) != scenario.backends.end()) {
        return std::nullopt;
    }
    std::vector<std::string_view> sim_only;
    for (const FaultKnob& knob : fault_knobs()) {
        if (!knob.on_real_sockets && !knob.is_calm(scenario.run.faults))
            sim_only.push_back(knob.name);
    }
    if (sim_only.empty())
        return std::nullopt;
    std::vector<std::string_view> listed;
    for (Backend listed_backend : scenario.backends)
        listed.push_back(to_string(listed_backend));
    return fmt::format("real sockets do not inject {} (the file lists only {})",
                       fmt::join(sim_only, ", "), fmt::join(listed, ", "));
}

std::vector<Job> plan(const std::vector<std::filesystem::path>& files,
                      const WorkloadRegistry& workloads, const RunnerOptions& options) {
    std::vector<Job> jobs;
    for (const auto& path : files) {
        try {
            Scenario scenario = parse_scenario_file(path, workloads);
            std::vector<Backend> backends;
            switch (options.backends) {
                case BackendChoice::scenario:
                    backends = scenario.backends;
                    break;
                case BackendChoice::sim:
                    backends = {Backend::sim};
                    break;
                case BackendChoice::real:
                    backends = {Backend::real};
                    break;
                case BackendChoice::both:
                    backends = {Backend::sim, Backend::real};
                    break;
            }
            for (Backend backend : backends)
                jobs.push_back({path, scenario, backend, "", unsupported_on(scenario, backend)});
        } catch (const ScenarioError& e) {
            jobs.push_back({path, std::nullopt, Backend::sim, e.what(), std::nullopt});
        }
    }
    return jobs;
}

ScenarioResult run_job(const Job& job, const WorkloadRegistry& workloads,
                       const RunnerOptions& options) {
    if (!job.scenario) {
        ScenarioResult result;
        result.path = job.path;
        result.name = job.path.filename().string();
        result.passed = false;
        result.bad_file = true;
        result.reasons = {job.parse_error};
        result.reproduce = fmt::format("{} scenario run {}", command_name(), job.path.string());
        return result;
    }
    if (job.skip) {
        ScenarioResult result;
        result.path = job.path;
        result.name = job.scenario->name;
        result.backend = job.backend;
        result.seed_first = job.scenario->seed_first;
        result.seed_last = job.scenario->seed_last;
        result.skipped = job.skip;
        return result;
    }
    try {
        return run_scenario(*job.scenario, *workloads.find(job.scenario->run.workload), job.backend,
                            options);
    } catch (const std::exception& e) {
        ScenarioResult result;
        result.path = job.path;
        result.name = job.scenario->name;
        result.backend = job.backend;
        result.passed = false;
        result.reasons = {fmt::format("the harness failed: {}", e.what())};
        result.reproduce = reproduce_command(job.path, job.backend, std::nullopt);
        return result;
    }
}

}  // namespace

std::vector<ScenarioResult> run_scenario_files(
    const std::vector<std::filesystem::path>& files, const WorkloadRegistry& workloads,
    const RunnerOptions& options, const std::function<void(const ScenarioResult&)>& on_result) {
    const std::vector<Job> jobs = plan(files, workloads, options);
    std::vector<std::optional<ScenarioResult>> results(jobs.size());
    std::mutex mutex;
    std::condition_variable ready;
    std::atomic<std::size_t> next{0};

    auto worker = [&] {
        for (std::size_t i = next++; i < jobs.size(); i = next++) {
            ScenarioResult result = run_job(jobs[i], workloads, options);
            std::lock_guard lock(mutex);
            results[i] = std::move(result);
            ready.notify_all();
        }
    };
    const std::size_t workers =
        std::clamp<std::size_t>(options.jobs, 1, std::max<std::size_t>(jobs.size(), 1));
    std::vector<std::thread> threads;
    for (std::size_t w = 1; w < workers; ++w)
        threads.emplace_back(worker);

    // The calling thread works too, and reports results in file order as they
    // become ready.
    std::vector<ScenarioResult> done;
    std::size_t reported = 0;
    auto report_ready = [&] {
        std::unique_lock lock(mutex);
        while (reported < jobs.size() && results[reported]) {
            ScenarioResult result = std::move(*results[reported]);
            ++reported;
            lock.unlock();
            if (on_result)
                on_result(result);
            done.push_back(std::move(result));
            lock.lock();
        }
    };
    for (std::size_t i = next++; i < jobs.size(); i = next++) {
        ScenarioResult result = run_job(jobs[i], workloads, options);
        {
            std::lock_guard lock(mutex);
            results[i] = std::move(result);
        }
        report_ready();
    }
    while (reported < jobs.size()) {
        {
            std::unique_lock lock(mutex);
            ready.wait(lock, [&] { return results[reported].has_value(); });
        }
        report_ready();
    }
    for (auto& thread : threads)
        thread.join();
    return done;
}

namespace {

std::string xml_escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            default:
                // XML 1.0 allows no other control characters than tab, LF, CR.
                if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                    out += fmt::format("&#x{:x};", 0xFFFD);
                } else {
                    out += c;
                }
        }
    }
    return out;
}

}  // namespace

void write_junit(const std::filesystem::path& path, const std::vector<ScenarioResult>& results) {
    std::size_t failures = 0;
    std::size_t skipped = 0;
    double total_s = 0;
    for (const auto& r : results) {
        failures += r.passed ? 0 : 1;
        skipped += r.skipped ? 1 : 0;
        total_s += r.wall.count() / 1000.0;
    }
    std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    xml += fmt::format(
        "<testsuites name=\"ferry scenarios\" tests=\"{}\" failures=\"{}\" time=\"{:.3f}\">\n",
        results.size(), failures, total_s);
    xml += fmt::format(
        "  <testsuite name=\"scenarios\" tests=\"{}\" failures=\"{}\" errors=\"0\" "
        "skipped=\"{}\" time=\"{:.3f}\">\n",
        results.size(), failures, skipped, total_s);
    for (const auto& r : results) {
        xml += fmt::format("    <testcase classname=\"{}\" name=\"{} [{}]\" time=\"{:.3f}\"",
                           xml_escape(r.path.string()), xml_escape(r.name), to_string(r.backend),
                           r.wall.count() / 1000.0);
        if (r.skipped) {
            xml += fmt::format(">\n      <skipped message=\"{}\"/>\n    </testcase>\n",
                               xml_escape(*r.skipped));
            continue;
        }
        if (r.passed) {
            xml += "/>\n";
            continue;
        }
        std::string body;
        for (const auto& reason : r.reasons)
            body += reason + "\n";
        if (r.failed_seed)
            body += fmt::format("seed: {}\n", *r.failed_seed);
        body += fmt::format("reproduce: {}\n", r.reproduce);
        if (!r.recent_events.empty())
            body += "last events:\n" + r.recent_events;
        const std::string first = r.reasons.empty() ? "failed" : r.reasons.front();
        xml += fmt::format(
            ">\n      <failure message=\"{}\" type=\"{}\">{}</failure>\n    </testcase>\n",
            xml_escape(first.substr(0, first.find('\n'))), to_string(r.outcome), xml_escape(body));
    }
    xml += "  </testsuite>\n</testsuites>\n";

    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out)
        throw std::runtime_error(fmt::format("cannot write JUnit XML to {}", path.string()));
    out << xml;
    if (!out.flush())
        throw std::runtime_error(fmt::format("cannot write JUnit XML to {}", path.string()));
}

}  // namespace ferry::harness
