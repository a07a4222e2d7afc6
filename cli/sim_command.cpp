// ferry sim: one simulated client-server transfer of the real protocol code
// (or a range of seeds of it), judged, digested, and printed with the command
// that reproduces it.

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
#include "sim/sim_run.h"

namespace ferry::cli {

namespace {

struct SimCommandOptions {
    std::string protocol = "ferry";
    std::uint64_t size_bytes = 0;
    std::optional<std::size_t> chunk_bytes;
    std::optional<std::uint64_t> seed;
    std::optional<std::string> seeds;
    bool partial_sends = false;
    std::optional<std::size_t> max_send_bytes;
    bool short_reads = false;
    std::optional<std::string> latency_ms;
    std::optional<std::string> stall;
    std::optional<std::uint64_t> stall_for_ms;
    std::optional<std::string> reset;
    std::optional<std::string> trace_path;
    std::optional<std::uint64_t> time_budget_s;
};

/// How often --partial-sends and --short-reads cut a call short.
constexpr sim::Ratio cut_ratio{1, 2};

class UsageError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

std::uint64_t parse_number(const std::string& text, const std::string& what) {
    if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos ||
        text.size() > 19) {
        throw UsageError(fmt::format("{}: \"{}\" is not a number", what, text));
    }
    return std::stoull(text);
}

/// "A..B" (or a single "A", meaning A..A).
std::pair<std::uint64_t, std::uint64_t> parse_range(const std::string& text,
                                                    const std::string& what) {
    const auto dots = text.find("..");
    if (dots == std::string::npos) {
        const std::uint64_t value = parse_number(text, what);
        return {value, value};
    }
    const std::uint64_t low = parse_number(text.substr(0, dots), what);
    const std::uint64_t high = parse_number(text.substr(dots + 2), what);
    if (high < low)
        throw UsageError(fmt::format("{}: {} is empty", what, text));
    return {low, high};
}

/// "server" or "client", then ":N" (required or not).
std::pair<sim::Side, std::optional<std::uint64_t>> parse_side(const std::string& text,
                                                              const std::string& what,
                                                              bool bytes_required) {
    const auto colon = text.find(':');
    const std::string side_text = text.substr(0, colon);
    sim::Side side;
    if (side_text == "server") {
        side = sim::Side::server;
    } else if (side_text == "client") {
        side = sim::Side::client;
    } else {
        throw UsageError(fmt::format("{}: expected server or client, got \"{}\"", what, side_text));
    }
    if (colon == std::string::npos) {
        if (bytes_required) {
            throw UsageError(fmt::format("{}: expected {}:AFTER_BYTES", what, side_text));
        }
        return {side, std::nullopt};
    }
    return {side, parse_number(text.substr(colon + 1), what)};
}

/// The spec for one seed, and the flags that say so (without the seed).
struct Plan {
    sim::TransferSpec spec;
    std::string flags;
    std::uint64_t first_seed = 0;
    std::uint64_t last_seed = 0;
    bool range = false;
};

Plan make_plan(const SimCommandOptions& options) {
    Plan plan;
    sim::TransferSpec& spec = plan.spec;
    spec.protocol =
        options.protocol == "naive" ? sim::ProtocolKind::naive : sim::ProtocolKind::ferry;
    spec.size_bytes = options.size_bytes;
    plan.flags = fmt::format("--protocol {} --size {}", options.protocol, options.size_bytes);
    if (options.chunk_bytes) {
        if (*options.chunk_bytes == 0)
            throw UsageError("--chunk-size must be at least 1");
        spec.chunk_bytes = *options.chunk_bytes;
        plan.flags += fmt::format(" --chunk-size {}", *options.chunk_bytes);
    }
    if (options.partial_sends) {
        spec.faults.partial_sends = cut_ratio;
        plan.flags += " --partial-sends";
    }
    if (options.max_send_bytes) {
        if (*options.max_send_bytes == 0)
            throw UsageError("--max-send must be at least 1");
        spec.faults.max_send_bytes = *options.max_send_bytes;
        plan.flags += fmt::format(" --max-send {}", *options.max_send_bytes);
    }
    if (options.short_reads) {
        spec.faults.short_reads = cut_ratio;
        plan.flags += " --short-reads";
    }
    if (options.latency_ms) {
        const auto [low, high] = parse_range(*options.latency_ms, "--latency-ms");
        spec.faults.latency_ms_min = low;
        spec.faults.latency_ms_max = high;
        plan.flags += fmt::format(" --latency-ms {}..{}", low, high);
    }
    if (options.stall) {
        const auto [side, after] = parse_side(*options.stall, "--stall", false);
        sim::StallFault stall;
        stall.side = side;
        stall.after_bytes = after.value_or(0);
        if (options.stall_for_ms)
            stall.duration = std::chrono::milliseconds(*options.stall_for_ms);
        spec.faults.stall = stall;
        plan.flags += fmt::format(" --stall {}:{}", sim::to_string(side), *stall.after_bytes);
        if (options.stall_for_ms)
            plan.flags += fmt::format(" --stall-for-ms {}", *options.stall_for_ms);
    } else if (options.stall_for_ms) {
        throw UsageError("--stall-for-ms needs --stall");
    }
    if (options.reset) {
        const auto [side, after] = parse_side(*options.reset, "--reset", true);
        spec.faults.reset = sim::ResetFault{side, *after};
        plan.flags += fmt::format(" --reset {}:{}", sim::to_string(side), *after);
    }
    if (options.time_budget_s) {
        if (*options.time_budget_s == 0)
            throw UsageError("--time-budget-s must be at least 1");
        spec.time_budget = std::chrono::seconds(*options.time_budget_s);
        plan.flags += fmt::format(" --time-budget-s {}", *options.time_budget_s);
    }
    if (options.seed && options.seeds)
        throw UsageError("give --seed or --seeds, not both");
    if (options.seeds) {
        std::tie(plan.first_seed, plan.last_seed) = parse_range(*options.seeds, "--seeds");
        plan.range = true;
        if (options.trace_path)
            throw UsageError("--trace needs a single --seed");
    } else {
        plan.first_seed = plan.last_seed = options.seed.value_or(1);
    }
    return plan;
}

int exit_code_for(sim::Outcome outcome) {
    switch (outcome) {
        case sim::Outcome::passed:
            return exit_ok;
        case sim::Outcome::failed:
            return exit_failed;
        case sim::Outcome::deadlock:
            return exit_deadlock;
        case sim::Outcome::time_budget_exceeded:
            return exit_time_budget;
    }
    return exit_failed;
}

std::string reproduce(const Plan& plan, std::uint64_t seed) {
    return fmt::format("ferry sim {} --seed {}", plan.flags, seed);
}

void print_report(const Plan& plan, std::uint64_t seed, const sim::TransferReport& report) {
    fmt::print("seed {}: {}\n", seed, sim::to_string(report.outcome));
    if (report.outcome != sim::Outcome::passed) {
        std::string detail = report.detail;
        while (!detail.empty() && detail.back() == '\n')
            detail.pop_back();
        fmt::print("  {}\n", detail);
        fmt::print("last events:\n{}", report.recent_events);
    }
    fmt::print("virtual time: {:.6f} s, events: {}\n",
               static_cast<double>(report.end_time.since_epoch.count()) / 1e9, report.events);
    fmt::print("digest: {}\n", sim::digest_to_hex(report.digest));
    fmt::print("reproduce: {}\n", reproduce(plan, seed));
}

int run_one(const SimCommandOptions& options, Plan& plan) {
    std::ofstream trace;
    if (options.trace_path) {
        trace.open(*options.trace_path, std::ios::out | std::ios::trunc);
        if (!trace) {
            fmt::print(stderr, "ferry sim: cannot write {}\n", *options.trace_path);
            return exit_usage;
        }
        plan.spec.trace_json = &trace;
    }
    plan.spec.seed = plan.first_seed;
    const sim::TransferReport report = sim::run_transfer(plan.spec);
    print_report(plan, plan.first_seed, report);
    return exit_code_for(report.outcome);
}

int run_range(Plan& plan) {
    std::map<sim::Outcome, std::uint64_t> counts;
    std::optional<std::uint64_t> first_failing;
    std::optional<sim::TransferReport> first_report;
    int worst = exit_ok;
    for (std::uint64_t seed = plan.first_seed;; ++seed) {
        plan.spec.seed = seed;
        sim::TransferReport report = sim::run_transfer(plan.spec);
        ++counts[report.outcome];
        worst = std::max(worst, exit_code_for(report.outcome));
        if (report.outcome != sim::Outcome::passed && !first_failing) {
            first_failing = seed;
            first_report = std::move(report);
        }
        if (seed == plan.last_seed)
            break;
    }
    fmt::print("seeds {}..{}: {} runs\n", plan.first_seed, plan.last_seed,
               plan.last_seed - plan.first_seed + 1);
    for (sim::Outcome outcome : {sim::Outcome::passed, sim::Outcome::failed, sim::Outcome::deadlock,
                                 sim::Outcome::time_budget_exceeded}) {
        fmt::print("  {:<21} {}\n", fmt::format("{}:", sim::to_string(outcome)), counts[outcome]);
    }
    if (first_failing) {
        fmt::print("first failing seed: {}\n", *first_failing);
        print_report(plan, *first_failing, *first_report);
    }
    return worst;
}

int run_sim(const SimCommandOptions& options) {
    try {
        Plan plan = make_plan(options);
        return plan.range ? run_range(plan) : run_one(options, plan);
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
        "Run one client-server transfer of the real protocol code on the simulated network; "
        "exit 0 passed, 1 failed, 3 deadlock, 4 time budget exceeded");
    sim->add_option("--protocol", options->protocol, "Which protocol: ferry/1 or the chapter's")
        ->check(CLI::IsMember({"ferry", "naive"}))
        ->capture_default_str();
    sim->add_option("--size", options->size_bytes, "Payload bytes (generated from the seed)")
        ->required();
    sim->add_option("--chunk-size", options->chunk_bytes,
                    "Bytes per recv/send chunk (default: naive 1024, ferry 65536)");
    auto* seed =
        sim->add_option("--seed", options->seed, "The seed that decides everything (default 1)");
    auto* seeds = sim->add_option("--seeds", options->seeds, "Run every seed in A..B");
    seed->excludes(seeds);
    sim->add_flag("--partial-sends", options->partial_sends,
                  "Half the sends take a random non-empty prefix");
    sim->add_option("--max-send", options->max_send_bytes, "Cap on the bytes one send takes");
    sim->add_flag("--short-reads", options->short_reads,
                  "Half the reads return a random non-empty prefix of what is buffered");
    sim->add_option("--latency-ms", options->latency_ms,
                    "Each segment's latency in milliseconds, A..B (default 1)");
    sim->add_option("--stall", options->stall,
                    "server|client[:AFTER_BYTES]: that side stops reading after AFTER_BYTES "
                    "(default 0), for ever unless --stall-for-ms");
    sim->add_option("--stall-for-ms", options->stall_for_ms, "How long the stall lasts");
    sim->add_option("--reset", options->reset,
                    "server|client:AFTER_BYTES: the connection is reset once that side has "
                    "sent and received AFTER_BYTES");
    sim->add_option("--trace", options->trace_path, "Write the trace as JSON lines to FILE");
    sim->add_option("--time-budget-s", options->time_budget_s,
                    "Virtual seconds after which a run that has not ended is a liveness failure "
                    "(default 3600)");
    sim->footer(
        "Every choice (scheduling, cuts, latency, faults) comes from the seed: the same command\n"
        "gives the same run, trace and digest.\n\n"
        "Examples:\n"
        "  ferry sim --protocol naive --size 1024                  # the chapter's deadlock (exit "
        "3)\n"
        "  ferry sim --protocol naive --size 1025 --short-reads --seeds 1..50\n"
        "  ferry sim --protocol ferry --size 100000 --partial-sends --short-reads --seeds 1..200\n"
        "  ferry sim --protocol ferry --size 4096 --stall server:1000 --trace run.jsonl");
    sim->callback([options, &status] { status.code = run_sim(*options); });
}

}  // namespace ferry::cli
