#pragma once
// How GoogleTest prints the simulator's results in a failed expectation
// (EXPECT_EQ(result.status, RunStatus::completed) shows "deadlock", not a
// number; a SimResult shows its summary, digest and report). In the types'
// own namespace, where GoogleTest looks.

#include <ostream>

#include "ferry/sim/simulation.h"

namespace ferry::sim {

void PrintTo(RunStatus status, std::ostream* os);
void PrintTo(const SimResult& result, std::ostream* os);

}  // namespace ferry::sim
