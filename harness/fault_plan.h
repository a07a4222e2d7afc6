#pragma once
// The fault plan of a run: every knob the simulator turns, declared once in
// fault_plan.cpp — its name, calm value, how `ferry explore` draws it, its
// text and TOML forms and what it means. The case text, scenario files'
// [faults] table, `ferry sim`'s flags, `ferry explore --faults`, --help and
// docs/faults.md are all generated from that one table, so a knob has one
// name and one meaning everywhere.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "ferry/sim/decisions.h"
#include "ferry/sim/faults.h"

namespace ferry::harness {

/// What can go wrong in a run: the simulated network's faults, the server's
/// disk's, and a crash of the server's machine.
struct FaultPlan {
    sim::NetworkFaults network;
    sim::FsFaults disk;
    std::optional<sim::CrashFault> crash;
};

/// Where explore draws offsets and sizes for a run.
struct FaultDrawBounds {
    std::size_t chunk_bytes = 1024;
    /// About the most bytes one connection moves in the run: where byte
    /// offsets (a reset, a stall) can strike, and what a disk must hold.
    std::uint64_t bytes_in_play = 0;
    /// The largest payload one operation may move (0 = not known): a request
    /// may make a disk call per byte of it (one-byte frames, short reads).
    std::uint64_t op_bytes_max = 0;
};

/// Why an operation may fail under a fault, for the rule of which errors
/// the active faults excuse (a bit set).
enum class ErrorCause : std::uint32_t {
    none = 0,
    reset = 1u << 0,      ///< the connection is cut: reset, or closed without a reply
    timeout = 1u << 1,    ///< a call or a server timer runs out
    refused = 1u << 2,    ///< a connect is refused
    disk_full = 1u << 3,  ///< the server answers that its disk is full
    store_io = 1u << 4,   ///< the server answers that its disk failed
    corrupted = 1u << 5,  ///< bytes changed in flight, and a check noticed
};
using ErrorCauses = std::uint32_t;
constexpr ErrorCauses operator|(ErrorCause a, ErrorCause b) {
    return static_cast<ErrorCauses>(a) | static_cast<ErrorCauses>(b);
}
constexpr ErrorCauses operator|(ErrorCauses a, ErrorCause b) {
    return a | static_cast<ErrorCauses>(b);
}
constexpr bool excuses(ErrorCauses set, ErrorCause cause) {
    return (set & static_cast<ErrorCauses>(cause)) != 0;
}

/// A knob's value in the shape a TOML file holds it: a scalar, a list of
/// counts, or a table of named scalars.
using KnobScalar = std::variant<bool, std::uint64_t, std::string>;
using KnobValue = std::variant<bool, std::uint64_t, std::string, std::vector<std::uint64_t>,
                               std::vector<std::pair<std::string, KnobScalar>>>;

/// One knob of the plan. Built from typed declarations in fault_plan.cpp;
/// every operation here is generated from its declaration.
struct FaultKnob {
    std::string_view name;                  ///< text key, TOML key, --faults item, flag
    std::vector<std::string_view> aliases;  ///< older names, read everywhere
    std::string_view syntax;                ///< the value's text form, for help
    /// What a command-line flag given without a value means ("always" for a
    /// ratio); empty when the flag needs a value.
    std::string_view bare_flag;
    std::string_view description;  ///< one sentence
    ErrorCauses causes = 0;        ///< errors it may cause; none = benign
    bool on_real_sockets = false;  ///< the real backend injects it too

    std::function<bool(const FaultPlan&)> is_calm;
    std::function<void(FaultPlan&)> calm;
    std::function<std::string(const FaultPlan&)> text;
    /// Sets the knob from its text form; returns why not, or none.
    std::function<std::optional<std::string>(FaultPlan&, std::string_view)> parse;
    std::function<std::string(const FaultPlan&)> words;
    /// The TOML form: the value as a file holds it, and setting it from one.
    std::function<KnobValue(const FaultPlan&)> value;
    std::function<std::optional<std::string>(FaultPlan&, const KnobValue&)> set_value;
    std::function<void(FaultPlan&, sim::DecisionSource&, const FaultDrawBounds&)> draw;
    /// Simpler settings of an active knob, for the shrinker (calm aside).
    std::function<std::vector<FaultPlan>(const FaultPlan&)> simpler;
    /// Brings offsets and sizes within bytes_in_play (a smaller run).
    std::function<void(FaultPlan&, std::uint64_t)> clamp;

    bool disruptive() const { return causes != 0; }
};

/// Every knob, in the order explore draws them.
const std::vector<FaultKnob>& fault_knobs();
/// The knob called name (or one of its aliases); none if there is none.
const FaultKnob* find_fault_knob(std::string_view name);

/// A set of knobs: bit i is fault_knobs()[i].
using KnobSet = std::uint64_t;
KnobSet all_knobs();
KnobSet benign_knobs();
KnobSet active_knobs(const FaultPlan& plan);
/// "all", "none", "benign", or knob names separated by commas ("cuts" is
/// partial_sends,short_reads); none and why in error for an unknown name.
std::optional<KnobSet> parse_knob_list(std::string_view text, std::string* error = nullptr);
std::string knob_list_text(KnobSet set);

bool is_calm(const FaultPlan& plan);
bool has_disruptive_faults(const FaultPlan& plan);
/// The errors the plan's active knobs may cause.
ErrorCauses error_causes(const FaultPlan& plan);

/// "partial_sends=1/8 reset=client:700": each active knob as key=value.
std::string fault_plan_text(const FaultPlan& plan);
/// Sets one knob from "key" and "value"; returns why not, or none.
std::optional<std::string> set_fault_knob(FaultPlan& plan, std::string_view key,
                                          std::string_view value);
/// One sentence per active knob.
std::vector<std::string> fault_plan_words(const FaultPlan& plan);

/// A plan over the knobs in enabled: each on with probability 1/3, its
/// settings drawn within bounds that keep a run short.
FaultPlan draw_fault_plan(sim::DecisionSource& source, KnobSet enabled,
                          const FaultDrawBounds& bounds);

/// The knob table as Markdown (docs/faults.md is this, checked by a test).
std::string fault_knobs_markdown();

}  // namespace ferry::harness
