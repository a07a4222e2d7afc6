// ferry sim: one simulated run of any workload (or a range of seeds of it),
// through the one simulated driver, judged by the workload's model and
// printed with its trace digest and the command that reproduces it.

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

#include <fmt/core.h>

#include "cli/commands.h"
#include "cli/fault_flags.h"
#include "cli/number_checks.h"
#include "cli/run_report.h"
#include "cli/workloads.h"
#include "ferry/harness/command_name.h"
#include "ferry/harness/run_text.h"
#include "ferry/harness/sim_driver.h"
#include "ferry/harness/value_text.h"
#include "ferry/sim/recording.h"
#include "ferry/views/views.h"

namespace ferry::cli {

namespace {

struct SimCommandOptions {
    std::string workload = "ferry";
    std::optional<std::uint64_t> size_bytes;
    std::optional<std::uint64_t> chunk_bytes;
    std::optional<std::string> run_text;
    std::optional<std::uint64_t> seed;
    std::optional<std::string> seeds;
    std::optional<std::uint64_t> stall_for_ms;
    std::optional<std::string> trace_path;
    views::ViewPaths view_paths;
    std::optional<std::uint64_t> time_budget_s;
    FaultFlags faults;
};

class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// The run a seed is substituted into, and how to say it again.
struct Plan {
    const harness::Workload* workload = nullptr;
    harness::RunSpec spec;
    std::uint64_t first_seed = 1;
    std::uint64_t last_seed = 1;
    bool range = false;
    bool from_text = false;  ///< --run: reproduce with --run, not flags
};

harness::RunSpec spec_from_flags(const SimCommandOptions& o, const harness::Workload& workload) {
    if (!o.size_bytes)
        throw UsageError("give --size N (or a whole run with --run TEXT)");
    harness::RunSpec spec;
    spec.workload = std::string(workload.name());
    spec.work = workload.simple_case(*o.size_bytes);
    if (o.chunk_bytes) {
        if (*o.chunk_bytes == 0)
            throw UsageError("--chunk-size must be at least 1");
        if (!harness::find_spec(workload.schema().settings, "chunk_size"))
            throw UsageError(fmt::format("workload {} has no chunk size", workload.name()));
        harness::set_param(spec.work.settings, "chunk_size", *o.chunk_bytes);
    }
    return spec;
}

void apply_options(const SimCommandOptions& o, Plan& plan) {
    if (auto error = apply_fault_flags(o.faults, plan.spec.faults))
        throw UsageError(*error);
    if (o.stall_for_ms) {
        if (!plan.spec.faults.network.stall)
            throw UsageError("--stall-for-ms needs --stall");
        plan.spec.faults.network.stall->duration = std::chrono::milliseconds(*o.stall_for_ms);
    }
    if (o.time_budget_s) {
        if (*o.time_budget_s == 0)
            throw UsageError("--time-budget-s must be at least 1");
        plan.spec.time_budget = std::chrono::seconds(*o.time_budget_s);
    }
    if (o.seeds) {
        const auto range = harness::parse_range(*o.seeds);
        if (!range)
            throw UsageError(fmt::format("--seeds: \"{}\" is not A..B", *o.seeds));
        std::tie(plan.first_seed, plan.last_seed) = *range;
        plan.range = true;
        if (o.trace_path)
            throw UsageError("--trace needs a single --seed");
        if (o.view_paths.any())
            throw UsageError("--svg, --pcap and --perfetto need a single --seed");
    } else {
        plan.first_seed = plan.last_seed = o.seed.value_or(plan.spec.seed);
    }
}

Plan make_plan(const SimCommandOptions& o) {
    Plan plan;
    const harness::WorkloadRegistry& workloads = known_workloads();
    if (o.run_text) {
        std::string error;
        auto spec = harness::parse_run_spec_text(*o.run_text, workloads, &error);
        if (!spec)
            throw UsageError(fmt::format("--run: {}", error));
        plan.spec = std::move(*spec);
        plan.from_text = true;
    } else {
        const harness::Workload* w = workloads.find(o.workload);
        if (w == nullptr)
            throw UsageError(
                fmt::format("--workload: \"{}\" is not one of {}", o.workload, workloads.names()));
        plan.spec = spec_from_flags(o, *w);
    }
    plan.workload = workloads.find(plan.spec.workload);
    apply_options(o, plan);
    return plan;
}

std::string reproduce(const SimCommandOptions& o, const Plan& plan, std::uint64_t seed) {
    harness::RunSpec spec = plan.spec;
    spec.seed = seed;
    if (plan.from_text)
        return fmt::format("{} sim --run '{}'", harness::command_name(),
                           harness::run_spec_text(spec, *plan.workload));
    std::string flags = fmt::format("--workload {} --size {}", o.workload, *o.size_bytes);
    if (o.chunk_bytes)
        flags += fmt::format(" --chunk-size {}", *o.chunk_bytes);
    const std::string faults = fault_flags_text(spec.faults);
    if (!faults.empty())
        flags += " " + faults;
    if (o.time_budget_s)
        flags += fmt::format(" --time-budget-s {}", *o.time_budget_s);
    return fmt::format("ferry sim {} --seed {}", flags, seed);
}

int run_one(const SimCommandOptions& o, Plan& plan) {
    std::ofstream trace;
    harness::SimDriverOptions driver;
    if (o.trace_path) {
        trace.open(*o.trace_path, std::ios::out | std::ios::trunc);
        if (!trace)
            throw UsageError(fmt::format("cannot write {}", *o.trace_path));
        driver.trace_json = &trace;
    }
    sim::Recording recording;
    if (o.view_paths.any()) {
        views::prepare_recording(recording, o.view_paths);
        driver.recording = &recording;
    }
    plan.spec.seed = plan.first_seed;
    const harness::RunResult result = harness::run_on_sim(*plan.workload, plan.spec, driver);
    fmt::print("seed {}: {}\n", plan.first_seed, outcome_text(result));
    print_run_report(result);
    fmt::print("reproduce: {}\n", reproduce(o, plan, plan.first_seed));
    if (o.view_paths.any()) {
        try {
            views::write_views(recording, o.view_paths);
        } catch (const views::ViewWriteError& e) {
            throw UsageError(e.what());
        }
        fmt::print("{}\n", views::view_paths_text(o.view_paths));
    }
    return harness::exit_code(result.failure);
}

int run_range(const SimCommandOptions& o, Plan& plan) {
    std::map<std::string, std::uint64_t> counts;
    std::optional<std::pair<std::uint64_t, harness::RunResult>> first_failure;
    int worst = exit_ok;
    for (std::uint64_t seed = plan.first_seed;; ++seed) {
        plan.spec.seed = seed;
        harness::RunResult result = harness::run_on_sim(*plan.workload, plan.spec);
        ++counts[outcome_text(result)];
        worst = std::max(worst, harness::exit_code(result.failure));
        if (!result.passed() && !first_failure)
            first_failure.emplace(seed, std::move(result));
        if (seed == plan.last_seed)
            break;
    }
    fmt::print("seeds {}..{}: {} runs\n", plan.first_seed, plan.last_seed,
               plan.last_seed - plan.first_seed + 1);
    for (const auto& [outcome, count] : counts)
        fmt::print("  {:<40} {}\n", fmt::format("{}:", outcome), count);
    if (first_failure) {
        fmt::print("first failing seed: {}\n", first_failure->first);
        print_run_report(first_failure->second);
        fmt::print("reproduce: {}\n", reproduce(o, plan, first_failure->first));
    }
    return worst;
}

int run_sim(const SimCommandOptions& o) {
    try {
        Plan plan = make_plan(o);
        return plan.range ? run_range(o, plan) : run_one(o, plan);
    } catch (const UsageError& e) {
        fmt::print(stderr, "ferry sim: {}\n", e.what());
        return exit_usage;
    }
}

}  // namespace

void add_sim_command(CLI::App& app, ExitStatus& status) {
    auto options = std::make_shared<SimCommandOptions>();
    CLI::App* sim = app.add_subcommand(
        "sim",
        "Run one workload (the real protocol code) on the simulated network; exit 0 passed, 1 "
        "failed, 2 usage error, 3 deadlock, 4 time budget exceeded");
    sim->add_option("--workload,--protocol", options->workload,
                    fmt::format("Which workload: {}", known_workloads().names()))
        ->capture_default_str();
    auto* size = sim->add_option("--size", options->size_bytes,
                                 "Bytes the workload's one client moves (generated from the seed)")
                     ->check(whole_number_at_least(0));
    sim->add_option("--chunk-size", options->chunk_bytes,
                    "The protocol's chunk (naive: CHUNK_SIZE, 1024; ferry: bytes per recv, 65536)")
        ->check(whole_number_at_least(1));
    auto* run = sim->add_option("--run", options->run_text,
                                "A whole run in its text form, as a failure prints it");
    run->excludes(size);
    auto* seed = sim->add_option("--seed", options->seed, "The seed that decides everything (1)");
    auto* seeds = sim->add_option("--seeds", options->seeds, "Run every seed in A..B");
    seed->excludes(seeds);
    sim->add_option("--stall-for-ms", options->stall_for_ms,
                    "How long a --stall lasts (the same as --stall SIDE:BYTES+MS)")
        ->group("Faults");
    sim->add_option("--trace", options->trace_path, "Write the trace as JSON lines to FILE");
    sim->add_option("--svg", options->view_paths.svg,
                    "Draw the run as an SVG sequence diagram in FILE (docs/seeing-a-run.md)")
        ->type_name("FILE")
        ->group("Views");
    sim->add_option("--pcap", options->view_paths.pcap,
                    "Write the run's TCP traffic to FILE as a pcap that tshark and Wireshark read")
        ->type_name("FILE")
        ->group("Views");
    sim->add_option("--perfetto", options->view_paths.perfetto,
                    "Write the run as a Perfetto/Chrome trace-event JSON timeline to FILE")
        ->type_name("FILE")
        ->group("Views");
    sim->add_option("--time-budget-s", options->time_budget_s,
                    "Virtual seconds after which an unfinished run is a liveness failure (600)");
    add_fault_flags(*sim, options->faults);
    sim->footer(
        "Every choice (scheduling, cuts, latency, faults) comes from the seed: the same command\n"
        "gives the same run, trace and digest. The fault flags are those of docs/faults.md.\n\n"
        "Examples:\n"
        "  ferry sim --workload naive --size 1024                 # the chapter's deadlock (exit "
        "3)\n"
        "  ferry sim --workload naive --size 1025 --short-reads --seeds 1..50\n"
        "  ferry sim --workload ferry --size 100000 --partial-sends 1/2 --short-reads --seeds "
        "1..200\n"
        "  ferry sim --workload ferry --size 4096 --stall server:1000 --trace run.jsonl\n"
        "  ferry sim --workload naive --size 1024 --svg run.svg --pcap run.pcap --perfetto "
        "run.json\n"
        "  ferry sim --run 'ferry client(put(a.bin,size=3) get(a.bin)) reset=client:40 seed=2'");
    sim->callback([options, &status] { status.code = run_sim(*options); });
}

}  // namespace ferry::cli
