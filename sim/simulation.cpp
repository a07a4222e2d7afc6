#include "ferry/sim/simulation.h"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <stdexcept>
#include <utility>

#include <fmt/core.h>

#include "ferry/sim/fiber.h"
#include "ferry/sim/recording.h"
#include "ferry/sim/sim_link.h"
#include "ferry/sim/sim_network.h"

namespace ferry::sim {

class Process {
  public:
    enum class State { runnable, running, blocked, finished };

    Simulation* sim = nullptr;
    ProcessId id = 0;
    std::string name;
    std::function<void()> body;
    bool daemon = false;
    GroupId group = 0;
    State state = State::runnable;
    bool cancelled = false;
    bool killed = false;  ///< cancelled by kill_group (not by teardown)

    boost::context::fiber fiber;      ///< the process, while it is suspended
    boost::context::fiber scheduler;  ///< the scheduler, while the process runs
    boost::context::stack_context stack;
    void* fake_stack = nullptr;  ///< AddressSanitizer's, across switches

    std::uint64_t wait_generation = 0;
    WaitInfo wait;
    std::optional<std::string> failure;
};

namespace {

/// Boost.Context's StackAllocator over the pool that also tells us where the
/// stack is (for the sanitizer annotations).
struct RecordingStack {
    StackPool* pool;
    boost::context::stack_context* allocated;
    boost::context::stack_context allocate() {
        *allocated = pool->allocate();
        return *allocated;
    }
    void deallocate(boost::context::stack_context& stack) noexcept { pool->deallocate(stack); }
};

/// "kv_protocol.cpp:42": the file's name without its folders, which depend on
/// where the build ran; "" when the place is not known.
std::string call_site_text(const CallSite& where) {
    if (where.line() == 0)
        return "";
    std::string_view file = where.file_name();
    const std::size_t slash = file.find_last_of("/\\");
    if (slash != std::string_view::npos)
        file.remove_prefix(slash + 1);
    return fmt::format("{}:{}", file, where.line());
}

}  // namespace

// --- WaitQueue ---

void WaitQueue::add(Process& process) {
    waiters_.emplace_back(&process, process.wait_generation);
}

void WaitQueue::wake_all() {
    if (waiters_.empty())
        return;
    // Waking never touches this queue, so iterate in place.
    for (auto& [process, generation] : waiters_)
        process->sim->wake(*process, generation);
    waiters_.clear();
}

// --- Simulation ---

std::string_view to_string(RunStatus status) {
    switch (status) {
        case RunStatus::completed:
            return "completed";
        case RunStatus::deadlock:
            return "deadlock";
        case RunStatus::time_budget_exceeded:
            return "time budget exceeded";
    }
    return "?";
}

std::string SimResult::summary() const {
    std::string text(to_string(status));
    for (std::size_t i = 0; i < failures.size(); ++i) {
        text += i == 0 ? ", but " : "; ";
        text += failures[i].process + " threw: " + failures[i].message;
    }
    return text;
}

Simulation::Simulation(SimOptions options) : Simulation(std::move(options), nullptr) {}

Simulation::Simulation(SimOptions options, DecisionSource& decisions)
    : Simulation(std::move(options), &decisions) {}

Simulation::Simulation(SimOptions options, DecisionSource* decisions)
    : options_(std::move(options)),
      decisions_(decisions),
      network_(std::make_unique<SimNetwork>(*this, options_.faults)) {
    if (decisions_ == nullptr)
        decisions_ = &own_decisions_.emplace(options_.seed);
}

Simulation::~Simulation() {
    stop_processes();
}

ProcessId Simulation::spawn(std::string name, std::function<void()> body, bool daemon) {
    const GroupId group = current_ != nullptr ? current_->group : 0;
    const ProcessId id = spawn_in(group, std::move(name), std::move(body), daemon);
    if (current_ != nullptr && current_->killed) {
        // Born to a killed process: it never starts.
        processes_.back()->cancelled = true;
        processes_.back()->killed = true;
        ++killed_unfinished_;
    }
    return id;
}

ProcessId Simulation::spawn_in(GroupId group, std::string name, std::function<void()> body,
                               bool daemon) {
    // Default-initialised (every member has an initialiser); make_unique's
    // value-initialisation would zero it all first.
    auto owned = std::unique_ptr<Process>(new Process);
    Process* process = owned.get();
    process->sim = this;
    process->id = processes_.size() + 1;
    process->name = std::move(name);
    process->body = std::move(body);
    process->daemon = daemon;
    process->group = group;
    processes_.push_back(std::move(owned));
    if (!daemon)
        ++unfinished_foreground_;

    const std::uint64_t name_id = trace_.name_process(process->id, process->name);
    record(TraceKind::spawn, 0, Side::client, name_id, process->id);

    StackPool& pool =
        thread_stack_pool(options_.stack_bytes != 0 ? options_.stack_bytes : default_stack_bytes);
    process->fiber = boost::context::fiber(
        std::allocator_arg, RecordingStack{&pool, &process->stack},
        [this, process](boost::context::fiber&& scheduler) {
            sanitizer_finish_switch(nullptr, &scheduler_stack_bottom_, &scheduler_stack_size_);
            process->scheduler = std::move(scheduler);
            if (!process->cancelled) {
                try {
                    process->body();
                } catch (const ProcessCancelled&) {
                } catch (const std::exception& e) {
                    process->failure = e.what();
                } catch (...) {
                    process->failure = "an exception that is not a std::exception";
                }
            }
            process->body = nullptr;
            process->state = Process::State::finished;
            sanitizer_start_switch(nullptr, scheduler_stack_bottom_, scheduler_stack_size_);
            return std::move(process->scheduler);
        });
    runnable_.push_back(process);
    return process->id;
}

void Simulation::switch_to(Process& process) {
    current_ = &process;
    current_id_ = process.id;
    process.state = Process::State::running;
    record(TraceKind::run);
    void* scheduler_fake_stack = nullptr;
    sanitizer_start_switch(&scheduler_fake_stack,
                           static_cast<char*>(process.stack.sp) - process.stack.size,
                           process.stack.size);
    process.fiber = std::move(process.fiber).resume();
    sanitizer_finish_switch(scheduler_fake_stack, nullptr, nullptr);
    current_ = nullptr;
    current_id_ = 0;
    if (!process.fiber)
        on_process_finished(process);
}

void Simulation::yield_to_scheduler(Process& process) {
    sanitizer_start_switch(&process.fake_stack, scheduler_stack_bottom_, scheduler_stack_size_);
    process.scheduler = std::move(process.scheduler).resume();
    sanitizer_finish_switch(process.fake_stack, &scheduler_stack_bottom_, &scheduler_stack_size_);
}

void Simulation::on_process_finished(Process& process) {
    process.state = Process::State::finished;
    cancel_timer(process);
    if (process.killed)
        --killed_unfinished_;
    if (!process.daemon)
        --unfinished_foreground_;
    if (tearing_down_)
        return;
    const ProcessId saved = process.id;
    trace_.record({static_cast<std::uint64_t>(now_.since_epoch.count()),
                   process.failure ? TraceKind::fail : TraceKind::finish, saved, 0, 0,
                   process.failure ? trace_.intern(*process.failure) : 0, 0});
}

void Simulation::block(WaitQueue* queue, Deadline wake_at, const WaitInfo& info) {
    if (current_ == nullptr) {
        throw std::logic_error("a blocking simulated call was made outside any process");
    }
    Process& process = *current_;
    if (process.cancelled)
        unwind(process);
    if (!wait_in(process, queue, wake_at, info))
        throw ProcessCancelled{};
}

bool Simulation::wait_in(Process& process, WaitQueue* queue, Deadline wake_at,
                         const WaitInfo& info) {
    if (wake_at && *wake_at <= now_)
        return true;
    ++process.wait_generation;
    process.state = Process::State::blocked;
    process.wait = info;
    if (queue != nullptr)
        queue->add(process);
    if (wake_at)
        timers_.add(process.id, *wake_at, next_sequence_++);
    Recording* recording = trace_.recording();
    if (recording == nullptr) [[likely]] {
        yield_to_scheduler(process);
    } else {
        const std::size_t interval = recording->begin_block(
            process.id, info.call, info.link ? info.link->id : 0, index_of(info.side),
            static_cast<std::uint64_t>(now_.since_epoch.count()));
        yield_to_scheduler(process);
        if (!tearing_down_)
            recording->end_block(interval, static_cast<std::uint64_t>(now_.since_epoch.count()));
    }
    process.wait = WaitInfo{};
    return !process.cancelled;
}

void Simulation::unwind(Process& process) {
    if (process.killed && !tearing_down_) {
        // Processes it spawned may use what it owns: they unwind first (the
        // scheduler takes killed processes newest first), then it does.
        const bool newer_pending =
            std::any_of(processes_.begin() + static_cast<std::ptrdiff_t>(process.id),
                        processes_.end(), [](const std::unique_ptr<Process>& other) {
                            return other->killed && other->state != Process::State::finished;
                        });
        if (newer_pending) {
            process.state = Process::State::runnable;
            add_runnable(process);
            yield_to_scheduler(process);
        }
    }
    throw ProcessCancelled{};
}

std::size_t Simulation::next_runnable_index() {
    if (killed_unfinished_ != 0) {
        // A killed process dies before anything else happens, newest first.
        // (A scan, but only while a killed process is unwinding: rare.)
        std::optional<std::size_t> newest;
        ProcessId newest_id = 0;
        std::size_t index = 0;
        runnable_.for_each([&](const Process* p) {
            if (p->killed && (!newest || p->id > newest_id)) {
                newest = index;
                newest_id = p->id;
            }
            ++index;
        });
        if (newest)
            return *newest;
    }
    if (runnable_.size() < 2)
        return 0;
    if (!decisions_->reads_process_ids())
        return decisions_->choose(runnable_.size());
    runnable_ids_.clear();
    runnable_.for_each([&](const Process* p) { runnable_ids_.push_back(p->id); });
    return decisions_->choose_process(
        std::span<const ProcessId>(runnable_ids_.data(), runnable_ids_.size()));
}

// Out of line: inlined into run(), where GCC 12 knows runnable_ is empty,
// small_vector's growth path draws a false -Wstringop-overflow.
[[gnu::noinline]] void Simulation::add_runnable(Process& process) {
    runnable_.push_back(&process);
}

void Simulation::wake(Process& process, std::uint64_t generation) {
    if (process.state != Process::State::blocked || process.wait_generation != generation)
        return;
    process.state = Process::State::runnable;
    runnable_.push_back(&process);
    cancel_timer(process);
}

void Simulation::cancel_timer(Process& process) {
    timers_.remove(process.id);
}

void Simulation::delay(Duration duration) {
    const Instant until = now_ + duration;
    record(TraceKind::delay, 0, Side::client, static_cast<std::uint64_t>(duration.count()));
    while (now_ < until)
        block(nullptr, until, WaitInfo{"delay"});
}

bool Simulation::take_time(Duration duration) {
    if (current_ == nullptr || current_->cancelled)
        return false;
    const Instant until = now_ + duration;
    record(TraceKind::delay, 0, Side::client, static_cast<std::uint64_t>(duration.count()));
    while (now_ < until) {
        if (!wait_in(*current_, nullptr, until, WaitInfo{"delay"}))
            return false;
    }
    return true;
}

GroupId Simulation::new_group(std::string_view name) {
    group_names_.emplace_back(name);
    return group_names_.size();
}

std::string_view Simulation::group_name(GroupId group) const {
    if (group == 0 || group > group_names_.size())
        return "";
    return group_names_[group - 1];
}

GroupId Simulation::group_of(ProcessId process) const {
    if (process == 0 || process > processes_.size())
        return 0;
    return processes_[process - 1]->group;
}

bool Simulation::current_process_killed() const {
    return current_ != nullptr && current_->cancelled;
}

std::size_t Simulation::kill_group(GroupId group) {
    std::size_t killed = 0;
    for (const auto& process : processes_) {
        if (process->group != group || process->state == Process::State::finished ||
            process->cancelled) {
            continue;
        }
        process->cancelled = true;
        process->killed = true;
        ++killed_unfinished_;
        ++killed;
        if (process->state == Process::State::blocked) {
            // Woken to unwind: block() throws ProcessCancelled when it resumes.
            cancel_timer(*process);
            ++process->wait_generation;
            process->state = Process::State::runnable;
            add_runnable(*process);
        }
    }
    network_->kill_group(group);
    record(TraceKind::kill, 0, Side::client, trace_.intern(group_name(group)), killed);
    return killed;
}

std::string_view Simulation::process_name(ProcessId id) const {
    if (id == 0 || id > processes_.size())
        return "nobody";
    return processes_[id - 1]->name;
}

bool Simulation::process_finished(ProcessId id) const {
    return id != 0 && id <= processes_.size() &&
           processes_[id - 1]->state == Process::State::finished;
}

void Simulation::record_network(TraceKind kind, std::uint64_t conn, Side side, std::uint64_t a,
                                std::uint64_t b) {
    trace_.record(static_cast<std::uint64_t>(now_.since_epoch.count()), kind, 0, conn,
                  index_of(side), a, b);
}

void Simulation::schedule(Instant at, EventKind kind, SimLink* link, std::uint64_t arg) {
    events_.push_back(Event{at, next_sequence_++, kind, link, arg});
    std::push_heap(events_.begin(), events_.end(), EventLater{});
}

SimResult Simulation::run() {
    const ScopedAnnotationSink notes(*this);  // ferry::annotate() in processes
    SimResult result;
    const Instant budget_end = Instant{} + options_.time_budget;
    while (true) {
        // Done once every foreground process has returned and every killed
        // one has unwound (while what it uses is surely still alive).
        const bool foreground_done = unfinished_foreground_ == 0 && killed_unfinished_ == 0;
        if (foreground_done && (!options_.drain || (runnable_.empty() && events_.empty()))) {
            result.status = RunStatus::completed;
            break;
        }
        if (!runnable_.empty()) {
            const std::size_t index = next_runnable_index();
            Process* process = runnable_.take(index);
            switch_to(*process);
            continue;
        }
        // The next thing to happen: the earliest event or timer (by time, then
        // by the order they were made).
        // Draining, timers wait: only what is on the wire still arrives.
        const TimerHeap::Timer* timer = foreground_done ? nullptr : timers_.earliest();
        const bool have_event = !events_.empty();
        if (timer == nullptr && !have_event) {
            result.status = RunStatus::deadlock;
            result.report = describe_blocked();
            break;
        }
        const bool timer_first =
            timer != nullptr &&
            (!have_event || timer->at < events_.front().at ||
             (timer->at == events_.front().at && timer->sequence < events_.front().sequence));
        const Instant at = timer_first ? timer->at : events_.front().at;
        if (at > budget_end) {
            result.status = RunStatus::time_budget_exceeded;
            result.report = describe_blocked();
            break;
        }
        if (now_ < at)
            now_ = at;
        if (timer_first) {
            Process& process = *processes_[timer->process - 1];
            cancel_timer(process);  // timer points into the heap: not used after this
            process.state = Process::State::runnable;
            add_runnable(process);
        } else {
            std::pop_heap(events_.begin(), events_.end(), EventLater{});
            const Event event = events_.back();
            events_.pop_back();
            network_->handle(event.kind, *event.link, event.arg);
        }
    }
    result.end_time = now_;
    result.digest = trace_.digest();
    result.events = trace_.event_count();
    for (const auto& process : processes_) {
        if (process->failure)
            result.failures.push_back({process->name, *process->failure});
    }
    return result;
}

DeadlockReport Simulation::describe_blocked() const {
    DeadlockReport report;
    std::map<ProcessId, ProcessId> waits_on;  // blocked process -> the one it waits on
    std::map<ProcessId, std::string> what;    // "client recv(conn 1)"
    std::map<ProcessId, std::string> reason;  // who or what, when no process
    for (const auto& process : processes_) {
        if (process->state != Process::State::blocked)
            continue;
        BlockedProcess blocked;
        blocked.process = process->name;
        blocked.call = process->wait.call;
        blocked.requested_bytes = process->wait.bytes;
        blocked.call_site = call_site_text(process->wait.where);
        const ProcessId target = network_->describe(process->wait, blocked);
        std::string call = blocked.call;
        if (blocked.conn != 0) {
            call += fmt::format("(conn {})", blocked.conn);
        } else if (!blocked.peer_address.empty()) {
            call += fmt::format("({})", blocked.peer_address);
        }
        what[process->id] = fmt::format("{} {}", process->name, call);
        waits_on[process->id] = target;
        reason[process->id] = blocked.waits_on.empty() ? "nobody" : blocked.waits_on;
        report.blocked.push_back(std::move(blocked));
    }
    auto edge_text = [&](ProcessId id) {
        const ProcessId target = waits_on[id];
        if (target == 0)
            return what[id] + " waits on " + reason[id];
        std::string text = fmt::format("{} waits on {}", what[id], process_name(target));
        if (process_finished(target))
            text += " (finished)";
        return text;
    };
    // Follow the wait-for edges from each blocked process, first by id, and
    // report the first cycle found; without one, every edge.
    for (const auto& [start, unused] : waits_on) {
        std::vector<ProcessId> path;
        ProcessId at = start;
        while (at != 0 && waits_on.count(at) != 0 &&
               std::find(path.begin(), path.end(), at) == path.end()) {
            path.push_back(at);
            at = waits_on[at];
        }
        if (at == 0 || waits_on.count(at) == 0)
            continue;
        auto cycle_begin = std::find(path.begin(), path.end(), at);
        std::vector<ProcessId> cycle(cycle_begin, path.end());
        std::rotate(cycle.begin(), std::min_element(cycle.begin(), cycle.end()), cycle.end());
        for (ProcessId id : cycle) {
            if (!report.cycle.empty())
                report.cycle += "; ";
            report.cycle += edge_text(id);
        }
        break;
    }
    if (report.cycle.empty()) {
        for (const auto& [id, unused] : waits_on) {
            if (!report.cycle.empty())
                report.cycle += "; ";
            report.cycle += edge_text(id);
        }
    }
    return report;
}

std::string DeadlockReport::text() const {
    std::string text;
    for (const BlockedProcess& b : blocked) {
        text += fmt::format("  {} is blocked in {}", b.process, b.call);
        if (!b.call_site.empty())
            text += fmt::format(" at {}", b.call_site);
        if (b.conn != 0) {
            text += fmt::format(" on conn {} to {} ({})", b.conn, b.peer_address,
                                b.waits_on.empty() ? "nobody" : b.waits_on);
            const char* plural = b.requested_bytes == 1 ? "" : "s";
            if (b.call == "recv")
                text += fmt::format(", for up to {} byte{}", b.requested_bytes, plural);
            else if (b.call == "send")
                text += fmt::format(", with {} byte{} to send", b.requested_bytes, plural);
            text += fmt::format(
                ": {} bytes in its receive buffer, {} in flight to it, {} queued in the peer's "
                "send buffer, {} in its own send buffer",
                b.receive_buffer_bytes, b.in_flight_bytes, b.peer_send_buffer_bytes,
                b.send_buffer_bytes);
            if (b.end_of_stream_pending)
                text += ", end of stream on the way";
            if (b.reads_stalled)
                text += "; its reads are stalled by a fault";
        } else if (!b.peer_address.empty()) {
            text += fmt::format(" on {}", b.peer_address);
        }
        text += '\n';
    }
    text += fmt::format("  wait-for: {}\n", cycle);
    return text;
}

void Simulation::stop_processes() {
    const ScopedAnnotationSink notes(*this);  // recorded nowhere: the trace has stopped
    tearing_down_ = true;
    trace_.stop();
    for (const auto& process : processes_) {
        if (process->state == Process::State::finished)
            continue;
        process->cancelled = true;
        if (process->state == Process::State::blocked) {
            process->state = Process::State::runnable;
            runnable_.push_back(process.get());
        }
    }
    while (!runnable_.empty()) {
        Process* process = runnable_.take(0);
        if (process->state == Process::State::finished)
            continue;
        process->cancelled = true;
        switch_to(*process);
    }
    for (const auto& process : processes_) {
        // A fiber that survived cancellation would be unwound by Boost with
        // an exception of its own; that cannot go well.
        if (process->state != Process::State::finished)
            std::abort();
    }
}

}  // namespace ferry::sim
