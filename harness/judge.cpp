#include "harness/judge.h"

#include <fmt/core.h>

namespace ferry::harness {

std::vector<ServerFile> read_all_files(Store& store) {
    std::vector<ServerFile> files;
    for (const auto& info : store.list()) {
        auto reader = store.open(info.name);
        std::string content(reader->size_bytes(), '\0');
        std::uint64_t offset = 0;
        while (offset < content.size()) {
            const std::size_t got = reader->read_at(
                offset, std::span(reinterpret_cast<std::byte*>(content.data()) + offset,
                                  content.size() - offset));
            if (got == 0)
                break;
            offset += got;
        }
        content.resize(offset);
        files.push_back({info.name, std::move(content)});
    }
    return files;
}

Outcome observed_outcome(const RunObservation& observation) {
    if (observation.end == RunObservation::End::deadlock)
        return Outcome::deadlock;
    if (observation.end == RunObservation::End::time_budget_exceeded)
        return Outcome::timeout;
    bool failed = false;
    for (const auto& client : observation.clients) {
        for (const auto& step : client.steps) {
            if (step.kind == StepResult::Kind::timed_out)
                return Outcome::timeout;
            if (step.kind != StepResult::Kind::ok)
                failed = true;
        }
    }
    return failed ? Outcome::error : Outcome::pass;
}

namespace {

std::string describe_steps(const Scenario& scenario, const RunObservation& observation,
                           bool failures_only) {
    std::string text;
    for (std::size_t c = 0; c < observation.clients.size(); ++c) {
        const auto& steps = observation.clients[c].steps;
        for (std::size_t s = 0; s < steps.size(); ++s) {
            if (failures_only && steps[s].kind == StepResult::Kind::ok)
                continue;
            const Step& step = scenario.clients[c].steps[s];
            text += fmt::format("\n  client {} step {} (line {}): {}{}{}", c + 1, s + 1, step.line,
                                to_string(steps[s].kind), steps[s].message.empty() ? "" : ": ",
                                steps[s].message);
        }
    }
    return text;
}

}  // namespace

Verdict judge(const Scenario& scenario, const ContentModel& model,
              const RunObservation& observation) {
    Verdict verdict;
    verdict.outcome = observed_outcome(observation);
    auto fail = [&](std::string reason) {
        verdict.passed = false;
        verdict.reasons.push_back(std::move(reason));
    };

    if (verdict.outcome != scenario.expect.outcome) {
        std::string detail;
        if (!observation.stuck_report.empty())
            detail = "\n" + observation.stuck_report;
        detail += describe_steps(scenario, observation, true);
        fail(fmt::format("expected outcome {}, got {}{}", to_string(scenario.expect.outcome),
                         to_string(verdict.outcome), detail));
    }

    if (scenario.expect.error) {
        bool seen = false;
        for (const auto& client : observation.clients) {
            for (const auto& step : client.steps)
                seen |= step.err_code == *scenario.expect.error;
        }
        if (!seen) {
            fail(fmt::format("no client got ERR {}{}", *scenario.expect.error,
                             describe_steps(scenario, observation, false)));
        }
    }

    if (scenario.expect.files) {
        const auto& expected = *scenario.expect.files;
        for (const auto& file : observation.files) {
            const auto it = expected.find(file.name);
            if (it == expected.end()) {
                fail(fmt::format("the server has {} ({} bytes), which is not expected", file.name,
                                 file.content.size()));
                continue;
            }
            if (it->second.size && *it->second.size != file.content.size()) {
                fail(fmt::format("{} has {} bytes, expected {}", file.name, file.content.size(),
                                 *it->second.size));
            }
            if (it->second.content && *it->second.content != file.content) {
                fail(fmt::format("{} does not hold the expected content", file.name));
            }
        }
        for (const auto& [name, expectation] : expected) {
            const bool present = std::any_of(observation.files.begin(), observation.files.end(),
                                             [&](const ServerFile& f) { return f.name == name; });
            if (!present)
                fail(fmt::format("the server has no {}", name));
        }
    }

    // ferry/1 never shows part of an upload: every file holds one whole put
    // (or its preloaded content). The chapter's protocol makes no such promise.
    if (scenario.protocol == ScenarioProtocol::ferry) {
        for (const auto& file : observation.files) {
            if (!model.allows(file.name, file.content)) {
                fail(
                    fmt::format("{} holds {} bytes that no put of that name sent: a torn or "
                                "corrupted upload",
                                file.name, file.content.size()));
            }
        }
    }
    return verdict;
}

}  // namespace ferry::harness
