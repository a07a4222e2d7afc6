#include "sim/sim_run.h"

#include <gtest/gtest.h>

namespace ferry::sim {
namespace {

TEST(SimRun, NaiveZeroBytesDeadlocks) {
    TransferSpec spec;
    spec.protocol = ProtocolKind::naive;
    spec.size_bytes = 0;
    const TransferReport report = run_transfer(spec);
    EXPECT_EQ(report.outcome, Outcome::deadlock) << report.detail;
    std::cout << report.detail << report.recent_events;
}

TEST(SimRun, FerryPassesCalm) {
    TransferSpec spec;
    spec.size_bytes = 2048;
    const TransferReport report = run_transfer(spec);
    EXPECT_EQ(report.outcome, Outcome::passed) << report.detail << report.recent_events;
}

}  // namespace
}  // namespace ferry::sim
