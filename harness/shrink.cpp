#include "ferry/harness/shrink.h"

#include <algorithm>
#include <bit>
#include <tuple>

#include "ferry/harness/sim_driver.h"

namespace ferry::harness {

namespace {

std::uint64_t saturating_sum(const Params& params, std::uint64_t sum) {
    for (const Param& p : params) {
        if (const auto* n = std::get_if<std::uint64_t>(&p.value))
            sum = *n > UINT64_MAX - sum ? UINT64_MAX : sum + *n;
    }
    return sum;
}

/// What shrinking minimises, most important first: fewer faults, fewer
/// clients, fewer operations, fewer parameters, smaller numbers, fewer
/// non-calm choices, a shorter list, smaller earlier choices.
auto shrink_key(const RunSpec& spec) {
    std::uint64_t ops = 0;
    std::uint64_t params = spec.work.settings.size();
    std::uint64_t numbers = saturating_sum(spec.work.settings, 0);
    for (const ClientPlan& client : spec.work.clients) {
        ops += client.ops.size();
        params += client.options.size();
        numbers = saturating_sum(client.options, numbers);
        for (const Operation& op : client.ops) {
            params += op.params.size();
            numbers = saturating_sum(op.params, numbers);
        }
    }
    const std::vector<std::uint64_t> none;
    const std::vector<std::uint64_t>& choices = spec.choices ? *spec.choices : none;
    const auto nonzero = static_cast<std::uint64_t>(
        std::count_if(choices.begin(), choices.end(), [](std::uint64_t v) { return v != 0; }));
    const auto knobs = static_cast<std::uint64_t>(std::popcount(active_knobs(spec.faults)));
    return std::make_tuple(knobs, spec.work.clients.size(), ops, params, numbers, nonzero,
                           choices.size(), choices);
}

void trim_trailing_zeros(std::vector<std::uint64_t>& choices) {
    while (!choices.empty() && choices.back() == 0)
        choices.pop_back();
}

}  // namespace

Shrinker::Shrinker(const Workload& workload, const RunSpec& failing, const RunResult& result,
                   std::uint64_t max_runs)
    : workload_(workload),
      best_(failing),
      best_result_(result),
      signature_(result.failure ? result.failure->signature() : ""),
      max_runs_(max_runs) {
    if (!best_.choices)
        best_.choices.emplace();
    trim_trailing_zeros(*best_.choices);
}

RunResult Shrinker::run(const RunSpec& candidate, std::vector<std::uint64_t>& used,
                        sim::DecisionSource* decisions) {
    ++runs_;
    used.clear();
    SimDriverOptions options;
    options.decisions = decisions;
    options.record = &used;
    options.full_report = false;
    return run_on_sim(workload_, candidate, options);
}

bool Shrinker::fails_the_same_way(const RunResult& result) const {
    return result.failure && result.failure->signature() == signature_;
}

bool Shrinker::attempt(RunSpec candidate, bool reseed) {
    if (out_of_runs() || check_case(candidate.work, workload_.schema()))
        return false;
    if (!candidate.choices)
        candidate.choices.emplace();
    std::vector<std::uint64_t> used;
    RunResult result = run(candidate, used, nullptr);
    // A candidate's own choices may mean something else once a fault or an
    // operation is gone: give it a few fresh schedules too.
    for (int tries = 0; reseed && tries < 16 && !out_of_runs() && !fails_the_same_way(result);
         ++tries) {
        sim::PrngDecisions fresh(0x5348524b + ++reseeds_);  // "SHRK"
        result = run(candidate, used, &fresh);
    }
    if (!fails_the_same_way(result))
        return false;
    trim_trailing_zeros(used);
    candidate.choices = std::move(used);
    if (!(shrink_key(candidate) < shrink_key(best_)))
        return false;
    best_ = std::move(candidate);
    best_result_ = std::move(result);
    return true;
}

ShrinkResult shrink_run(const Workload& workload, const RunSpec& failing, const RunResult& result,
                        std::uint64_t max_runs) {
    Shrinker s(workload, failing, result, max_runs);
    bool progress = true;
    while (progress && !s.out_of_runs()) {
        progress = false;
        for (auto* pass : {&shrink_faults, &shrink_clients, &shrink_operations, &shrink_params,
                           &shrink_numbers, &shrink_schedule})
            progress |= (*pass)(s);
    }
    return s.result();
}

}  // namespace ferry::harness
