#pragma once
// harness/ — scenario files and the runner that plays them on a backend.
//
//   scenario.h   the scenario model and its TOML parser (docs/scenarios.md)
//
// A scenario names a protocol, a network with faults, a server with files and
// clients with steps, and what must hold afterwards. The same scenario runs
// in the simulator (exact, seeded) and over real sockets on 127.0.0.1.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace ferry::harness {

enum class ScenarioProtocol { naive, ferry };
enum class Backend { sim, real };
enum class Side { client, server };
enum class Outcome { pass, deadlock, error, timeout };

std::string_view to_string(ScenarioProtocol protocol);
std::string_view to_string(Backend backend);
std::string_view to_string(Side side);
std::string_view to_string(Outcome outcome);

/// One side stops reading after after_bytes, for for_ms (none = for ever).
struct StallSpec {
    Side side = Side::server;
    std::uint64_t after_bytes = 0;
    std::optional<std::uint64_t> for_ms;
};

/// One side resets the connection after after_bytes.
struct ResetSpec {
    Side side = Side::client;
    std::uint64_t after_bytes = 0;
};

struct NetworkSpec {
    std::uint64_t max_send_bytes = 0;  ///< 0 = no cap
    bool partial_sends = false;
    bool short_reads = false;
    std::uint64_t latency_ms_min = 0;
    std::uint64_t latency_ms_max = 0;
    std::optional<StallSpec> stall;
    std::optional<ResetSpec> reset;
};

struct ServerSpec {
    std::map<std::string, std::string> files;  ///< present before the run
    std::uint64_t disk_bytes_max = 0;          ///< 0 = unlimited
    std::uint64_t timeout_ms = 30000;          ///< idle timeout
};

struct Step {
    enum class Kind { put, get, dir } kind = Kind::dir;
    std::string name;                    ///< put and get
    std::optional<std::uint64_t> size;   ///< put: content generated from the seed
    std::optional<std::string> content;  ///< put: literal content
    /// The ERR code this step must get (then the step passes when it gets it).
    std::optional<int> expect_error;
    int line = 0;  ///< where the step stands in the file
};

struct ClientSpec {
    std::vector<Step> steps;
    std::uint64_t timeout_ms = 30000;  ///< how long one blocking call may wait
};

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
    ScenarioProtocol protocol = ScenarioProtocol::ferry;
    std::vector<Backend> backends{Backend::sim};
    std::uint64_t seed_first = 1;
    std::uint64_t seed_last = 1;
    std::uint64_t chunk_size = 1024;
    /// Virtual time in the simulator, wall time on real sockets, after which
    /// an unfinished run is a timeout.
    std::uint64_t time_budget_ms = 120000;
    NetworkSpec network;
    ServerSpec server;
    std::vector<ClientSpec> clients;
    Expectation expect;
};

/// A scenario file that cannot be used; what() is "path:line:column: message".
class ScenarioError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Parses and validates a scenario file. Unknown keys are errors.
Scenario parse_scenario_file(const std::filesystem::path& path);
/// Parses scenario text; path is used in messages only.
Scenario parse_scenario(std::string_view text, const std::filesystem::path& path);

}  // namespace ferry::harness
