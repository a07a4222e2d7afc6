#pragma once
// A workload: what a run does and what must hold afterwards. It sets up
// servers and clients through a World (either backend), runs the operations
// of a WorkloadCase, records a History, and checks it against a model plus a
// rule for which errors the active faults excuse (on a calm network, none).
// ferry/1, the chapter's upload and examples/kv are workloads; a protocol of
// your own is one more (docs/test-your-own-protocol.md). Workloads are found
// by name in a WorkloadRegistry: `--workload` on `ferry sim` and `ferry
// explore`, `workload = "..."` in scenario files.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/harness/failure.h"
#include "ferry/harness/fault_plan.h"
#include "ferry/harness/history.h"
#include "ferry/harness/workload_case.h"
#include "ferry/harness/world.h"
#include "ferry/sim/decisions.h"

namespace ferry::harness {

/// What explore may draw.
struct DrawOptions {
    std::uint64_t size_max = 4096;   ///< the largest payload
    std::size_t chunk_bytes = 1024;  ///< the protocol's chunk, where sizes have edges
};

/// One run of a workload's case, started in a world.
class WorkloadRun {
  public:
    virtual ~WorkloadRun() = default;
    virtual const History& history() const = 0;
    /// Checks what happened against the model, after the world has run.
    /// finished: every client returned (else the run deadlocked or ran out
    /// of time, and only safety is checked: nothing wrong returned or kept).
    virtual std::optional<Failure> check(const FaultPlan& faults, bool finished) = 0;
    /// The server's files afterwards, for a scenario's [expect] files; none
    /// for a workload that keeps no files.
    virtual std::optional<StoredContents> files() { return std::nullopt; }
};

class Workload {
  public:
    virtual ~Workload() = default;
    virtual std::string_view name() const = 0;
    /// One line: what it runs.
    virtual std::string_view summary() const = 0;
    virtual const WorkloadSchema& schema() const = 0;

    /// One client moving size_bytes once: `ferry sim --size N`.
    virtual WorkloadCase simple_case(std::uint64_t size_bytes) const = 0;
    /// Cases explore runs first, each once on a calm network: the edges.
    virtual std::vector<WorkloadCase> edge_cases(const DrawOptions& options) const;
    /// A random case for explore.
    virtual WorkloadCase draw(sim::DecisionSource& source, const DrawOptions& options) const = 0;
    /// Simpler variants for the shrinker, beyond what it tries on its own
    /// (dropping clients and operations, halving numbers, calming knobs).
    virtual std::vector<WorkloadCase> simpler(const WorkloadCase& c) const;
    /// About the most bytes one connection moves: where byte offsets of
    /// faults can strike.
    virtual std::uint64_t bytes_in_play(const WorkloadCase& c) const = 0;
    /// Fault knobs that mean something to this workload (default: all).
    virtual KnobSet relevant_knobs() const { return all_knobs(); }

    /// Sets up servers and clients in world; the world runs them afterwards.
    virtual std::unique_ptr<WorkloadRun> start(World& world, const WorkloadCase& c) const = 0;
};

class WorkloadRegistry {
  public:
    /// Adds a workload; throws std::invalid_argument if its name is taken or
    /// a setting is named like a fault knob.
    void add(std::unique_ptr<Workload> workload);
    const Workload* find(std::string_view name) const;
    const std::vector<std::unique_ptr<Workload>>& all() const { return workloads_; }
    /// "ferry, naive, kv", for messages.
    std::string names() const;

  private:
    std::vector<std::unique_ptr<Workload>> workloads_;
};

}  // namespace ferry::harness
