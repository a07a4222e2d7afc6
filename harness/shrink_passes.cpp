// The shrinker's passes (shrink.h), each a way to make a failing run
// smaller; every candidate goes through Shrinker::attempt.

#include <algorithm>
#include <set>

#include "ferry/harness/shrink.h"

namespace ferry::harness {

namespace {

/// The candidate with its faults' offsets brought within the case.
RunSpec clamped(RunSpec candidate, const Workload& workload) {
    const std::uint64_t bytes = workload.bytes_in_play(candidate.work);
    for (const FaultKnob& knob : fault_knobs()) {
        if (!knob.is_calm(candidate.faults))
            knob.clamp(candidate.faults, bytes);
    }
    return candidate;
}

/// Tries candidate as it is, then with its fault offsets clamped.
bool attempt_with_clamp(Shrinker& s, const RunSpec& candidate) {
    if (s.attempt(candidate))
        return true;
    RunSpec clamp = clamped(candidate, s.workload());
    return fault_plan_text(clamp.faults) != fault_plan_text(candidate.faults) &&
           s.attempt(clamp, true);
}

/// Smaller values for a number, smallest first: the small ones, then
/// fractions of it, then one less.
std::vector<std::uint64_t> smaller_numbers(std::uint64_t value) {
    std::set<std::uint64_t> out;
    for (std::uint64_t v :
         {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{2}, std::uint64_t{3}, std::uint64_t{8},
          value / 4, value / 2, value - value / 4, value - value / 16, value - 1}) {
        if (value > 0 && v < value)
            out.insert(v);
    }
    return {out.begin(), out.end()};
}

/// Where a list of parameters sits in a case: its settings, a client's
/// options, or an operation's parameters.
struct ParamSite {
    enum class Where { settings, client, op };
    Where where = Where::settings;
    std::size_t client = 0;
    std::size_t op = 0;
};

std::vector<ParamSite> param_sites(const WorkloadCase& work) {
    std::vector<ParamSite> sites{{ParamSite::Where::settings}};
    for (std::size_t c = 0; c < work.clients.size(); ++c) {
        sites.push_back({ParamSite::Where::client, c});
        for (std::size_t i = 0; i < work.clients[c].ops.size(); ++i)
            sites.push_back({ParamSite::Where::op, c, i});
    }
    return sites;
}

Params& params_at(WorkloadCase& work, const ParamSite& site) {
    switch (site.where) {
        case ParamSite::Where::settings:
            return work.settings;
        case ParamSite::Where::client:
            return work.clients[site.client].options;
        case ParamSite::Where::op:
            return work.clients[site.client].ops[site.op].params;
    }
    return work.settings;
}

const Params& params_at(const WorkloadCase& work, const ParamSite& site) {
    return params_at(const_cast<WorkloadCase&>(work), site);
}

/// Whether the shrinker must leave parameter i at site alone: an
/// operation's primary one (its name), or one that says what it must get.
bool is_fixed(const Shrinker& s, const ParamSite& site, std::size_t i) {
    const WorkloadSchema& schema = s.workload().schema();
    const Params& params = params_at(s.best().work, site);
    const std::string& key = params[i].key;
    const ParamSpec* spec = nullptr;
    switch (site.where) {
        case ParamSite::Where::settings:
            spec = find_spec(schema.settings, key);
            break;
        case ParamSite::Where::client:
            spec = find_spec(schema.client_options, key);
            break;
        case ParamSite::Where::op: {
            const Operation& op = s.best().work.clients[site.client].ops[site.op];
            const VerbSpec* verb = schema.find_verb(op.verb);
            if (verb && i == 0 && !verb->primary.empty() && key == verb->primary)
                return true;
            spec = verb ? find_spec(verb->params, key) : nullptr;
            break;
        }
    }
    return spec != nullptr && !spec->shrinkable;
}

}  // namespace

bool shrink_faults(Shrinker& s) {
    bool progress = false;
    const auto& knobs = fault_knobs();
    // The disruptive knobs go first, so what is left is the plainest
    // explanation.
    for (auto it = knobs.rbegin(); it != knobs.rend() && !s.out_of_runs(); ++it) {
        if (it->is_calm(s.best().faults))
            continue;
        RunSpec candidate = s.best();
        it->calm(candidate.faults);
        if (s.attempt(candidate, true)) {
            progress = true;
            continue;
        }
        for (const FaultPlan& simpler : it->simpler(s.best().faults)) {
            candidate = s.best();
            candidate.faults = simpler;
            if (s.attempt(candidate)) {
                progress = true;
                break;
            }
        }
    }
    return progress;
}

bool shrink_clients(Shrinker& s) {
    bool progress = false;
    for (std::size_t c = 0; c < s.best().work.clients.size() && s.best().work.clients.size() > 1;) {
        RunSpec candidate = s.best();
        candidate.work.clients.erase(candidate.work.clients.begin() +
                                     static_cast<std::ptrdiff_t>(c));
        if (s.attempt(candidate, true))
            progress = true;
        else
            ++c;
        if (s.out_of_runs())
            break;
    }
    return progress;
}

bool shrink_operations(Shrinker& s) {
    bool progress = false;
    for (std::size_t c = 0; c < s.best().work.clients.size(); ++c) {
        for (std::size_t i = 0;
             i < s.best().work.clients[c].ops.size() && s.best().work.clients[c].ops.size() > 1;) {
            RunSpec candidate = s.best();
            auto& ops = candidate.work.clients[c].ops;
            ops.erase(ops.begin() + static_cast<std::ptrdiff_t>(i));
            if (s.attempt(candidate, true))
                progress = true;
            else
                ++i;
            if (s.out_of_runs())
                return progress;
        }
    }
    return progress;
}

}  // namespace ferry::harness

namespace ferry::harness {

bool shrink_params(Shrinker& s) {
    bool progress = false;
    for (const ParamSite& site : param_sites(s.best().work)) {
        for (std::size_t i = 0; i < params_at(s.best().work, site).size() && !s.out_of_runs();) {
            if (is_fixed(s, site, i)) {
                ++i;
                continue;
            }
            RunSpec candidate = s.best();
            Params& params = params_at(candidate.work, site);
            params.erase(params.begin() + static_cast<std::ptrdiff_t>(i));
            if (s.attempt(candidate, true))
                progress = true;
            else
                ++i;
        }
    }
    return progress;
}

bool shrink_numbers(Shrinker& s) {
    bool progress = false;
    for (const ParamSite& site : param_sites(s.best().work)) {
        for (std::size_t i = 0; i < params_at(s.best().work, site).size() && !s.out_of_runs();
             ++i) {
            const auto* value =
                std::get_if<std::uint64_t>(&params_at(s.best().work, site)[i].value);
            if (value == nullptr || is_fixed(s, site, i))
                continue;
            for (std::uint64_t smaller : smaller_numbers(*value)) {
                RunSpec candidate = s.best();
                params_at(candidate.work, site)[i].value = smaller;
                if (attempt_with_clamp(s, candidate)) {
                    progress = true;
                    break;
                }
            }
        }
    }
    for (const WorkloadCase& simpler : s.workload().simpler(s.best().work)) {
        RunSpec candidate = s.best();
        candidate.work = simpler;
        progress |= attempt_with_clamp(s, candidate);
    }
    return progress;
}

bool shrink_schedule(Shrinker& s) {
    bool progress = false;
    // A prefix, then runs of choices deleted, then each choice calmer.
    for (std::size_t keep = 0; keep < s.best().choices->size(); keep = keep == 0 ? 1 : keep * 2) {
        RunSpec candidate = s.best();
        candidate.choices->resize(keep);
        if (s.attempt(candidate)) {
            progress = true;
            break;
        }
    }
    for (std::size_t run = std::max<std::size_t>(s.best().choices->size() / 2, 1); run >= 1;
         run /= 2) {
        for (std::size_t at = 0; at + run <= s.best().choices->size() && !s.out_of_runs();) {
            RunSpec candidate = s.best();
            auto& choices = *candidate.choices;
            choices.erase(choices.begin() + static_cast<std::ptrdiff_t>(at),
                          choices.begin() + static_cast<std::ptrdiff_t>(at + run));
            if (s.attempt(candidate))
                progress = true;
            else
                at += run;
        }
        if (run == 1)
            break;
    }
    for (std::size_t i = 0; i < s.best().choices->size() && !s.out_of_runs(); ++i) {
        const std::uint64_t value = (*s.best().choices)[i];
        for (std::uint64_t smaller : {std::uint64_t{0}, value / 2, value - 1}) {
            if (smaller >= value)
                continue;
            RunSpec candidate = s.best();
            (*candidate.choices)[i] = smaller;
            if (s.attempt(candidate)) {
                progress = true;
                break;
            }
        }
    }
    return progress;
}

}  // namespace ferry::harness
