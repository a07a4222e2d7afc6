#pragma once
// Judging a run: what happened (the observation a backend gathers) against
// what the scenario expects, plus the invariants that always hold for ferry/1
// (no file is ever torn: each holds exactly one complete upload).

#include <string>
#include <vector>

#include "harness/client_script.h"
#include "harness/scenario.h"
#include "protocol/store.h"

namespace ferry::harness {

struct ServerFile {
    std::string name;
    std::string content;
};

/// Every committed file of store with its bytes, sorted by name.
std::vector<ServerFile> read_all_files(Store& store);

struct RunObservation {
    enum class End { finished, deadlock, time_budget_exceeded };
    End end = End::finished;
    /// For a deadlock or a spent budget: who was blocked where, in words.
    std::string stuck_report;
    std::vector<ClientReport> clients;
    std::vector<ServerFile> files;  ///< the server's files after the run
};

/// deadlock, else timeout (budget spent or a call timed out), else error (a
/// step failed), else pass.
Outcome observed_outcome(const RunObservation& observation);

struct Verdict {
    bool passed = true;
    Outcome outcome = Outcome::pass;
    std::vector<std::string> reasons;  ///< why it did not pass, most useful first
};

Verdict judge(const Scenario& scenario, const ContentModel& model,
              const RunObservation& observation);

}  // namespace ferry::harness
