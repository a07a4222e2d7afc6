#pragma once
// Scenario files (docs/scenarios.md): a run in its TOML form (run_toml.h) —
// a workload with its settings and clients, a fault plan, a seed range or a
// recorded schedule — plus a name, the backends to run it on, and what must
// hold afterwards. The same file runs in the simulator (exact, seeded) and
// over real sockets on 127.0.0.1.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "ferry/harness/run_spec.h"
#include "ferry/harness/workload.h"

namespace ferry::harness {

enum class Backend { sim, real };
std::string_view to_string(Backend backend);

/// What a run's clients saw, as a scenario's outcome states it.
enum class Outcome {
    pass,      ///< every step did what it asked
    deadlock,  ///< nothing could run (sim) / nothing moved and nobody had a timeout (real)
    error,     ///< a step failed
    timeout,   ///< the time budget ran out, or a call timed out
    allowed,   ///< whatever the workload's model allows: explore's judgement
};
std::string_view to_string(Outcome outcome);

struct FileExpectation {
    std::optional<std::uint64_t> size;
    std::optional<std::string> content;
};

struct Expectation {
    Outcome outcome = Outcome::pass;
    std::optional<int> error;  ///< with outcome error: the ERR code a client must see
    /// The server's files afterwards, exactly; none = not checked.
    std::optional<std::map<std::string, FileExpectation>> files;
};

struct Scenario {
    std::filesystem::path path;
    std::string name;
    std::vector<Backend> backends{Backend::sim};
    std::uint64_t seed_first = 1;
    std::uint64_t seed_last = 1;
    /// The run, its seed the first of the range.
    RunSpec run;
    Expectation expect;
};

/// A scenario file that cannot be used; what() is "path:line:column: message".
class ScenarioError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Parses and validates scenario text (path names it in messages); unknown
/// keys are errors. Files written for the older format (protocol =, a
/// [network] and a [server] table) are read too.
Scenario parse_scenario(std::string_view text, const std::filesystem::path& path,
                        const WorkloadRegistry& workloads);
Scenario parse_scenario_file(const std::filesystem::path& path, const WorkloadRegistry& workloads);

/// The observed outcome of a run, as [expect] outcome names it.
Outcome observed_outcome(const RunResult& result);

struct Verdict {
    bool passed = true;
    Outcome outcome = Outcome::pass;
    std::vector<std::string> reasons;  ///< why it did not pass, most useful first
};

/// Judges a run against the scenario: its [expect], and always the model's
/// safety (no wrong data, torn, lost or refused file, no broken limit).
Verdict judge(const Scenario& scenario, const RunResult& result);

}  // namespace ferry::harness
