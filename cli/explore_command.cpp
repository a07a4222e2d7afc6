// ferry explore: property-based exploration of any workload in the simulator
// (harness/explore.h). Runs its edge cases, then draws cases, fault plans and
// schedules, judges each run by the workload's model, shrinks the first
// failure of each kind to a minimal run, prints it in words with the command
// that replays it, and can save it as a scenario file.

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <fmt/core.h>

#include "cli/commands.h"
#include "cli/explore_report.h"
#include "cli/interrupt.h"
#include "cli/run_report.h"
#include "cli/workloads.h"
#include "ferry/harness/command_name.h"
#include "ferry/harness/explore.h"
#include "ferry/harness/explore_results.h"
#include "ferry/harness/run_text.h"
#include "ferry/harness/scenario_export.h"
#include "ferry/harness/sim_driver.h"

namespace ferry::cli {

namespace {

struct ExploreCommandOptions {
    std::string workload = "ferry";
    std::optional<std::uint64_t> runs;
    std::optional<double> time_s;
    std::uint64_t seed = 1;
    std::string strategy = "random";
    std::optional<std::uint64_t> size_max;
    std::size_t chunk_bytes = 1024;
    std::string faults = "all";
    std::optional<std::string> shard;
    bool keep_going = false;
    bool no_shrink = false;
    std::optional<std::string> save_failures;
    std::optional<std::string> results;
    std::optional<std::string> replay;
    std::uint64_t cuts_max = 1;
    std::optional<std::uint64_t> jobs;
};

/// --jobs by default: every core.
std::uint64_t default_jobs() {
    return std::max<std::uint64_t>(std::thread::hardware_concurrency(), 1);
}

/// Runs without --runs or --time-s (random and pct; exhaustive runs to its end).
constexpr std::uint64_t default_runs = 100'000;

class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

int run_replay(const std::string& text) {
    std::string error;
    const auto spec = harness::parse_run_spec_text(text, known_workloads(), &error);
    if (!spec) {
        fmt::print(stderr, "ferry explore: --replay: {}\n", error);
        return exit_usage;
    }
    const harness::Workload& workload = *known_workloads().find(spec->workload);
    const harness::RunResult result = harness::run_on_sim(workload, *spec);
    fmt::print("{}\n", result.passed() ? "ok: the run passes" : "the run fails:");
    fmt::print("{}", describe_run(*spec, result, workload));
    fmt::print("digest: {}\n", sim::digest_to_hex(result.digest));
    fmt::print("replay: {}\n", replay_command(*spec, workload));
    return harness::exit_code(result.failure);
}

class ProgressLine {
  public:
    ProgressLine() : enabled_(::isatty(STDERR_FILENO) == 1) {}
    ~ProgressLine() { clear(); }
    ProgressLine(const ProgressLine&) = delete;
    ProgressLine& operator=(const ProgressLine&) = delete;

    void draw(const harness::ExploreProgress& p) {
        if (!enabled_)
            return;
        const double rate = p.seconds > 0 ? static_cast<double>(p.runs) / p.seconds : 0;
        fmt::print(stderr, "\r\033[K  explore: {} runs  {:.0f} runs/s  {} failures  {:.1f} s",
                   p.runs, rate, p.failures, p.seconds);
        std::fflush(stderr);
        drawn_ = true;
    }
    void clear() {
        if (enabled_ && drawn_) {
            fmt::print(stderr, "\r\033[K");
            std::fflush(stderr);
            drawn_ = false;
        }
    }

  private:
    bool enabled_;
    bool drawn_ = false;
};

}  // namespace
}  // namespace ferry::cli

namespace ferry::cli {

namespace {

void parse_shard(const std::string& text, harness::ExploreOptions& options) {
    const auto slash = text.find('/');
    std::uint64_t k = 0;
    std::uint64_t n = 0;
    try {
        if (slash != std::string::npos) {
            k = std::stoull(text.substr(0, slash));
            n = std::stoull(text.substr(slash + 1));
        }
    } catch (const std::exception&) {
        n = 0;
    }
    if (n == 0 || k == 0 || k > n)
        throw UsageError(fmt::format("--shard: expected K/N with 1 <= K <= N, got \"{}\"", text));
    options.shard_index = k - 1;
    options.shard_count = n;
}

harness::ExploreOptions make_options(const ExploreCommandOptions& o,
                                     const harness::Workload& workload) {
    harness::ExploreOptions options;
    options.strategy = o.strategy == "pct"          ? harness::Strategy::pct
                       : o.strategy == "exhaustive" ? harness::Strategy::exhaustive
                                                    : harness::Strategy::random;
    options.seed = o.seed;
    options.draw.chunk_bytes = o.chunk_bytes;
    options.draw.size_max =
        o.size_max.value_or(options.strategy == harness::Strategy::exhaustive ? 64 : 4096);
    options.keep_going = o.keep_going;
    options.shrink = !o.no_shrink;
    options.exhaustive_cuts_max = o.cuts_max;
    std::string error;
    const auto faults = harness::parse_knob_list(o.faults, &error);
    if (!faults)
        throw UsageError(fmt::format("--faults: {}", error));
    options.faults = *faults & workload.relevant_knobs();
    if (const harness::KnobSet unused = *faults & ~options.faults;
        unused != 0 && o.faults != "all" && o.faults != "benign") {
        fmt::print(stderr, "ferry explore: the {} workload has no use for {}: left out\n",
                   workload.name(), harness::knob_list_text(unused));
    }
    if (o.shard)
        parse_shard(*o.shard, options);
    if (o.jobs && *o.jobs == 0)
        throw UsageError("--jobs must be at least 1");
    options.jobs = o.jobs.value_or(default_jobs());
    if (o.time_s) {
        if (*o.time_s <= 0)
            throw UsageError("--time-s must be positive");
        options.time_limit = std::chrono::duration<double>(*o.time_s);
    }
    options.runs = o.runs;
    if (!o.runs && !o.time_s && options.strategy != harness::Strategy::exhaustive)
        options.runs = default_runs;
    return options;
}

std::string how_text(const ExploreCommandOptions& o, const harness::ExploreOptions& options) {
    std::string how = fmt::format("{} explore --workload {} --strategy {} --seed {}",
                                  harness::command_name(), o.workload, o.strategy, o.seed);
    if (options.runs)
        how += fmt::format(" --runs {}", *options.runs);
    if (o.time_s)
        how += fmt::format(" --time-s {}", *o.time_s);
    how += fmt::format(" --size-max {} --chunk-size {} --faults {}", options.draw.size_max,
                       options.draw.chunk_bytes, harness::knob_list_text(options.faults));
    if (o.shard)
        how += fmt::format(" --shard {}", *o.shard);
    if (o.keep_going)
        how += " --keep-going";
    if (options.strategy == harness::Strategy::exhaustive)
        how += fmt::format(" --cuts-max {}", o.cuts_max);
    return how;
}

}  // namespace
}  // namespace ferry::cli

namespace ferry::cli {

namespace {

/// --results: what this shard found, for `ferry explore merge`.
void write_results(const std::string& path, const harness::ExploreSummary& summary,
                   const ExploreCommandOptions& o, const harness::ExploreOptions& options,
                   const harness::Workload& workload, bool interrupted) {
    ExploreCommandOptions unsharded = o;
    unsharded.shard.reset();
    harness::ExploreResults results =
        harness::results_of(summary, options, workload, how_text(unsharded, options));
    results.interrupted = interrupted;
    std::ofstream out(path, std::ios::out | std::ios::trunc);
    out << harness::results_json(results);
    out.close();
    if (!out)
        throw std::runtime_error(fmt::format("cannot write the results to {}", path));
    fmt::print("results: {} ({} explore merge {} ...)\n", path, harness::command_name(), path);
}

/// Fails at once, not after hours of exploring, when path cannot be
/// written; leaves nothing behind that was not there.
void check_writable(const std::string& path) {
    std::error_code ec;
    const bool existed = std::filesystem::exists(path, ec);
    std::ofstream probe(path, std::ios::out | std::ios::app);
    if (!probe)
        throw UsageError(fmt::format("--results: cannot write {}: {}", path, std::strerror(errno)));
    probe.close();
    if (!existed)
        std::filesystem::remove(path, ec);
}

int run_explore(const ExploreCommandOptions& o) {
    if (o.replay)
        return run_replay(*o.replay);
    const harness::Workload* workload = known_workloads().find(o.workload);
    if (workload == nullptr) {
        throw UsageError(fmt::format("--workload: \"{}\" is not one of {}", o.workload,
                                     known_workloads().names()));
    }
    harness::ExploreOptions options = make_options(o, *workload);
    const StopOnInterrupt interrupt;  // Ctrl-C stops; the findings are still reported and saved
    options.stop = &interrupt.requested();
    if (o.save_failures) {
        std::error_code ec;
        std::filesystem::create_directories(*o.save_failures, ec);
        if (ec)
            throw UsageError(fmt::format("cannot create {}: {}", *o.save_failures, ec.message()));
    }
    if (o.results)
        check_writable(*o.results);
    ProgressLine line;
    int code = exit_ok;
    const harness::ExploreSummary summary = harness::explore(
        *workload, options, [&](const harness::ExploreProgress& p) { line.draw(p); },
        [&](const harness::Finding& f) {
            line.clear();
            code = std::max(code,
                            harness::exit_code(f.minimal_result.failure ? f.minimal_result.failure
                                                                        : f.found_result.failure));
            print_finding(f, *workload);
            if (o.save_failures)
                save_scenario(*o.save_failures, f, *workload);
            fmt::print("\n");
            std::fflush(stdout);
        });
    line.clear();
    const double rate =
        summary.seconds > 0 ? static_cast<double>(summary.runs) / summary.seconds : 0;
    const double cpu_rate =
        summary.cpu_seconds > 0 ? static_cast<double>(summary.runs) / summary.cpu_seconds : 0;
    const std::uint64_t jobs = options.strategy == harness::Strategy::exhaustive ? 1 : options.jobs;
    const int stopped_by = interrupt.signal_number();
    fmt::print(
        "{} runs in {:.2f} s on {} {} ({:.0f} runs/s; {:.0f} per CPU-second), {} {} found{}\n",
        summary.runs, summary.seconds, jobs, jobs == 1 ? "job" : "jobs", rate, cpu_rate,
        summary.findings.size(),
        summary.findings.size() == 1 ? "kind of failure" : "kinds of failure",
        stopped_by != 0 ? "; interrupted"
        : options.strategy == harness::Strategy::exhaustive && summary.exhausted
            ? "; the enumeration is complete"
            : "");
    fmt::print("explored with: {}\n", how_text(o, options));
    if (o.results)
        write_results(*o.results, summary, o, options, *workload, stopped_by != 0);
    return stopped_by != 0 ? 128 + stopped_by : code;
}

int run_explore_command(const ExploreCommandOptions& o) {
    try {
        return run_explore(o);
    } catch (const UsageError& e) {
        fmt::print(stderr, "ferry explore: {}\n", e.what());
        return exit_usage;
    } catch (const std::runtime_error& e) {
        fmt::print(stderr, "ferry explore: {}\n", e.what());
        return exit_failed;
    }
}

}  // namespace

void add_explore_command(CLI::App& app, ExitStatus& status) {
    auto options = std::make_shared<ExploreCommandOptions>();
    CLI::App* cmd = app.add_subcommand(
        "explore",
        "Search a workload's cases, fault plans and schedules in the simulator for a run its "
        "model rejects, and shrink it to a minimal case; exit 0 nothing found, 1 failure, 3 "
        "deadlock, 4 time budget exceeded");
    cmd->add_option("--workload,--protocol", options->workload,
                    fmt::format("Which workload: {}", known_workloads().names()))
        ->capture_default_str();
    auto* runs = cmd->add_option("--runs", options->runs,
                                 "Stop after this many runs in all, over every job and shard "
                                 "(default 100000, exhaustive: all)");
    auto* time_s = cmd->add_option("--time-s", options->time_s, "Stop after this many seconds");
    runs->excludes(time_s);
    cmd->add_option("--seed", options->seed, "The seed the whole exploration derives from")
        ->capture_default_str();
    cmd->add_option("--strategy", options->strategy,
                    "random: every choice drawn uniformly; pct: priority scheduling with a few "
                    "random change points; exhaustive: every way to cut sends and reads")
        ->check(CLI::IsMember({"random", "pct", "exhaustive"}))
        ->capture_default_str();
    cmd->add_option("--size-max", options->size_max,
                    "Largest payload in bytes (default 4096; exhaustive 64)");
    cmd->add_option("--chunk-size", options->chunk_bytes, "The protocol's chunk, in bytes (C)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
        ->capture_default_str();
    cmd->add_option("--faults", options->faults,
                    "all, none, benign, cuts, or a list of the knobs in docs/faults.md")
        ->capture_default_str();
    cmd->add_option("--shard", options->shard,
                    "K/N: run only shard K of N (the N shards together do the --runs of one "
                    "unsharded run, each about --runs/N)");
    cmd->add_option("--jobs", options->jobs,
                    "Threads to explore on (default: every core); the findings and the run count "
                    "are the same whatever the number");
    cmd->add_flag("--keep-going", options->keep_going,
                  "Go on after a failure and report each new kind of failure once");
    cmd->add_flag("--no-shrink", options->no_shrink, "Report failures as found");
    cmd->add_option("--save-failures", options->save_failures,
                    "Write each failure as a scenario file that replays it into this folder, "
                    "with its SVG, pcap and Perfetto views beside it");
    cmd->add_option("--results", options->results,
                    "Write the runs and failures as JSON to this file, for `ferry explore merge` "
                    "(docs/distributed-exploration.md)");
    cmd->add_option("--cuts-max", options->cuts_max,
                    "Exhaustive: at most this many non-calm choices per run")
        ->capture_default_str();
    auto* replay = cmd->add_option("--replay", options->replay,
                                   "Run one case as printed after \"replay:\" and describe it");
    replay->excludes(runs)->excludes(time_s);
    cmd->footer(
        "Examples:\n"
        "  ferry explore --workload naive\n"
        "  ferry explore --workload ferry --time-s 20\n"
        "  ferry explore --workload kv-buggy --keep-going --save-failures found/\n"
        "  ferry explore --workload ferry --runs 1000000 --jobs 2\n"
        "  ferry explore --workload ferry --runs 1000000 --shard 2/4 --results 2.json\n"
        "  ferry explore merge 1.json 2.json 3.json 4.json --save-failures found/\n"
        "  ferry explore --workload naive --strategy exhaustive --chunk-size 4 --size-max 9\n"
        "  ferry explore --replay 'naive client(put(upload.bin,size=2)) stall=server:1 seed=1'");
    CLI::App* merge = add_explore_merge_command(*cmd, status);
    cmd->callback([options, merge, &status] {
        if (!merge->parsed())
            status.code = run_explore_command(*options);
    });
}

}  // namespace ferry::cli
