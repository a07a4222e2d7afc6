#pragma once
// The World of a simulated run (harness/world.h): processes, connections
// and listeners of one Simulation, and a server machine (sim/sim_node.h)
// whose store is the real DiskStore over a simulated disk
// (sim/sim_filesystem.h), with the fault plan's disk faults and its crash.
//
// The machine boots when the workload starts its server: the first boot
// opens its store on a calm disk and only then do the plan's disk faults
// start (so "the Nth call" counts from a running server). A crash kills the
// machine (power loss: its disk crashes too) once it has received the
// plan's number of bytes or at its Nth filesystem call; with a restart it
// boots again 1 ms later, and a boot whose store cannot open (its disk
// fails) tries again 2, 4, 8 ... ms later, and gives up after 8 tries.
//
// finish() ends every run the same way: the processes still running are
// unwound (an upload in progress aborts as on a clean shutdown), the disk
// must then hold no temporary file unless an injected failure or a dead
// machine explains it, the power goes, and the store is opened again: its
// startup must leave no temporary file, and store() is that store, so the
// workload's model checks what a crash right after the run keeps.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ferry/harness/failure.h"
#include "ferry/harness/fault_plan.h"
#include "ferry/harness/world.h"
#include "ferry/real/disk_store.h"
#include "ferry/sim/sim_filesystem.h"
#include "ferry/sim/sim_node.h"
#include "ferry/sim/simulation.h"

namespace ferry::harness {

class SimListenerAdapter;

class SimWorld final : public World {
  public:
    SimWorld(sim::Simulation& sim, const FaultPlan& faults, std::uint64_t seed);
    ~SimWorld() override;

    const Clock& clock() const override { return sim_; }
    std::unique_ptr<Listener> listen(const std::string& address) override;
    ConnectResult try_connect(const std::string& address, std::optional<Duration> timeout) override;
    void spawn(std::string name, std::function<void()> body) override;
    void spawn_client(std::string name, std::function<void()> body) override;
    void start_server(std::string name, std::function<void(Store&)> boot) override;
    Store& store() override;
    void preload_file(const std::string& name, std::string_view content) override;
    void preload_directory(const std::string& name) override;
    void sleep(Duration duration) override { sim_.delay(duration); }
    void annotate(std::string_view text) override { sim_.annotate(text); }
    std::uint64_t seed() const override { return seed_; }
    std::string_view backend() const override { return "sim"; }
    std::vector<Instant> power_losses() const override { return power_losses_; }
    std::optional<StoredContents> files_at_end() const override { return files_at_end_; }

    /// After sim.run(): unwinds every process, checks for leftovers, cuts
    /// the power and opens the store again (see above). A leftover is a
    /// failure.
    std::optional<Failure> finish();

    // For SimListenerAdapter and the connections it accepts.
    void forget(SimListenerAdapter* listener) { std::erase(listeners_, listener); }
    /// The server's machine received bytes more; crashes it when the plan
    /// says so. How many of them may be taken first: all, or fewer to stop
    /// exactly at the crash's offset.
    std::uint64_t bytes_before_crash() const;
    void received(std::uint64_t bytes);
    bool counts_received() const {
        return faults_.crash && faults_.crash->after_bytes && !crashed_;
    }

  private:
    void boot();
    void boot_later(Duration after);
    void crash_now();
    /// The plan's disk faults, with its crash if that strikes at a call.
    sim::FsFaults disk_faults() const;
    bool on_server_machine() const;
    std::vector<std::string> temporary_files() const;
    /// A file whose kept digest a reader would take but which describes
    /// other bytes, as a failure; when says at which point of the end.
    std::optional<Failure> check_kept_digests(std::string_view when) const;

    sim::Simulation& sim_;
    FaultPlan faults_;
    std::uint64_t seed_;
    sim::SimFilesystem disk_;
    sim::SimNode node_;
    std::string server_name_;
    std::function<void(Store&)> server_boot_;
    std::unique_ptr<DiskStore> store_;  ///< the current boot's
    std::uint64_t boots_ = 0;
    bool boot_pending_ = false;
    std::uint64_t failed_boots_ = 0;  ///< in a row
    bool crashed_ = false;
    bool alive_ = false;          ///< a boot has its store open and has not died
    std::uint64_t received_ = 0;  ///< by the server's machine, for the crash
    std::vector<Instant> power_losses_;
    std::optional<StoredContents> files_at_end_;
    std::vector<SimListenerAdapter*> listeners_;  ///< live ones, owned by processes
    std::size_t clients_running_ = 0;
};

}  // namespace ferry::harness
