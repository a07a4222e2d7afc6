#pragma once
// The real driver: runs a RunSpec over real sockets on 127.0.0.1 — each
// address the workload listens on an ephemeral port, a temporary root on
// disk with a DiskStore (behind a quota for the disk_full fault), processes
// as threads, every connection wrapped in a FaultyConnection drawing its
// cuts from the seed — and checks it with the same model as the simulator.
// A watchdog turns a hang into a deadlock, naming the call each side is
// blocked in. Knobs the real backend cannot inject (latency, buffers, clog,
// refused connects, corruption, store I/O) are left out: docs/faults.md.

#include <chrono>

#include "ferry/sim/recording.h"

#include "ferry/harness/run_spec.h"
#include "ferry/harness/workload.h"

namespace ferry::harness {

struct RealDriverOptions {
    /// A run in which no byte moved for this long while every client waits
    /// in a call that has no deadline is a deadlock.
    std::chrono::milliseconds quiet_for_deadlock{1000};
    /// When set, receives what the run's connections put on the wire
    /// (harness/real_capture.h), for a pcap like a simulated run's.
    sim::Recording* recording = nullptr;
};

RunResult run_on_real(const Workload& workload, const RunSpec& spec,
                      const RealDriverOptions& options = {});

}  // namespace ferry::harness
