#pragma once
// The simulated network: addresses are strings ("server:9000"); listen,
// connect and accept; segments, FINs and RSTs travel with a latency drawn
// from the decision source, in order per direction, through the faults of
// NetworkFaults.

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ferry/protocol/connection.h"
#include "ferry/sim/faults.h"
#include "ferry/sim/simulation.h"

namespace ferry::sim {

class SimConnection;
class SimNetwork;

/// A listening address; accepted connections belong to the accepting process.
class SimListener {
  public:
    SimListener(SimNetwork& network, std::string address, ProcessId owner);
    ~SimListener();
    SimListener(const SimListener&) = delete;
    SimListener& operator=(const SimListener&) = delete;

    /// Waits for a client until timeout (none = for ever); none on timeout,
    /// like TcpListener. Only inside a process.
    std::unique_ptr<SimConnection> accept(std::optional<Duration> timeout = std::nullopt);
    /// Stops listening; clients not yet accepted are reset. Idempotent.
    void close();

    const std::string& address() const { return address_; }
    ProcessId owner() const { return owner_; }
    bool closed() const { return closed_; }

  private:
    friend class SimNetwork;
    SimNetwork& network_;
    std::string address_;
    ProcessId owner_;
    std::vector<SimLink*> backlog_;  ///< oldest first; a handful at most
    WaitQueue acceptors_;
    bool closed_ = false;
};

class SimNetwork {
  public:
    SimNetwork(Simulation& sim, NetworkFaults faults);
    ~SimNetwork();
    SimNetwork(const SimNetwork&) = delete;
    SimNetwork& operator=(const SimNetwork&) = delete;

    /// Listens on address; throws std::invalid_argument if someone already does.
    std::unique_ptr<SimListener> listen(const std::string& address);
    /// Connects to address, taking one round trip; throws ConnectionError
    /// (refused when nobody listens, timed_out). Only inside a process.
    std::unique_ptr<SimConnection> connect(const std::string& address,
                                           std::optional<Duration> timeout = std::nullopt);
    /// The same, with a refused or timed-out connect returned rather than
    /// thrown: for a harness that expects it often (an explorer run refused by
    /// a fault), where each throw costs more than the rest of the run.
    std::variant<std::unique_ptr<SimConnection>, ConnectionError> connect_or_error(
        const std::string& address, std::optional<Duration> timeout = std::nullopt);

    NetworkFaults& faults() { return faults_; }
    const NetworkFaults& faults() const { return faults_; }
    Simulation& simulation() { return sim_; }

    // --- for SimConnection, SimListener and Simulation ---

    /// Whether a stall or reset fault is aimed at side (the slow paths).
    bool has_faults_for(Side side) const {
        return (faults_.stall && faults_.stall->side == side) ||
               (faults_.reset && faults_.reset->side == side);
    }
    /// Puts what the window allows of side's send buffer on the wire, then
    /// the FIN if it is due.
    void pump(SimLink& link, Side from);
    /// Aborts from side: drops what it has not sent, and an RST follows what
    /// is in flight to the peer.
    void send_rst(SimLink& link, Side from);
    /// A reset fault fires at side: its calls fail with reset from now on.
    void fire_reset_fault(SimLink& link, Side side);
    /// Whether side's recv() is stalled now by a stall fault, and until when
    /// (none = for ever). Starts the stall when it is due.
    bool stalled(SimLink& link, Side side, Deadline& until);
    /// How many more bytes side may read before a stall fault starts (none =
    /// no limit).
    std::optional<std::uint64_t> bytes_before_stall(const SimLink& link, Side side) const;
    /// How many more bytes side may move before a reset fault fires.
    std::optional<std::uint64_t> bytes_before_reset(const SimLink& link, Side side) const;

    /// The processes of group were killed: every connection end one of them
    /// holds is reset (its peer learns after a latency; its own calls fail
    /// with closed), a connect in progress is abandoned, and every listener
    /// one of them opened is closed, so a restarted server can listen again.
    void kill_group(GroupId group);

    void handle(Simulation::EventKind kind, SimLink& link, std::uint64_t arg);
    /// Fills in out for a process blocked in wait; returns the process that
    /// would have to act to unblock it (0 = nobody in particular).
    ProcessId describe(const WaitInfo& wait, BlockedProcess& out) const;

  private:
    friend class SimListener;
    Instant arrival_time(SimStream& stream);
    /// Flips one bit of [first, first + bytes) of from's stream on the wire.
    void corrupt(SimLink& link, Side from, std::uint64_t first, std::uint64_t bytes);
    void unregister(SimListener& listener);

    Simulation& sim_;
    NetworkFaults faults_;
    std::vector<std::unique_ptr<SimLink>> links_;
    std::map<std::string, SimListener*, std::less<>> listeners_;
    bool clog_recorded_ = false;
};

}  // namespace ferry::sim
