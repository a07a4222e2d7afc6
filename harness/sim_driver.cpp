#include "harness/sim_driver.h"

#include <fmt/core.h>

#include "harness/value_text.h"
#include "sim/sim_connection.h"
#include "sim/sim_network.h"
#include "sim/sim_store.h"
#include "sim/simulation.h"

namespace ferry::harness {

namespace {

/// A simulated listener as the protocol's Listener.
class SimListenerAdapter final : public Listener {
  public:
    explicit SimListenerAdapter(std::unique_ptr<sim::SimListener> listener)
        : listener_(std::move(listener)) {}
    std::unique_ptr<Connection> accept(std::optional<Duration> timeout) override {
        return listener_->accept(timeout);
    }
    bool closed() const override { return listener_->closed(); }
    void close() { listener_->close(); }

  private:
    std::unique_ptr<sim::SimListener> listener_;
};

class SimWorld final : public World {
  public:
    SimWorld(sim::Simulation& sim, sim::SimStore& store, std::uint64_t seed)
        : sim_(sim), store_(store), seed_(seed) {}

    const Clock& clock() const override { return sim_; }
    std::unique_ptr<Listener> listen(const std::string& address) override {
        auto listener = std::make_unique<SimListenerAdapter>(sim_.network().listen(address));
        listeners_.push_back(listener.get());
        return listener;
    }
    ConnectResult try_connect(const std::string& address,
                              std::optional<Duration> timeout) override {
        auto result = sim_.network().connect_or_error(address, timeout);
        if (auto* error = std::get_if<ConnectionError>(&result))
            return std::move(*error);
        return std::unique_ptr<Connection>(
            std::move(std::get<std::unique_ptr<sim::SimConnection>>(result)));
    }
    void spawn(std::string name, std::function<void()> body) override {
        sim_.spawn(std::move(name), std::move(body), true);
    }
    void spawn_client(std::string name, std::function<void()> body) override {
        ++clients_running_;
        sim_.spawn(
            std::move(name),
            [this, body = std::move(body)] {
                body();
                // The last client done: the servers stop accepting, so their
                // accept loops return while the run drains.
                if (--clients_running_ == 0) {
                    for (SimListenerAdapter* listener : listeners_)
                        listener->close();
                }
            },
            false);
    }
    Store& store() override { return store_; }
    void preload_file(const std::string& name, std::string_view content) override {
        const auto bytes = as_bytes(content);
        store_.put_file(name, {bytes.begin(), bytes.end()});
    }
    void sleep(Duration duration) override { sim_.delay(duration); }
    void annotate(std::string_view text) override { sim_.annotate(text); }
    std::uint64_t seed() const override { return seed_; }
    std::string_view backend() const override { return "sim"; }

  private:
    sim::Simulation& sim_;
    sim::SimStore& store_;
    std::uint64_t seed_;
    std::vector<SimListenerAdapter*> listeners_;  ///< owned by the workload
    std::size_t clients_running_ = 0;
};

/// The failure a run's end is, if it did not finish.
std::optional<Failure> end_failure(const sim::SimResult& r, const RunSpec& spec) {
    if (r.status == sim::RunStatus::deadlock) {
        return Failure{FailureKind::deadlock, "",
                       "no process can run and nothing is in flight\n" + r.report.text()};
    }
    if (r.status == sim::RunStatus::time_budget_exceeded) {
        return Failure{FailureKind::time_budget, "",
                       fmt::format("still running after {} ms of virtual time\n{}",
                                   whole_ms(spec.time_budget), r.report.text())};
    }
    return std::nullopt;
}

RunResult::End end_of(sim::RunStatus status) {
    switch (status) {
        case sim::RunStatus::completed:
            return RunResult::End::finished;
        case sim::RunStatus::deadlock:
            return RunResult::End::deadlock;
        case sim::RunStatus::time_budget_exceeded:
            return RunResult::End::time_budget;
    }
    return RunResult::End::finished;
}

std::optional<Failure> process_failure(const sim::SimResult& r) {
    if (r.failures.empty())
        return std::nullopt;
    std::string detail;
    for (const sim::ProcessFailure& f : r.failures)
        detail += fmt::format("{}{} threw: {}", detail.empty() ? "" : "; ", f.process, f.message);
    return Failure{FailureKind::process_failed, "", detail};
}

}  // namespace

RunResult run_on_sim(const Workload& workload, const RunSpec& spec,
                     const SimDriverOptions& options) {
    std::optional<sim::RecordedDecisions> replay;
    sim::DecisionSource* decisions = options.decisions;
    if (decisions == nullptr && spec.choices)
        decisions = &replay.emplace(*spec.choices);
    sim::SimOptions sim_options;
    sim_options.seed = spec.seed;
    sim_options.faults = spec.faults.network;
    sim_options.time_budget = spec.time_budget;
    sim_options.drain = true;
    sim::Simulation sim(sim_options, decisions);
    std::vector<std::uint64_t> own_record;
    std::vector<std::uint64_t>* record = options.record ? options.record : &own_record;
    const std::size_t recorded_before = record->size();
    sim.decisions().record_into(record);
    sim.trace().write_json_lines_to(options.trace_json);
    sim.trace().set_digest_enabled(options.full_report);
    sim::SimStore store(sim, spec.faults.store);
    SimWorld world(sim, store, spec.seed);

    std::unique_ptr<WorkloadRun> run = workload.start(world, spec.work);
    const sim::SimResult r = sim.run();
    RunResult result;
    result.end = end_of(r.status);
    result.digest = r.digest;
    result.events = r.events;
    result.end_time = r.end_time;
    result.choices_used = record->size() - recorded_before;
    if (result.end != RunResult::End::finished) {
        result.deadlock = r.report;
        result.stuck_report = r.report.text();
    }
    // The trace's tail as the run left it, before the check reads the store.
    std::string recent;
    if (options.full_report)
        recent = sim.trace().recent_text(24);
    result.failure = end_failure(r, spec);
    if (!result.failure)
        result.failure = process_failure(r);
    std::optional<Failure> model = run->check(spec.faults, result.end == RunResult::End::finished);
    if (!result.failure)
        result.failure = std::move(model);
    if (result.failure)
        result.recent_events = std::move(recent);
    sim.decisions().record_into(nullptr);
    result.history = run->history().records();
    if (options.full_report)
        result.files = run->files();  // a copy of every file: not for a search
    // Unwind the processes still blocked (servers, a deadlock) while what
    // they use is still alive.
    sim.stop_processes();
    return result;
}

}  // namespace ferry::harness
