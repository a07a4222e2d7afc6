#pragma once
// sim/ — the deterministic runtime: the same protocol code, unchanged, runs on
// a simulated network in which one seed decides everything.
//
//   simulation.h      Simulation: virtual clock, event queue, fibers, the
//                     scheduler, deadlock and time-budget detection (this file)
//   timer_heap.h      TimerHeap: blocked processes' deadlines, earliest first
//   indexed_queue.h   IndexedQueue: the run queue, its i-th process taken in
//                     O(log n)
//   decisions.h       DecisionSource: the one door for every nondeterministic
//                     choice; PrngDecisions (xoshiro256**), RecordedDecisions
//   fiber.h           stack pool and AddressSanitizer switch annotations
//   faults.h          every fault knob: NetworkFaults, FsFaults, CrashFault
//   trace.h           Trace: events with virtual time, XXH3 digest, JSON lines
//   recording.h       Recording: a run's every event, segment payload and
//                     blocked interval, for the pictures views/ draws
//   text_table.h      TextTable: the trace's interned texts by id
//   sim_network.h     SimNetwork: listen, connect, accept; segments, FIN, RST
//   sim_link.h        the state of one simulated TCP connection (internal)
//   sim_connection.h  SimConnection: the Connection contract, simulated
//                     (mirrors real/tcp_connection.h)
//   sim_filesystem.h  SimFilesystem: a disk with a page cache, crashes and
//                     failing calls behind the Filesystem door, for the real
//                     DiskStore (mirrors real/posix_filesystem.h)
//   sim_node.h        SimNode: a machine, processes that die together (kill,
//                     crash) and restart on the same disk
//
// What runs on it (workloads, their drivers and checks) lives in harness/
// and workloads/: the simulator knows nothing of what it runs.
//
// Rules: no wall clock, no global randomness, no unordered containers, nothing
// ordered by pointer. A test scans this folder for them.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/container/small_vector.hpp>

#include "ferry/protocol/annotation.h"
#include "ferry/protocol/call_site.h"
#include "ferry/protocol/clock.h"
#include "ferry/sim/decisions.h"
#include "ferry/sim/faults.h"
#include "ferry/sim/indexed_queue.h"
#include "ferry/sim/timer_heap.h"
#include "ferry/sim/trace.h"

namespace ferry::sim {

class Process;
class SimNetwork;
class SimListener;
struct SimLink;
struct SimStream;

using ProcessId = std::uint64_t;
/// A group of processes that die together (sim_node.h: a machine); 0 = none.
using GroupId = std::uint64_t;

/// Thrown inside a process when its simulation is torn down. Deliberately not
/// a std::exception, so protocol code catching those lets it pass.
struct ProcessCancelled {};

/// What a blocked process waits in, for deadlock reports.
struct WaitInfo {
    const char* call = "";                  ///< "recv", "send", "accept", "connect", "delay"
    const SimLink* link = nullptr;          ///< for recv, send, connect
    Side side = Side::client;               ///< which end of link the process holds
    const SimListener* listener = nullptr;  ///< for accept
    std::uint64_t bytes = 0;                ///< recv: the buffer's size; send: the bytes offered
    CallSite where{};                       ///< the protocol's call (line 0: unknown)
};

/// Processes blocked until something changes (data arrives, space frees up).
/// Waking is by generation, so a process that has meanwhile moved on to wait
/// for something else is not disturbed.
class WaitQueue {
  public:
    void add(Process& process);
    /// Makes every process still waiting here runnable.
    void wake_all();
    bool empty() const { return waiters_.empty(); }

  private:
    /// Rarely more than one waiter; inline, as a link has five queues and
    /// simulations are made by the hundred thousand.
    boost::container::small_vector<std::pair<Process*, std::uint64_t>, 2> waiters_;
};

struct SimOptions {
    std::uint64_t seed = 0;
    NetworkFaults faults;
    /// Virtual time after which a run that has not finished is a liveness
    /// failure (time_budget_exceeded).
    Duration time_budget = std::chrono::hours(1);
    std::size_t stack_bytes = 0;  ///< 0 = default_stack_bytes
    /// Once every non-daemon process has returned, go on running whatever
    /// is runnable and delivering what is on the wire (timers wait) until
    /// neither is left: background processes then see the ends of their
    /// connections and return, rather than being unwound at teardown.
    bool drain = false;
};

/// One blocked process in a deadlock (or time budget) report.
struct BlockedProcess {
    std::string process;
    std::string call;                   ///< "recv", "send", ...
    std::uint64_t requested_bytes = 0;  ///< recv: room in its buffer; send: bytes offered
    std::string call_site;              ///< "kv_protocol.cpp:42", or "" when not known
    std::uint64_t conn = 0;
    std::string peer_address;
    std::string waits_on;  ///< the process that would have to act, or "" for nobody
    std::uint64_t receive_buffer_bytes = 0;    ///< arrived for it, not yet read
    std::uint64_t in_flight_bytes = 0;         ///< on the wire towards it
    std::uint64_t peer_send_buffer_bytes = 0;  ///< queued at the peer, not yet sent
    std::uint64_t send_buffer_bytes = 0;       ///< its own, not yet sent
    bool end_of_stream_pending = false;        ///< the peer's FIN is queued or in flight
    bool reads_stalled = false;                ///< a stall fault stops its reads
};

struct DeadlockReport {
    std::vector<BlockedProcess> blocked;
    /// One line: "client recv(conn 1) waits on server; server recv(conn 1)
    /// waits on client".
    std::string cycle;

    std::string text() const;
};

enum class RunStatus { completed, deadlock, time_budget_exceeded };

std::string_view to_string(RunStatus status);

struct ProcessFailure {
    std::string process;
    std::string message;
};

struct SimResult {
    RunStatus status = RunStatus::completed;
    Instant end_time;
    std::uint64_t digest = 0;
    /// For deadlock and time_budget_exceeded: who was stuck where.
    DeadlockReport report;
    /// Processes that ended with an exception. The run itself may still be
    /// completed (every process returned, some by throwing): passed() and
    /// summary() say so.
    std::vector<ProcessFailure> failures;
    std::uint64_t events = 0;

    /// Completed, and no process threw.
    bool passed() const { return status == RunStatus::completed && failures.empty(); }
    /// "completed", "deadlock", or "completed, but client threw: refused".
    std::string summary() const;
};

/// Runs processes (fibers) one at a time in virtual time. Every choice comes
/// from one DecisionSource. Connections, listeners and stores made for a
/// simulation must not outlive it.
class Simulation final : public Clock, public AnnotationSink {
  public:
    /// Decisions from a PrngDecisions seeded with options.seed.
    explicit Simulation(SimOptions options);
    /// Decisions from the caller's source (a replay, a property test).
    Simulation(SimOptions options, DecisionSource& decisions);
    /// The same, or from an own PrngDecisions when decisions is null.
    Simulation(SimOptions options, DecisionSource* decisions);
    ~Simulation() override;
    Simulation(const Simulation&) = delete;
    Simulation& operator=(const Simulation&) = delete;

    Instant now() const override { return now_; }
    const SimOptions& options() const { return options_; }
    DecisionSource& decisions() { return *decisions_; }
    Trace& trace() { return trace_; }
    SimNetwork& network() { return *network_; }

    /// Adds a process that starts when run() next schedules it. The run is
    /// over when every process that is not a daemon has returned. It joins
    /// the group of the process that spawns it (none outside any process),
    /// and a process spawned by a killed one is born killed.
    ProcessId spawn(std::string name, std::function<void()> body, bool daemon = false);
    /// The same, in group.
    ProcessId spawn_in(GroupId group, std::string name, std::function<void()> body,
                       bool daemon = false);

    /// A new, empty group of processes, named for the trace.
    GroupId new_group(std::string_view name);
    std::string_view group_name(GroupId group) const;
    GroupId group_of(ProcessId process) const;
    /// kill -9 of every process in group that has not returned: each unwinds
    /// at its next blocking call, which throws ProcessCancelled (one that is
    /// running now keeps running until then; one not yet started never
    /// starts). Killed processes unwind before anything else runs, newest
    /// first, so one spawned by another is gone before its spawner's locals
    /// are. Their connections are reset and their listeners closed at once.
    /// Returns how many were killed. Spawning into the group later starts it
    /// afresh (a restart).
    std::size_t kill_group(GroupId group);
    /// Whether the running process has been killed (and so unwinds at its
    /// next blocking call); false outside any process.
    bool current_process_killed() const;

    /// Runs until every non-daemon process has returned, nothing can run
    /// (deadlock), or the time budget is spent.
    SimResult run();

    /// Unwinds every process that has not returned (its blocking calls throw
    /// ProcessCancelled) and stops the trace. Call it before destroying what
    /// processes use (a store, a payload); the destructor calls it too.
    void stop_processes();

    // --- for code running inside a process ---

    /// Waits for duration of virtual time.
    void delay(Duration duration);
    /// Waits for duration of virtual time, like delay(), but never throws:
    /// for a simulated call that takes time inside code that must not throw
    /// (a destructor, a noexcept cleanup). Returns false, at once or as soon
    /// as it is woken, when the process is cancelled (killed, or the run torn
    /// down): it then unwinds at its next blocking call. False outside any
    /// process too, without waiting.
    bool take_time(Duration duration);
    /// Adds a note of the caller's own to the trace (an annotation), by the
    /// running process if any. While run() runs processes, protocol code
    /// reaches this through ferry::annotate() (protocol/annotation.h).
    void annotate(std::string_view text) override {
        record(TraceKind::note, 0, Side::client, trace_.intern(text));
    }
    /// The running process's id; 0 outside any process.
    ProcessId current_process_id() const { return current_id_; }
    std::string_view process_name(ProcessId id) const;
    /// How many processes were spawned (ids run from 1 to this).
    std::size_t process_count() const { return processes_.size(); }
    bool process_finished(ProcessId id) const;

    // --- for the simulated network and store ---

    /// Blocks the running process until a queue it was added to wakes it or
    /// wake_at passes, whichever is first; the caller re-checks its condition.
    /// Throws ProcessCancelled when the simulation is being torn down.
    void block(WaitQueue* queue, Deadline wake_at, const WaitInfo& info);
    /// Records an event at the current time by the running process.
    void record(TraceKind kind, std::uint64_t conn = 0, Side side = Side::client,
                std::uint64_t a = 0, std::uint64_t b = 0) {
        trace_.record(static_cast<std::uint64_t>(now_.since_epoch.count()), kind, current_id_, conn,
                      index_of(side), a, b);
    }
    /// Records an event by the network (no process).
    void record_network(TraceKind kind, std::uint64_t conn, Side side, std::uint64_t a = 0,
                        std::uint64_t b = 0);

    /// Events the network schedules; fired in (time, order scheduled) order.
    enum class EventKind : std::uint32_t { segment, fin, rst, syn, syn_ack };
    void schedule(Instant at, EventKind kind, SimLink* link, std::uint64_t arg);

  private:
    friend class WaitQueue;
    struct Event {
        Instant at;
        std::uint64_t sequence = 0;
        EventKind kind = EventKind::segment;
        SimLink* link = nullptr;
        std::uint64_t arg = 0;
    };
    struct EventLater {
        bool operator()(const Event& a, const Event& b) const {
            if (a.at != b.at)
                return a.at > b.at;
            return a.sequence > b.sequence;
        }
    };

    void wake(Process& process, std::uint64_t generation);
    /// block() for a process not cancelled: false when it was cancelled
    /// while it waited.
    bool wait_in(Process& process, WaitQueue* queue, Deadline wake_at, const WaitInfo& info);
    /// Throws ProcessCancelled in a cancelled process; a killed one first
    /// lets the killed processes spawned after it unwind.
    [[noreturn]] void unwind(Process& process);
    /// Which runnable process runs next: a killed one, newest first, or the
    /// decision source's choice.
    std::size_t next_runnable_index();
    void add_runnable(Process& process);
    void switch_to(Process& process);
    void yield_to_scheduler(Process& process);
    void on_process_finished(Process& process);
    void cancel_timer(Process& process);
    DeadlockReport describe_blocked() const;

    SimOptions options_;
    std::optional<PrngDecisions> own_decisions_;
    DecisionSource* decisions_;
    Trace trace_;
    Instant now_;
    std::unique_ptr<SimNetwork> network_;

    // Inline capacity for a small simulation (two or three processes, a few
    // dozen pending events): a run then allocates none of these.
    template <typename T, std::size_t N>
    using SmallVector = boost::container::small_vector<T, N>;

    SmallVector<std::unique_ptr<Process>, 4> processes_;  ///< index = id - 1
    std::vector<std::string> group_names_;                ///< index = group - 1
    IndexedQueue<Process*> runnable_;                     ///< in the order they became runnable
    SmallVector<ProcessId, 4> runnable_ids_;  ///< scratch for DecisionSource::choose_process
    Process* current_ = nullptr;
    ProcessId current_id_ = 0;  ///< current_'s id, 0 when none runs
    std::size_t unfinished_foreground_ = 0;
    std::size_t killed_unfinished_ = 0;  ///< killed, not yet unwound

    SmallVector<Event, 16> events_;    ///< a binary heap, earliest first
    std::uint64_t next_sequence_ = 0;  ///< orders events and timers of one instant
    /// Blocked processes with a deadline: at most one timer each, so they
    /// live here rather than as (mostly cancelled) events in the heap.
    TimerHeap timers_;

    const void* scheduler_stack_bottom_ = nullptr;
    std::size_t scheduler_stack_size_ = 0;
    bool tearing_down_ = false;
};

}  // namespace ferry::sim
