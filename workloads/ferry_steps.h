#pragma once
// The ferry workload's history as its model reads it: each record with its
// typed operation and what it got back. Internal to the model's files.

#include <optional>
#include <vector>

#include "ferry/harness/failure.h"
#include "ferry/harness/fault_plan.h"
#include "ferry/harness/history.h"
#include "ferry/workloads/ferry_run_state.h"

namespace ferry::workloads {

struct FerryStep {
    const harness::OpRecord* record = nullptr;
    const FerryOp* op = nullptr;
    const FerryOpResult* result = nullptr;

    harness::OpStatus status() const { return record->status; }
    bool completed() const { return record->completed.has_value(); }
};

/// records in invocation order, each with its operation and result.
std::vector<FerryStep> ferry_steps(const FerryRunState& state,
                                   const std::vector<harness::OpRecord>& records);

/// Whether a PUT may never commit whatever the server does right: it was
/// abandoned, lied about its body, or the server answered it with an error.
/// (Under corruption a lie may have been mended in flight: then it may.)
bool must_not_commit(const FerryStep& step, harness::ErrorCauses active);

/// Errors the case's timeouts or the network's slowness make possible on
/// a calm client: a server (or client) timeout a correct run may hit.
bool timeouts_are_tight(const FerryRunState& state, const harness::FaultPlan& faults);

/// Checks every operation's outcome against what it asked for, with the
/// errors the active faults excuse.
std::optional<harness::Failure> check_ferry_outcomes(const FerryRunState& state,
                                                     const std::vector<FerryStep>& steps,
                                                     const harness::FaultPlan& faults);
/// Checks the server's accept events against its connection limit (exact
/// in the simulator only, where events are recorded in the order they
/// happen).
std::optional<harness::Failure> check_ferry_limits(const FerryRunState& state);

}  // namespace ferry::workloads
