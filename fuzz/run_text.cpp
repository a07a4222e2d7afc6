// Fuzz target: the one-line text form of a run (harness/run_text.h), what
// `ferry sim --run` and `ferry explore --replay` read, against the builtin
// workloads.
//
// A line that is not a run is a normal outcome (none, and why in the error
// string); a finding is a crash, UB, any exception, a refusal without a
// reason, or a run whose printed text or scenario file does not read back
// to the same run (run_round_trip.h).

#include <string>

#include "ferry/harness/run_text.h"
#include "ferry/workloads/builtin.h"
#include "fuzz/fuzz_check.h"
#include "fuzz/run_round_trip.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto& workloads = ferry::workloads::builtin_workloads();
    std::string error;
    const auto spec =
        ferry::harness::parse_run_spec_text(ferry::fuzz::input_text(data, size), workloads, &error);
    if (!spec) {
        ferry::fuzz::require(!error.empty(), "a run refused without a reason");
        return 0;
    }
    ferry::fuzz::require_run_round_trips(*spec, workloads);
    return 0;
}
