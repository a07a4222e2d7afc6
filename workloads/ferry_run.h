#pragma once
// One run of the ferry workload: a ferry/1 server (the protocol's accept loop
// and sessions, with the case's limits and timeouts) over the world's store,
// and the case's clients. check() is the model (ferry_model.h).

#include <memory>
#include <optional>
#include <vector>

#include "ferry/harness/workload.h"
#include "ferry/protocol/ferry_server.h"
#include "ferry/workloads/ferry_run_state.h"

namespace ferry::workloads {

class FerryRun final : public harness::WorkloadRun {
  public:
    FerryRun(harness::World& world, const harness::WorkloadCase& c);
    /// Preloads the store, starts the server and the clients.
    void start();

    const harness::History& history() const override { return state_.history; }
    std::optional<harness::Failure> check(const harness::FaultPlan& faults, bool finished) override;
    std::optional<harness::StoredContents> files() override;

  private:
    void preload();

    FerryRunState state_;
    /// The store's files as check() read them: files() returns them rather
    /// than reading the store a second time (the run is over by then).
    std::optional<harness::StoredContents> checked_files_;
    std::size_t slot_count_;
    std::vector<std::unique_ptr<ConnectionSlots>> slots_;  ///< one per boot
    FerryServerConfig server_config_;
    ConnectionHandlers handlers_;
    AcceptLoopOptions loop_options_;
};

}  // namespace ferry::workloads
