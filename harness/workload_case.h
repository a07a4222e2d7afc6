#pragma once
// What a workload runs, as data: settings (the server's limits, preloaded
// files), and clients, each with options and a list of operations. Generic,
// so the harness can print, parse, save and shrink any workload's cases —
// drop a client, drop an operation, shrink a number — without knowing what
// the verbs mean. Each workload declares its verbs and parameters in a
// WorkloadSchema; cases are checked against it.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace ferry::harness {

/// Text by name: a server's preloaded files.
using TextTable = std::vector<std::pair<std::string, std::string>>;
using ParamValue = std::variant<std::uint64_t, bool, std::string, TextTable>;

struct Param {
    std::string key;
    ParamValue value;
};
using Params = std::vector<Param>;

const ParamValue* find_param(const Params& params, std::string_view key);
std::uint64_t count_param(const Params& params, std::string_view key, std::uint64_t otherwise);
bool flag_param(const Params& params, std::string_view key, bool otherwise = false);
/// The text value of key, or otherwise.
std::string text_param(const Params& params, std::string_view key, std::string_view otherwise = {});
const TextTable* table_param(const Params& params, std::string_view key);
/// Replaces key's value, or appends it.
void set_param(Params& params, std::string_view key, ParamValue value);
void erase_param(Params& params, std::string_view key);

struct Operation {
    std::string verb;
    /// The verb's primary parameter (a name, a key) first, when it has one.
    Params params;
    int line = 0;  ///< where a scenario file has it, for messages; 0 = nowhere
};

struct ClientPlan {
    Params options;
    std::vector<Operation> ops;
};

struct WorkloadCase {
    Params settings;
    std::vector<ClientPlan> clients;
};

enum class ParamKind { count, flag, text, text_table };

struct ParamSpec {
    std::string_view key;
    ParamKind kind = ParamKind::count;
    std::string_view description = {};
    std::uint64_t minimum = 0;  ///< a count's least value
    /// Whether the shrinker may drop or shrink it: not for what says what an
    /// operation must get (expect_error), which would change the question.
    bool shrinkable = true;
    /// Why a value of the right kind is still not allowed (an ERR code the
    /// protocol has not, a file name it refuses), as a sentence naming key;
    /// none when it is. Every reader of cases runs it.
    std::optional<std::string> (*check)(std::string_view key, const ParamValue& value) = nullptr;
};

struct VerbSpec {
    std::string_view verb;
    /// The key of the value written with the verb itself — put(a.bin),
    /// { put = "a.bin" } — or empty for a verb with none ({ dir = true }).
    std::string_view primary = {};
    ParamKind primary_kind = ParamKind::text;
    std::vector<ParamSpec> params = {};
    std::string_view description = {};
    /// Keys of which an operation gives exactly one (size or content).
    std::vector<std::string_view> one_of = {};
};

struct WorkloadSchema {
    std::vector<ParamSpec> settings = {};
    std::vector<ParamSpec> client_options = {};
    std::vector<VerbSpec> verbs = {};
    /// Why settings that are each allowed are not allowed together (a name
    /// preloaded both as a file and as a directory), as a sentence naming
    /// them; none when they are. May be empty.
    std::optional<std::string> (*check_settings)(const Params& settings) = nullptr;

    const VerbSpec* find_verb(std::string_view verb) const;
};

/// The spec of key among specs; none if there is none.
const ParamSpec* find_spec(const std::vector<ParamSpec>& specs, std::string_view key);
/// Why params do not fit specs (an unknown key, a value of the wrong kind),
/// naming where they are; none when they do.
std::optional<std::string> check_params(const Params& params, const std::vector<ParamSpec>& specs,
                                        std::string_view where);
std::optional<std::string> check_operation(const Operation& op, const WorkloadSchema& schema);
std::optional<std::string> check_case(const WorkloadCase& c, const WorkloadSchema& schema);

std::string_view to_string(ParamKind kind);

}  // namespace ferry::harness
