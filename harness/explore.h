#pragma once
// Property-based exploration of one client-server transfer (`ferry explore`,
// tests/explore): draw a case — a payload size biased to the edges, a fault
// plan over the simulator's knobs, and a schedule (the list of choices the
// simulation makes) — run it, judge it against what a transfer protocol must
// do, and shrink a failure to the smallest case that still fails the same way.
//
//   ExploreCase       size, chunk, faults and the recorded choice list
//   run_case          one simulated transfer of a case, judged
//   shrink_case       fewer faults, a smaller payload, fewer and smaller choices
//   explore           the loop: random, PCT or exhaustive strategy, shards
//   scenario_for_case a scenario file that replays a failure (checked first)
//
// A case replays exactly from its text form (case_to_text / parse_case_text):
// the choice list is fed to a RecordedDecisions, so the same case gives the
// same run, on any machine.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "sim/decisions.h"
#include "sim/faults.h"
#include "sim/sim_run.h"

namespace ferry::harness {

/// The fault knobs the explorer turns, as bits; --faults names them.
enum class FaultKnob : std::uint32_t {
    partial_sends = 1u << 0,  ///< sends take a random prefix
    short_reads = 1u << 1,    ///< reads return a random prefix
    max_send = 1u << 2,       ///< a cap on the bytes one send takes
    latency = 1u << 3,        ///< segment latency drawn from a range
    buffers = 1u << 4,        ///< small send buffers, windows and segments
    clog = 1u << 5,           ///< the link delivers nothing for a while
    stall = 1u << 6,          ///< one side stops reading (for a while or for ever)
    reset = 1u << 7,          ///< the connection is reset at a byte offset
    refused = 1u << 8,        ///< connect() is refused
    disk_full = 1u << 9,      ///< the store runs out of space
    store_io = 1u << 10,      ///< a write, fsync or rename fails
};

using FaultSet = std::uint32_t;

inline constexpr FaultSet all_fault_knobs = (1u << 11) - 1;
/// The knobs under which every transfer must succeed: nothing is lost, only
/// cut, capped, delayed or briefly held up.
inline constexpr FaultSet benign_fault_knobs =
    static_cast<FaultSet>(FaultKnob::partial_sends) |
    static_cast<FaultSet>(FaultKnob::short_reads) | static_cast<FaultSet>(FaultKnob::max_send) |
    static_cast<FaultSet>(FaultKnob::latency) | static_cast<FaultSet>(FaultKnob::buffers);

constexpr bool has(FaultSet set, FaultKnob knob) {
    return (set & static_cast<FaultSet>(knob)) != 0;
}

/// "all", "none", "benign", or a comma-separated list of knob names
/// (partial_sends,short_reads,...); none for an unknown name.
std::optional<FaultSet> parse_fault_list(std::string_view text);
std::string fault_list_text(FaultSet set);

/// One transfer to explore. The payload's bytes come from payload_seed.
struct ExploreCase {
    sim::ProtocolKind protocol = sim::ProtocolKind::ferry;
    std::uint64_t size_bytes = 0;
    std::size_t chunk_bytes = 1024;
    std::uint64_t payload_seed = 1;
    sim::NetworkFaults faults;
    sim::StoreFaults store_faults;
    /// Replayed through a RecordedDecisions; past its end every choice is 0,
    /// the calm default.
    std::vector<std::uint64_t> choices;
};

/// Faults that may legitimately end a transfer in an error: stalls, resets,
/// clogs, refused connects and store faults. Under the others a transfer
/// must succeed.
bool has_disruptive_faults(const ExploreCase& c);

/// Payload sizes at the edges for chunk bytes C, up to size_max: 0, 1, C−1,
/// C, C+1, kC and kC±1, and for ferry/1 the sizes at which the PUT header and
/// the body together fill a chunk (C − header, ±1). Sorted, no repeats.
std::vector<std::uint64_t> edge_sizes(sim::ProtocolKind protocol, std::size_t chunk_bytes,
                                      std::uint64_t size_max);

/// A size: three times in four one of edges, else uniform in [0, size_max].
std::uint64_t draw_size(sim::DecisionSource& source, const std::vector<std::uint64_t>& edges,
                        std::uint64_t size_max);

/// A fault plan over the knobs in enabled: each knob is on with probability
/// 1/3, and its settings are drawn within bounds that keep a run short.
void draw_faults(sim::DecisionSource& source, FaultSet enabled, std::size_t chunk_bytes,
                 std::uint64_t size_bytes, sim::NetworkFaults& faults,
                 sim::StoreFaults& store_faults);

/// How a run of a case is judged.
enum class CaseVerdict {
    ok,           ///< passed, or ended in an allowed error with no partial file
    failed,       ///< a wrong file, or an error where none is allowed
    deadlock,     ///< nothing can run and nothing is in flight
    time_budget,  ///< still running when the virtual time budget was spent
};

std::string_view to_string(CaseVerdict verdict);

struct CaseResult {
    CaseVerdict verdict = CaseVerdict::ok;
    /// What kind of bug, stable across shrinking: "deadlock", "truncated",
    /// "wrong reply", "error without disruptive faults", ...
    std::string signature;
    std::string detail;  ///< the run's report, in words
    sim::TransferReport report;
    std::uint64_t choices_used = 0;  ///< choices the run drew
};

/// Runs c once. decisions: where choices come from (none = c.choices through
/// a RecordedDecisions); record: every choice made is appended here;
/// full_report: a failure's report carries the trace's tail as text, and the
/// run its trace digest. The search and the shrinker skip both (formatting
/// costs a third of a failing run, hashing the trace a twentieth of any run)
/// and run what they find once more with them.
CaseResult run_case(const ExploreCase& c, sim::DecisionSource* decisions = nullptr,
                    std::vector<std::uint64_t>* record = nullptr, bool full_report = true);

struct ShrinkResult {
    ExploreCase minimal;
    CaseResult result;
    std::uint64_t runs = 0;  ///< runs spent shrinking
};

/// Shrinks a failing case while it keeps failing with the same signature:
/// fewer faults, a smaller payload, a shorter choice list, smaller and earlier
/// choices. Stops at a fixpoint or after max_runs runs.
ShrinkResult shrink_case(const ExploreCase& failing, const CaseResult& result,
                         std::uint64_t max_runs = 20000);

/// The case in words: size, chunk, each fault, the choices that differ from
/// the calm default, and (for a deadlock) the blocked calls.
std::string describe_case(const ExploreCase& c, const CaseResult& result);

/// One line that parse_case_text reads back: "naive size=0 chunk=1024 ...".
std::string case_to_text(const ExploreCase& c);
/// none (and why in error) if text is not a case.
std::optional<ExploreCase> parse_case_text(std::string_view text, std::string* error = nullptr);

/// A scenario file (TOML) that reproduces a failing case through
/// `ferry scenario run`: the same size, chunk and faults, expecting what a
/// correct protocol gives, at a seed checked to fail the same way. None if no
/// seed up to seeds_to_try does, or the faults have no scenario equivalent.
std::optional<std::string> scenario_for_case(const ExploreCase& c, const CaseResult& result,
                                             std::uint64_t seeds_to_try = 200);

enum class Strategy { random, pct, exhaustive };
std::string_view to_string(Strategy strategy);

struct ExploreOptions {
    sim::ProtocolKind protocol = sim::ProtocolKind::ferry;
    Strategy strategy = Strategy::random;
    std::uint64_t seed = 1;
    std::optional<std::uint64_t> runs;  ///< stop after this many (this shard's)
    std::optional<std::chrono::duration<double>> time_limit;
    std::uint64_t size_max = 4096;
    std::size_t chunk_bytes = 1024;
    FaultSet faults = all_fault_knobs;
    std::uint64_t shard_index = 0;  ///< 0-based
    std::uint64_t shard_count = 1;
    bool keep_going = false;  ///< on after a failure, reporting each new signature once
    bool shrink = true;
    /// Exhaustive: at most this many non-calm choices per run.
    std::uint64_t exhaustive_cuts_max = 1;
    /// PCT: bug depths tried in turn, 1..pct_depth_max.
    std::uint64_t pct_depth_max = 3;
    /// PCT over the whole choice stream rather than the scheduler (see
    /// PctDecisions).
    bool pct_calm_data = false;
    /// With keep_going: stop once every one of these signatures was found
    /// (benchmarks: how many runs until the chapter's two bugs).
    std::vector<std::string> stop_when_found;
};

struct Finding {
    std::uint64_t run_index = 0;  ///< which run of this shard found it (0-based)
    double seconds = 0;           ///< wall time from the start until found
    ExploreCase found;
    CaseResult found_result;
    ExploreCase minimal;
    CaseResult minimal_result;
    std::uint64_t shrink_runs = 0;
};

struct ExploreProgress {
    std::uint64_t runs = 0;
    std::uint64_t failures = 0;
    double seconds = 0;
};

struct ExploreSummary {
    std::uint64_t runs = 0;
    std::uint64_t events = 0;  ///< simulated events over all runs (not shrinking)
    double cpu_seconds =
        0;  ///< this process's CPU time meanwhile (a busy machine's wall time lies)
    double seconds = 0;
    std::vector<Finding> findings;
    bool exhausted = false;  ///< exhaustive mode covered everything up to its bound
};

/// Random and PCT begin with every edge size once on a calm network (global
/// runs 0..edges−1), then draw sizes and fault plans.
/// Runs cases until runs or time_limit is reached, the first failure (unless
/// keep_going), or the exhaustive enumeration is done. progress is called
/// every few thousand runs; on_finding as each new failure is shrunk.
ExploreSummary explore(const ExploreOptions& options,
                       const std::function<void(const ExploreProgress&)>& progress = {},
                       const std::function<void(const Finding&)>& on_finding = {});

/// The case seed of run run_index of a shard: shards of one seed interleave
/// (run i of shard k of n is global run i·n + k), so n shards together cover
/// exactly what one unsharded run covers.
std::uint64_t case_seed(std::uint64_t seed, std::uint64_t global_run);

/// Priority-based scheduling (PCT, Burckhardt et al., as in Coyote and
/// Shuttle): each process gets a random priority when first seen, the highest
/// runnable one always goes next, and at depth − 1 scheduling steps drawn
/// uniformly from the first horizon ones the process about to run drops below
/// every other. Other choices (cuts, latency, faults) are uniform, as in the
/// random strategy.
///
/// With calm_data, the same idea applied to the whole choice stream: every
/// choice is the calm default except at the depth − 1 change points (drawn
/// among the first horizon choices), where a random other option is taken —
/// a bug that needs k non-calm choices is a depth-(k+1) bug.
class PctDecisions final : public sim::DecisionSource {
  public:
    PctDecisions(std::uint64_t seed, std::uint64_t depth, std::uint64_t horizon,
                 bool calm_data = false);

  protected:
    std::uint64_t next_choice(std::uint64_t option_count) override;
    std::uint64_t next_process_choice(std::span<const std::uint64_t> runnable_ids) override;

  private:
    std::uint64_t uniform(std::uint64_t option_count);
    /// Whether step is a change point (consumes the ones up to it).
    bool change_point(std::uint64_t step);

    sim::PrngDecisions prng_;
    bool calm_data_;
    std::uint64_t depth_;
    std::vector<std::uint64_t> change_points_;  ///< sorted
    std::size_t next_change_ = 0;
    std::uint64_t changes_made_ = 0;
    std::uint64_t step_ = 0;  ///< scheduling steps, or all choices with calm_data
    std::map<std::uint64_t, std::uint64_t> priority_;  ///< process id -> priority
};

}  // namespace ferry::harness
