// ferry explore: property-based exploration of one protocol's transfers in
// the simulator (harness/explore.h). Draws payload sizes, fault plans and
// schedules, judges each run, shrinks the first failure of each kind to a
// minimal case, prints it in words with the command that replays it, and can
// save it as a scenario file.

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <string>

#include <fmt/core.h>

#include "cli/commands.h"
#include "harness/explore.h"

namespace ferry::cli {

namespace {

struct ExploreCommandOptions {
    std::string protocol = "ferry";
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
    std::optional<std::string> replay;
    std::uint64_t cuts_max = 1;
};

/// Runs without --runs or --time-s (random and pct; exhaustive runs to its end).
constexpr std::uint64_t default_runs = 100'000;

int exit_code_for(harness::CaseVerdict verdict) {
    switch (verdict) {
        case harness::CaseVerdict::ok:
            return exit_ok;
        case harness::CaseVerdict::failed:
            return exit_failed;
        case harness::CaseVerdict::deadlock:
            return exit_deadlock;
        case harness::CaseVerdict::time_budget:
            return exit_time_budget;
    }
    return exit_failed;
}

std::string replay_command(const harness::ExploreCase& c) {
    return fmt::format("ferry explore --replay '{}'", harness::case_to_text(c));
}

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

int run_replay(const std::string& text) {
    std::string error;
    const auto c = harness::parse_case_text(text, &error);
    if (!c) {
        fmt::print(stderr, "ferry explore: --replay: {}\n", error);
        return exit_usage;
    }
    const harness::CaseResult result = harness::run_case(*c);
    fmt::print("{}\n", result.verdict == harness::CaseVerdict::ok ? "ok: the case passes"
                                                                  : "the case fails:");
    fmt::print("{}", harness::describe_case(*c, result));
    fmt::print("digest: {}\n", sim::digest_to_hex(result.report.digest));
    fmt::print("replay: {}\n", replay_command(*c));
    return exit_code_for(result.verdict);
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

int run_explore(const ExploreCommandOptions& o) {
    if (o.replay)
        return run_replay(*o.replay);

    harness::ExploreOptions options;
    options.protocol = o.protocol == "naive" ? sim::ProtocolKind::naive : sim::ProtocolKind::ferry;
    options.strategy = o.strategy == "pct"          ? harness::Strategy::pct
                       : o.strategy == "exhaustive" ? harness::Strategy::exhaustive
                                                    : harness::Strategy::random;
    options.seed = o.seed;
    options.chunk_bytes = o.chunk_bytes;
    options.size_max = o.size_max.value_or(options.strategy == harness::Strategy::exhaustive
                                               ? std::min<std::uint64_t>(64, 4096)
                                               : 4096);
    options.keep_going = o.keep_going;
    options.shrink = !o.no_shrink;
    options.exhaustive_cuts_max = o.cuts_max;
    const auto faults = harness::parse_fault_list(o.faults);
    if (!faults) {
        fmt::print(stderr,
                   "ferry explore: --faults: \"{}\" is not all, none, benign, or a list of "
                   "partial_sends,short_reads,max_send,latency,buffers,clog,stall,reset,refused,"
                   "disk_full,store_io\n",
                   o.faults);
        return exit_usage;
    }
    options.faults = *faults;
    if (o.shard) {
        const auto slash = o.shard->find('/');
        std::uint64_t k = 0;
        std::uint64_t n = 0;
        try {
            if (slash == std::string::npos)
                throw std::invalid_argument("no slash");
            k = std::stoull(o.shard->substr(0, slash));
            n = std::stoull(o.shard->substr(slash + 1));
        } catch (const std::exception&) {
            n = 0;
        }
        if (n == 0 || k == 0 || k > n) {
            fmt::print(stderr,
                       "ferry explore: --shard: expected K/N with 1 <= K <= N, got \"{}\"\n",
                       *o.shard);
            return exit_usage;
        }
        options.shard_index = k - 1;
        options.shard_count = n;
    }
    if (o.time_s) {
        if (*o.time_s <= 0) {
            fmt::print(stderr, "ferry explore: --time-s must be positive\n");
            return exit_usage;
        }
        options.time_limit = std::chrono::duration<double>(*o.time_s);
    }
    options.runs = o.runs;
    if (!o.runs && !o.time_s && options.strategy != harness::Strategy::exhaustive)
        options.runs = default_runs;
    if (o.save_failures) {
        std::error_code ec;
        std::filesystem::create_directories(*o.save_failures, ec);
        if (ec) {
            fmt::print(stderr, "ferry explore: cannot create {}: {}\n", *o.save_failures,
                       ec.message());
            return exit_usage;
        }
    }

    std::string how = fmt::format("ferry explore --protocol {} --strategy {} --seed {}", o.protocol,
                                  o.strategy, o.seed);
    if (options.runs)
        how += fmt::format(" --runs {}", *options.runs);
    if (o.time_s)
        how += fmt::format(" --time-s {}", *o.time_s);
    how += fmt::format(" --size-max {} --chunk-size {} --faults {}", options.size_max,
                       options.chunk_bytes, harness::fault_list_text(options.faults));
    if (o.shard)
        how += fmt::format(" --shard {}", *o.shard);
    if (o.keep_going)
        how += " --keep-going";
    if (options.strategy == harness::Strategy::exhaustive)
        how += fmt::format(" --cuts-max {}", o.cuts_max);

    ProgressLine line;
    int code = exit_ok;
    const harness::ExploreSummary summary = harness::explore(
        options, [&](const harness::ExploreProgress& p) { line.draw(p); },
        [&](const harness::Finding& f) {
            line.clear();
            code = std::max(code, exit_code_for(f.minimal_result.verdict));
            fmt::print("FOUND {} ({}) at run {} after {:.3f} s\n", f.minimal_result.signature,
                       harness::to_string(f.minimal_result.verdict), f.run_index + 1, f.seconds);
            fmt::print("  as found: {}\n", harness::case_to_text(f.found));
            fmt::print("shrunk in {} runs to this minimal case:\n", f.shrink_runs);
            fmt::print("{}", harness::describe_case(f.minimal, f.minimal_result));
            fmt::print("replay: {}\n", replay_command(f.minimal));
            if (o.save_failures) {
                const auto toml = harness::scenario_for_case(f.minimal, f.minimal_result);
                if (!toml) {
                    fmt::print(
                        "  (no scenario file: its faults have no scenario equivalent, or "
                        "no scenario seed fails the same way; use the replay command)\n");
                } else {
                    const std::filesystem::path path =
                        std::filesystem::path(*o.save_failures) /
                        fmt::format("{}-{}-{}-bytes.toml", o.protocol,
                                    slug(f.minimal_result.signature), f.minimal.size_bytes);
                    std::ofstream out(path, std::ios::out | std::ios::trunc);
                    out << *toml;
                    if (!out) {
                        fmt::print(stderr, "ferry explore: cannot write {}\n", path.string());
                    } else {
                        fmt::print("scenario: {} (ferry scenario run {})\n", path.string(),
                                   path.string());
                    }
                }
            }
            fmt::print("\n");
            std::fflush(stdout);
        });
    line.clear();
    const double rate =
        summary.seconds > 0 ? static_cast<double>(summary.runs) / summary.seconds : 0;
    const double cpu_rate =
        summary.cpu_seconds > 0 ? static_cast<double>(summary.runs) / summary.cpu_seconds : 0;
    fmt::print("{} runs in {:.2f} s ({:.0f} runs/s; {:.0f} per CPU-second), {} {} found{}\n",
               summary.runs, summary.seconds, rate, cpu_rate, summary.findings.size(),
               summary.findings.size() == 1 ? "kind of failure" : "kinds of failure",
               options.strategy == harness::Strategy::exhaustive && summary.exhausted
                   ? "; the enumeration is complete"
                   : "");
    fmt::print("explored with: {}\n", how);
    return code;
}

}  // namespace

void add_explore_command(CLI::App& app, ExitStatus& status) {
    auto options = std::make_shared<ExploreCommandOptions>();
    CLI::App* cmd = app.add_subcommand(
        "explore",
        "Search payload sizes, fault plans and schedules in the simulator for a failing "
        "transfer, and shrink it to a minimal case; exit 0 nothing found, 1 failure, 3 "
        "deadlock, 4 time budget exceeded");
    cmd->add_option("--protocol", options->protocol, "Which protocol: ferry/1 or the chapter's")
        ->check(CLI::IsMember({"ferry", "naive"}))
        ->capture_default_str();
    auto* runs = cmd->add_option("--runs", options->runs,
                                 "Stop after this many runs (default 100000, exhaustive: all)");
    auto* time_s = cmd->add_option("--time-s", options->time_s, "Stop after this many seconds");
    runs->excludes(time_s);
    cmd->add_option("--seed", options->seed, "The seed the whole exploration derives from")
        ->capture_default_str();
    cmd->add_option("--strategy", options->strategy,
                    "random: every choice drawn uniformly; pct: calm except at a few random "
                    "change points; exhaustive: every way to cut sends and reads")
        ->check(CLI::IsMember({"random", "pct", "exhaustive"}))
        ->capture_default_str();
    cmd->add_option("--size-max", options->size_max,
                    "Largest payload in bytes (default 4096; exhaustive 64 plus the chunk edges)");
    cmd->add_option("--chunk-size", options->chunk_bytes, "Bytes per recv/send chunk (C)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20))
        ->capture_default_str();
    cmd->add_option("--faults", options->faults,
                    "all, none, benign, or a list of partial_sends,short_reads,max_send,latency,"
                    "buffers,clog,stall,reset,refused,disk_full,store_io (cuts = both cuts)")
        ->capture_default_str();
    cmd->add_option("--shard", options->shard,
                    "K/N: run only shard K of N (the N shards together cover one unsharded run)");
    cmd->add_flag("--keep-going", options->keep_going,
                  "Go on after a failure and report each new kind of failure once");
    cmd->add_flag("--no-shrink", options->no_shrink, "Report failures as found");
    cmd->add_option("--save-failures", options->save_failures,
                    "Write each failure as a scenario file (checked to fail) into this folder");
    cmd->add_option("--cuts-max", options->cuts_max,
                    "Exhaustive: at most this many cut calls or other non-calm choices per run")
        ->capture_default_str();
    auto* replay = cmd->add_option("--replay", options->replay,
                                   "Run one case as printed after \"replay:\" and describe it");
    replay->excludes(runs)->excludes(time_s);
    cmd->footer(
        "Examples:\n"
        "  ferry explore --protocol naive\n"
        "  ferry explore --protocol naive --keep-going --save-failures found/\n"
        "  ferry explore --protocol ferry --runs 1000000 --shard 2/4\n"
        "  ferry explore --protocol naive --strategy exhaustive --chunk-size 4 --size-max 9\n"
        "  ferry explore --replay 'naive size=2 chunk=1024 payload=1 short_reads=1/8 "
        "choices=7,1'");
    cmd->callback([options, &status] { status.code = run_explore(*options); });
}

}  // namespace ferry::cli
