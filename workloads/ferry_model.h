#pragma once
// The ferry workload's model: what ferry/1 (docs/protocol.md) allows a run's
// history and its server's files to be, and which errors the active faults
// excuse. A name is a register written by PUTs: a GET may return any upload
// of that name that may have committed and was not certainly replaced before
// the GET began (or 404 while nothing certainly exists), a DIR lists every
// file certainly there and no file that cannot be, and afterwards every file
// holds one complete upload that was not certainly replaced. An error is
// allowed only where the operation asked for it (a bad name, a lying
// client) or an active fault can cause it. A power loss keeps every OK'd
// upload and may take back anything else: a file a read saw is certainly
// there only until the power next goes.

#include <optional>
#include <vector>

#include "ferry/harness/failure.h"
#include "ferry/harness/fault_plan.h"
#include "ferry/workloads/ferry_run_state.h"

namespace ferry::workloads {

/// stored: the server's files at each point the model checks them (as the
/// run left them; after a power loss and a restart).
std::optional<harness::Failure> check_ferry_run(const FerryRunState& state,
                                                const std::vector<harness::StoredContents>& stored,
                                                const harness::FaultPlan& faults, bool finished);

}  // namespace ferry::workloads
