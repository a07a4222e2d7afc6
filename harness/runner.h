#pragma once
// Running scenario files: every seed of each on each chosen backend, judged;
// in the simulator each seed runs twice and the trace digests must match.
// Results come back as data; cli/scenario_command.cpp prints them and
// junit.h writes them for CI.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "ferry/harness/scenario.h"
#include "ferry/harness/workload.h"

namespace ferry::harness {

/// Scenario files among paths: files as given, folders searched recursively
/// for *.toml; sorted, without repeats. Throws ScenarioError for a path that
/// does not exist.
std::vector<std::filesystem::path> collect_scenario_files(
    const std::vector<std::filesystem::path>& paths);

enum class BackendChoice { scenario, sim, real, both };

struct RunnerOptions {
    BackendChoice backends = BackendChoice::scenario;  ///< scenario = what each file lists
    std::optional<std::uint64_t> seed;                 ///< run only this seed
    /// Sim traces, one file per seed, and the views (views/views.h) of each
    /// failing sim seed, named SCENARIO-sim-seedN.
    std::optional<std::filesystem::path> trace_dir;
    bool views_for_every_run = false;  ///< with trace_dir: views of passing seeds too
    bool check_determinism = true;     ///< run each sim seed twice
    std::size_t jobs = 1;
};

/// One scenario on one backend over its seeds.
struct ScenarioResult {
    std::filesystem::path path;
    std::string name;
    Backend backend = Backend::sim;
    std::uint64_t seed_first = 0;
    std::uint64_t seed_last = 0;
    bool passed = true;
    bool bad_file = false;            ///< the file did not parse: reasons holds the error
    Outcome outcome = Outcome::pass;  ///< of the first failing seed, else of the last
    std::optional<std::uint64_t> failed_seed;
    std::vector<std::string> reasons;  ///< for the failing seed
    std::string recent_events;         ///< sim: the trace's tail for the failing seed
    std::vector<OpRecord> history;     ///< of the failing seed
    std::chrono::milliseconds wall{0};
    /// The command that reruns the failing seed (or the whole, when it passed).
    std::string reproduce;
    /// "views: A.svg A.pcap A.perfetto.json" of the failing seed, when written.
    std::string views;
    /// Why it did not run (passed stays true): a backend the scenario does
    /// not list, forced by --backend, that cannot inject one of its faults.
    std::optional<std::string> skipped;
};

/// Runs one parsed scenario on one backend.
ScenarioResult run_scenario(const Scenario& scenario, const Workload& workload, Backend backend,
                            const RunnerOptions& options);

/// Parses and runs every file; a file that does not parse becomes a failed
/// result with the parse error as its reason. on_result is called as each
/// result is ready (from the calling thread, in file order).
std::vector<ScenarioResult> run_scenario_files(
    const std::vector<std::filesystem::path>& files, const WorkloadRegistry& workloads,
    const RunnerOptions& options, const std::function<void(const ScenarioResult&)>& on_result = {});

/// Writes results as JUnit XML (one testsuite, one testcase per scenario and
/// backend). Throws std::runtime_error if the file cannot be written.
void write_junit(const std::filesystem::path& path, const std::vector<ScenarioResult>& results);

}  // namespace ferry::harness
