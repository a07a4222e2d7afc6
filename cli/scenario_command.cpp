// ferry scenario run: scenario files on the simulator and on real sockets,
// one line per scenario and backend, the reason, seed and command for each
// failure, a summary, and JUnit XML for CI.

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.h"
#include "cli/workloads.h"
#include "ferry/harness/runner.h"

namespace ferry::cli {

namespace {

struct ScenarioRunOptions {
    std::vector<std::string> paths;
    std::string backend = "scenario";
    std::optional<std::uint64_t> seed;
    std::optional<std::string> junit;
    std::optional<std::string> trace_dir;
    std::size_t jobs = 1;
    bool no_determinism_check = false;
    bool trace_all = false;
};

std::string seeds_text(const harness::ScenarioResult& r) {
    if (r.seed_first == r.seed_last)
        return fmt::format("seed {}", r.seed_first);
    return fmt::format("seeds {}..{}", r.seed_first, r.seed_last);
}

/// Prints how many runs passed, failed and were skipped; true if any failed.
bool print_summary(const std::vector<harness::ScenarioResult>& results) {
    std::size_t passed = 0;
    std::size_t failed = 0;
    std::size_t skipped = 0;
    std::chrono::milliseconds wall{0};
    for (const auto& r : results) {
        (r.skipped ? skipped : r.passed ? passed : failed) += 1;
        wall += r.wall;
    }
    fmt::print("\n{} scenario runs in {} ms of scenario time\n", results.size(), wall.count());
    if (skipped == 0)
        fmt::print("{} passed, {} failed\n", passed, failed);
    else
        fmt::print("{} passed, {} failed, {} skipped\n", passed, failed, skipped);
    return failed != 0;
}

void print_result(const harness::ScenarioResult& r, bool color) {
    const char* mark = r.passed ? (color ? "\033[32mPASS\033[0m" : "PASS")
                                : (color ? "\033[31mFAIL\033[0m" : "FAIL");
    if (r.skipped) {
        fmt::print("{}  {:<4}  {}  {}\n", color ? "\033[33mSKIP\033[0m" : "SKIP",
                   harness::to_string(r.backend), r.path.string(), *r.skipped);
        std::fflush(stdout);
        return;
    }
    if (r.bad_file) {
        fmt::print("{}  file  {}  (cannot be read)\n      {}\n", mark, r.path.string(),
                   r.reasons.empty() ? "" : r.reasons.front());
        std::fflush(stdout);
        return;
    }
    fmt::print("{}  {:<4}  {}  ({}, {}, {} ms)  {}\n", mark, harness::to_string(r.backend),
               r.path.string(), seeds_text(r), harness::to_string(r.outcome), r.wall.count(),
               r.name);
    if (r.passed)
        return;
    for (const auto& reason : r.reasons) {
        std::string indented = reason;
        for (std::size_t at = indented.find('\n'); at != std::string::npos;
             at = indented.find('\n', at + 7)) {
            indented.replace(at, 1, "\n      ");
        }
        fmt::print("      {}\n", indented);
    }
    if (r.failed_seed)
        fmt::print("      seed: {}\n", *r.failed_seed);
    if (!r.recent_events.empty()) {
        fmt::print("      last events:\n");
        std::string events = r.recent_events;
        std::size_t start = 0;
        while (start < events.size()) {
            const std::size_t end = events.find('\n', start);
            fmt::print("        {}\n", events.substr(start, end - start));
            if (end == std::string::npos)
                break;
            start = end + 1;
        }
    }
    fmt::print("      reproduce: {}\n", r.reproduce);
    if (!r.views.empty())
        fmt::print("      {}\n", r.views);
    std::fflush(stdout);
}

int run(const ScenarioRunOptions& options) {
    harness::RunnerOptions runner;
    if (options.backend == "sim") {
        runner.backends = harness::BackendChoice::sim;
    } else if (options.backend == "real") {
        runner.backends = harness::BackendChoice::real;
    } else if (options.backend == "both") {
        runner.backends = harness::BackendChoice::both;
    }
    runner.seed = options.seed;
    if (options.trace_dir) {
        std::error_code error;
        std::filesystem::create_directories(*options.trace_dir, error);
        if (error) {
            fmt::print(stderr, "ferry scenario run: cannot create --trace-dir {}: {}\n",
                       *options.trace_dir, error.message());
            return exit_usage;
        }
        runner.trace_dir = *options.trace_dir;
    } else if (options.trace_all) {
        fmt::print(stderr, "ferry scenario run: --trace-all needs --trace-dir DIR\n");
        return exit_usage;
    }
    runner.views_for_every_run = options.trace_all;
    runner.check_determinism = !options.no_determinism_check;
    runner.jobs = options.jobs;

    std::vector<std::filesystem::path> paths(options.paths.begin(), options.paths.end());
    std::vector<std::filesystem::path> files;
    try {
        files = harness::collect_scenario_files(paths);
    } catch (const harness::ScenarioError& e) {
        fmt::print(stderr, "ferry scenario run: {}\n", e.what());
        return exit_usage;
    }
    if (files.empty()) {
        fmt::print(stderr, "ferry scenario run: no .toml scenario files under the given paths\n");
        return exit_usage;
    }

    const bool color = ::isatty(STDOUT_FILENO) == 1;
    const auto results = harness::run_scenario_files(
        files, known_workloads(), runner, [&](const auto& r) { print_result(r, color); });

    const bool failed = print_summary(results);
    const bool bad_file = std::any_of(results.begin(), results.end(),
                                      [](const harness::ScenarioResult& r) { return r.bad_file; });
    if (options.junit) {
        try {
            harness::write_junit(*options.junit, results);
        } catch (const std::exception& e) {
            fmt::print(stderr, "ferry scenario run: {}\n", e.what());
            return exit_usage;
        }
    }
    if (bad_file)
        return exit_usage;
    return failed ? exit_failed : exit_ok;
}

}  // namespace

void add_scenario_command(CLI::App& app, ExitStatus& status) {
    auto* scenario = app.add_subcommand("scenario", "Run scenario files (see docs/scenarios.md)");
    scenario->require_subcommand(1);
    scenario->footer(
        "Examples:\n"
        "  ferry scenario run scenarios/                   every file, on the backends each lists\n"
        "  ferry scenario run scenarios/ --backend both    on the simulator and real sockets");
    auto options = std::make_shared<ScenarioRunOptions>();
    auto* run_cmd = scenario->add_subcommand(
        "run", "Run scenario files on the simulator and/or real sockets on 127.0.0.1");
    run_cmd->add_option("paths", options->paths, "Scenario files, or folders searched for *.toml")
        ->required();
    run_cmd
        ->add_option("--backend", options->backend,
                     "Where to run: sim, real, both, or scenario: the backends each file lists "
                     "(the default)")
        ->check(CLI::IsMember({"scenario", "sim", "real", "both"}));
    run_cmd->add_option("--seed", options->seed, "Run only this seed");
    run_cmd->add_option("--junit", options->junit, "Write JUnit XML results to this file");
    run_cmd->add_option("--trace-dir", options->trace_dir,
                        "Write each simulated run's trace here as JSON lines, each failing "
                        "simulated seed's SVG, pcap and Perfetto views, and each failing real "
                        "seed's pcap of what crossed its sockets (docs/seeing-a-run.md)");
    run_cmd->add_flag("--trace-all", options->trace_all,
                      "With --trace-dir: the views of every seed, not only failing ones");
    run_cmd->add_option("--jobs,-j", options->jobs, "Scenario runs at once")
        ->check(CLI::Range(1, 64));
    run_cmd->add_flag("--no-determinism-check", options->no_determinism_check,
                      "Run each simulated seed once instead of twice");
    run_cmd->footer(
        "Each simulated seed runs twice and its trace digests must match.\n"
        "Exit codes: 0 every expectation held, 1 a scenario failed, 2 a bad file or usage.\n\n"
        "Examples:\n"
        "  ferry scenario run scenarios/\n"
        "  ferry scenario run scenarios/ --backend both --junit results.xml\n"
        "  ferry scenario run scenarios/chapter/naive-exactly-one-chunk-deadlocks.toml --seed 3\n"
        "  ferry scenario run scenarios/chapter --trace-dir views/   # pictures of each failure");
    run_cmd->callback([options, &status] { status.code = run(*options); });
}

}  // namespace ferry::cli
