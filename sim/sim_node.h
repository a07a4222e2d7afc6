#pragma once
// A simulated machine: a group of processes that die together, and the disk
// they write, if any. kill() is kill -9 of every process on it (their fibers
// unwind, their connections are reset, their listeners close, their files
// close, the disk's page cache stays); crash() is a power loss (the same, and
// the disk keeps only what sim_filesystem.h says a crash keeps). Either way
// the machine can start again: spawn its server afresh with a new mount() of
// the same disk, and the server's startup (a DiskStore's cleanup) runs as
// after a real restart.
//
//   SimFilesystem disk(sim);
//   SimNode node(sim, "server", &disk);
//   node.spawn("server", [&] { DiskStore store(node.mount()); serve(store); }, true);
//   ... node.crash(); ... node.spawn("server", ...);  // restarted
//
// A crash_at_call fault of the disk crashes this node.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ferry/sim/sim_filesystem.h"
#include "ferry/sim/simulation.h"

namespace ferry::sim {

class SimNode {
  public:
    SimNode(Simulation& sim, std::string name, SimFilesystem* disk = nullptr);
    ~SimNode();
    SimNode(const SimNode&) = delete;
    SimNode& operator=(const SimNode&) = delete;

    const std::string& name() const { return name_; }
    GroupId group() const { return group_; }
    SimFilesystem* disk() const { return disk_; }
    /// Starts a process on the node; what it spawns runs on the node too.
    ProcessId spawn(std::string name, std::function<void()> body, bool daemon = false);
    /// A door to the node's disk for this boot (the node needs a disk).
    std::unique_ptr<SimMount> mount();
    /// kill -9 of every process on the node. Callable from anywhere,
    /// including one of its own processes (which unwinds at its next
    /// blocking call).
    void kill();
    /// Power loss: kill(), and the disk crashes.
    void crash();
    /// How many times the node has been killed or crashed.
    std::uint64_t deaths() const { return deaths_; }

  private:
    Simulation& sim_;
    std::string name_;
    SimFilesystem* disk_;
    GroupId group_;
    std::vector<MountId> mounts_;  ///< of this boot
    std::uint64_t deaths_ = 0;
};

}  // namespace ferry::sim
