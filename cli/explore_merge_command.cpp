// ferry explore merge: the results of the shards of one exploration
// (`ferry explore --shard K/N --results FILE`) as one process would have
// reported them (harness/explore_results.h): every finding described again,
// with its replay command and, with --save-failures, its scenario file.

#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "cli/commands.h"
#include "cli/explore_report.h"
#include "cli/workloads.h"
#include "ferry/harness/explore_results.h"
#include "ferry/harness/run_text.h"
#include "ferry/harness/sim_driver.h"

namespace ferry::cli {

namespace {

struct MergeOptions {
    std::vector<std::string> files;
    std::optional<std::string> save_failures;
};

class MergeError : public std::runtime_error {
  public:
    MergeError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }

  private:
    int code_;
};

harness::ExploreResults read_results(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        throw MergeError(exit_usage, fmt::format("cannot read {}", path));
    std::stringstream text;
    text << in.rdbuf();
    std::string error;
    auto results = harness::parse_results_json(text.str(), &error);
    if (!results)
        throw MergeError(exit_usage, fmt::format("{} is not a results file: {}", path, error));
    return *results;
}

harness::RunSpec parse_run(const std::string& text) {
    std::string error;
    auto spec = harness::parse_run_spec_text(text, known_workloads(), &error);
    if (!spec)
        throw MergeError(exit_usage, fmt::format("a finding's run does not parse: {}", error));
    return *spec;
}

/// The finding as the single process reported it: its minimal case run
/// again (deterministic) for the full report.
harness::Finding finding_of(const harness::ExploreResults::Found& found,
                            const harness::Workload& workload) {
    harness::Finding f;
    f.run_index = found.global_run;
    f.seconds = found.seconds;
    f.found = parse_run(found.found);
    f.minimal = parse_run(found.minimal);
    f.shrink_runs = found.shrink_runs;
    f.minimal_result = harness::run_on_sim(workload, f.minimal);
    f.found_result = f.minimal_result;
    return f;
}

int report(const harness::ExploreResults& merged, std::size_t shards, const MergeOptions& o) {
    const harness::Workload* workload = known_workloads().find(merged.workload);
    if (workload == nullptr)
        throw MergeError(exit_usage, fmt::format("unknown workload \"{}\"", merged.workload));
    int code = exit_ok;
    for (const harness::ExploreResults::Found& found : merged.findings) {
        const harness::Finding f = finding_of(found, *workload);
        if (!f.minimal_result.failure) {
            fmt::print("note: the minimal case of {} passes when run again here\n",
                       found.signature);
        }
        code = std::max(code, harness::exit_code(f.minimal_result.failure));
        print_finding(f, *workload);
        if (o.save_failures)
            save_scenario(*o.save_failures, f, *workload);
        fmt::print("\n");
    }
    fmt::print(
        "{} runs from {} {} ({:.2f} s on the slowest; {:.0f} runs per CPU-second), {} {} "
        "found\n",
        merged.runs, shards, shards == 1 ? "shard" : "shards", merged.seconds,
        merged.cpu_seconds > 0 ? static_cast<double>(merged.runs) / merged.cpu_seconds : 0,
        merged.findings.size(),
        merged.findings.size() == 1 ? "kind of failure" : "kinds of failure");
    fmt::print("explored with: {}\n", merged.exploration);
    return code;
}

int run_merge(const MergeOptions& o) {
    try {
        std::vector<harness::ExploreResults> shards;
        for (const std::string& path : o.files)
            shards.push_back(read_results(path));
        std::string error;
        const auto merged = harness::merge_results(shards, &error);
        if (!merged)
            throw MergeError(exit_usage, error);
        if (const auto missing = harness::missing_shards(shards); !missing.empty()) {
            std::string list;
            for (const std::uint64_t k : missing)
                list += fmt::format("{}{}", list.empty() ? "" : ", ", k);
            fmt::print(stderr, "ferry explore merge: warning: shard{} {} of {} {} missing\n",
                       missing.size() == 1 ? "" : "s", list, shards.front().shard_count,
                       missing.size() == 1 ? "is" : "are");
        }
        for (const harness::ExploreResults& shard : shards) {
            if (shard.interrupted) {
                fmt::print(stderr,
                           "ferry explore merge: warning: shard {} of {} was interrupted after {} "
                           "runs: the merge covers fewer runs than the exploration asked for\n",
                           shard.shard_index + 1, shard.shard_count, shard.runs);
            }
        }
        if (o.save_failures) {
            std::error_code ec;
            std::filesystem::create_directories(*o.save_failures, ec);
            if (ec) {
                throw MergeError(exit_usage, fmt::format("cannot create {}: {}", *o.save_failures,
                                                         ec.message()));
            }
        }
        return report(*merged, shards.size(), o);
    } catch (const MergeError& e) {
        fmt::print(stderr, "ferry explore merge: {}\n", e.what());
        return e.code();
    }
}

}  // namespace

CLI::App* add_explore_merge_command(CLI::App& explore, ExitStatus& status) {
    auto options = std::make_shared<MergeOptions>();
    CLI::App* cmd = explore.add_subcommand(
        "merge",
        "Combine the --results files of the shards of one exploration into what one process "
        "would have reported: every kind of failure with its minimal case, replay command and "
        "scenario file; exit codes as explore's");
    cmd->add_option("files", options->files, "The shards' --results files")
        ->required()
        ->check(CLI::ExistingFile);
    cmd->add_option("--save-failures", options->save_failures,
                    "Write each failure as a scenario file that replays it into this folder");
    cmd->footer(
        "Example:\n"
        "  for k in 1 2 3 4; do ferry explore --workload ferry --runs 1000000 --shard $k/4 "
        "--results $k.json & done; wait\n"
        "  ferry explore merge 1.json 2.json 3.json 4.json --save-failures found/");
    cmd->callback([options, &status] { status.code = run_merge(*options); });
    return cmd;
}

}  // namespace ferry::cli
