#include "ferry/harness/explore_results.h"

#include <algorithm>
#include <map>
#include <set>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

#include "ferry/harness/run_text.h"

namespace ferry::harness {

namespace {

using nlohmann::json;

constexpr std::string_view format_name = "ferry-explore-results";
constexpr int format_version = 1;

json finding_json(const ExploreResults::Found& f) {
    return json{
        {"global_run", f.global_run}, {"signature", f.signature},     {"found", f.found},
        {"minimal", f.minimal},       {"shrink_runs", f.shrink_runs}, {"seconds", f.seconds}};
}

ExploreResults::Found finding_of(const json& j) {
    ExploreResults::Found f;
    f.global_run = j.at("global_run").get<std::uint64_t>();
    f.signature = j.at("signature").get<std::string>();
    f.found = j.at("found").get<std::string>();
    f.minimal = j.at("minimal").get<std::string>();
    f.shrink_runs = j.at("shrink_runs").get<std::uint64_t>();
    f.seconds = j.at("seconds").get<double>();
    return f;
}

}  // namespace

ExploreResults results_of(const ExploreSummary& summary, const ExploreOptions& options,
                          const Workload& workload, std::string exploration) {
    ExploreResults r;
    r.exploration = std::move(exploration);
    r.workload = std::string(workload.name());
    r.keep_going = options.keep_going;
    r.shard_index = options.shard_index;
    r.shard_count = options.shard_count;
    r.runs = summary.runs;
    r.events = summary.events;
    r.seconds = summary.seconds;
    r.cpu_seconds = summary.cpu_seconds;
    for (const Finding& f : summary.findings) {
        const RunResult& judged = f.minimal_result.failure ? f.minimal_result : f.found_result;
        r.findings.push_back(
            ExploreResults::Found{f.run_index * options.shard_count + options.shard_index,
                                  judged.failure ? judged.failure->signature() : std::string(),
                                  run_spec_text(f.found, workload),
                                  run_spec_text(f.minimal, workload), f.shrink_runs, f.seconds});
    }
    return r;
}

std::string results_json(const ExploreResults& r) {
    json findings = json::array();
    for (const ExploreResults::Found& f : r.findings)
        findings.push_back(finding_json(f));
    const json j{{"format", format_name},
                 {"version", format_version},
                 {"exploration", r.exploration},
                 {"workload", r.workload},
                 {"keep_going", r.keep_going},
                 {"shard", json{{"index", r.shard_index + 1}, {"count", r.shard_count}}},
                 {"runs", r.runs},
                 {"events", r.events},
                 {"seconds", r.seconds},
                 {"cpu_seconds", r.cpu_seconds},
                 {"interrupted", r.interrupted},
                 {"findings", findings}};
    return j.dump(2) + "\n";
}

std::optional<ExploreResults> parse_results_json(std::string_view text, std::string* error) {
    try {
        const json j = json::parse(text);
        if (j.at("format").get<std::string>() != format_name ||
            j.at("version").get<int>() != format_version) {
            throw std::runtime_error(fmt::format("not {} version {}", format_name, format_version));
        }
        ExploreResults r;
        r.exploration = j.at("exploration").get<std::string>();
        r.workload = j.at("workload").get<std::string>();
        r.keep_going = j.at("keep_going").get<bool>();
        r.shard_count = j.at("shard").at("count").get<std::uint64_t>();
        const auto index = j.at("shard").at("index").get<std::uint64_t>();
        if (index == 0 || index > r.shard_count || r.shard_count == 0)
            throw std::runtime_error(fmt::format("shard {}/{} is not K/N", index, r.shard_count));
        r.shard_index = index - 1;
        r.runs = j.at("runs").get<std::uint64_t>();
        r.events = j.at("events").get<std::uint64_t>();
        r.seconds = j.at("seconds").get<double>();
        r.cpu_seconds = j.at("cpu_seconds").get<double>();
        r.interrupted = j.value("interrupted", false);  // absent before it was recorded
        for (const json& f : j.at("findings"))
            r.findings.push_back(finding_of(f));
        return r;
    } catch (const std::exception& e) {
        if (error != nullptr)
            *error = e.what();
        return std::nullopt;
    }
}

}  // namespace ferry::harness

namespace ferry::harness {

namespace {

/// Why shards cannot be one exploration's; empty when they can.
std::string mismatch(const std::vector<ExploreResults>& shards) {
    if (shards.empty())
        return "no results to merge";
    const ExploreResults& first = shards.front();
    std::set<std::uint64_t> seen;
    for (const ExploreResults& s : shards) {
        if (s.exploration != first.exploration)
            return fmt::format("shards of two explorations: \"{}\" and \"{}\"", first.exploration,
                               s.exploration);
        if (s.shard_count != first.shard_count)
            return fmt::format("shard counts {} and {} differ", first.shard_count, s.shard_count);
        if (!seen.insert(s.shard_index).second)
            return fmt::format("shard {}/{} is there twice", s.shard_index + 1, s.shard_count);
    }
    return {};
}

}  // namespace

std::vector<std::uint64_t> missing_shards(const std::vector<ExploreResults>& shards) {
    std::set<std::uint64_t> seen;
    for (const ExploreResults& s : shards)
        seen.insert(s.shard_index);
    std::vector<std::uint64_t> missing;
    const std::uint64_t count = shards.empty() ? 0 : shards.front().shard_count;
    for (std::uint64_t k = 0; k < count; ++k) {
        if (!seen.contains(k))
            missing.push_back(k + 1);
    }
    return missing;
}

std::optional<ExploreResults> merge_results(const std::vector<ExploreResults>& shards,
                                            std::string* error) {
    if (const std::string why = mismatch(shards); !why.empty()) {
        if (error != nullptr)
            *error = why;
        return std::nullopt;
    }
    ExploreResults merged = shards.front();
    merged.shard_index = 0;
    merged.shard_count = 1;
    merged.runs = merged.events = 0;
    merged.seconds = merged.cpu_seconds = 0;
    merged.findings.clear();
    std::map<std::string, ExploreResults::Found> first_of_kind;
    for (const ExploreResults& s : shards) {
        merged.runs += s.runs;
        merged.events += s.events;
        merged.seconds = std::max(merged.seconds, s.seconds);
        merged.cpu_seconds += s.cpu_seconds;
        merged.interrupted = merged.interrupted || s.interrupted;
        for (const ExploreResults::Found& f : s.findings) {
            auto [it, fresh] = first_of_kind.emplace(f.signature, f);
            if (!fresh && f.global_run < it->second.global_run)
                it->second = f;
        }
    }
    for (const auto& [signature, f] : first_of_kind)
        merged.findings.push_back(f);
    std::sort(merged.findings.begin(), merged.findings.end(),
              [](const auto& a, const auto& b) { return a.global_run < b.global_run; });
    if (!merged.keep_going && !merged.findings.empty()) {
        // One process stops at its first failure: it ran the runs up to it.
        // (Each shard ran all of its own up to its first, so none is missing.)
        merged.findings.resize(1);
        merged.runs = std::min(merged.runs, merged.findings.front().global_run + 1);
    }
    return merged;
}

}  // namespace ferry::harness
