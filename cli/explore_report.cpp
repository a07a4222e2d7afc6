#include "cli/explore_report.h"

#include <filesystem>
#include <fstream>

#include <fmt/core.h>

#include "cli/run_report.h"
#include "ferry/harness/command_name.h"
#include "ferry/harness/run_text.h"
#include "ferry/harness/scenario_export.h"
#include "ferry/harness/sim_driver.h"
#include "ferry/sim/recording.h"
#include "ferry/views/views.h"

namespace ferry::cli {

namespace {

std::string slug(std::string_view text) {
    std::string out;
    for (char ch : text) {
        const bool alnum = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
        if (alnum) {
            out += ch;
        } else if (ch >= 'A' && ch <= 'Z') {
            out += static_cast<char>(ch - 'A' + 'a');
        } else if (!out.empty() && out.back() != '-') {
            out += '-';
        }
    }
    while (!out.empty() && out.back() == '-')
        out.pop_back();
    return out;
}

}  // namespace

std::string replay_command(const harness::RunSpec& spec, const harness::Workload& workload) {
    return fmt::format("{} explore --replay '{}'", harness::command_name(),
                       harness::run_spec_text(spec, workload));
}

namespace {

/// Replays the minimal case with a recording and writes its views beside its
/// scenario file (same name, .svg, .pcap, .perfetto.json).
void save_views(const std::filesystem::path& scenario_path, const harness::Finding& f,
                const harness::Workload& workload) {
    sim::Recording recording;
    harness::SimDriverOptions driver;
    driver.recording = &recording;
    harness::run_on_sim(workload, f.minimal, driver);
    const views::ViewPaths paths =
        views::view_paths_in(scenario_path.parent_path(), scenario_path.stem().string());
    try {
        views::write_views(recording, paths);
    } catch (const views::ViewWriteError& e) {
        fmt::print(stderr, "ferry explore: {}\n", e.what());
        return;
    }
    fmt::print("{}\n", views::view_paths_text(paths));
}

}  // namespace

void save_scenario(const std::string& folder, const harness::Finding& f,
                   const harness::Workload& workload) {
    std::string why_not;
    const auto toml = harness::scenario_for_run(f.minimal, f.minimal_result, workload, &why_not);
    if (!toml) {
        fmt::print("  (no scenario file: {}; use the replay command)\n", why_not);
        return;
    }
    const std::filesystem::path path =
        std::filesystem::path(folder) /
        fmt::format("{}-{}.toml", workload.name(), slug(f.minimal_result.failure->signature()));
    std::ofstream out(path, std::ios::out | std::ios::trunc);
    out << *toml;
    if (!out) {
        fmt::print(stderr, "ferry explore: cannot write {}\n", path.string());
        return;
    }
    fmt::print("scenario: {} ({} scenario run {})\n", path.string(), harness::command_name(),
               path.string());
    save_views(path, f, workload);
}

void print_finding(const harness::Finding& f, const harness::Workload& workload) {
    fmt::print("FOUND {} at run {} after {:.3f} s\n",
               f.minimal_result.failure ? f.minimal_result.failure->signature()
                                        : f.found_result.failure->signature(),
               f.run_index + 1, f.seconds);
    fmt::print("  as found: {}\n", harness::run_spec_text(f.found, workload));
    fmt::print("shrunk in {} runs to this minimal case:\n", f.shrink_runs);
    fmt::print("{}", describe_run(f.minimal, f.minimal_result, workload));
    fmt::print("replay: {}\n", replay_command(f.minimal, workload));
}

}  // namespace ferry::cli
