#include "views/perfetto.h"

#include <algorithm>
#include <array>
#include <map>
#include <vector>

#include <fmt/core.h>
#include <nlohmann/json.hpp>

namespace ferry::views {

namespace {

using Json = nlohmann::ordered_json;
using sim::TraceEvent;
using sim::TraceKind;

double micros(std::uint64_t ns) {
    return static_cast<double>(ns) / 1000.0;
}

/// A simulated process's track: process ids from 0 (the network) up, as
/// pids from 1 (some viewers treat pid 0 as no process).
std::uint64_t track(std::uint64_t process) {
    return process + 1;
}

std::string_view side_name(std::uint64_t side) {
    return side == 0 ? "client" : "server";
}

class TraceEventWriter {
  public:
    explicit TraceEventWriter(const sim::Recording& recording) : recording_(recording) {}

    std::string write() {
        out_ = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
        tracks();
        for (const sim::BlockedInterval& block : recording_.blocks())
            slice(block);
        for (const TraceEvent& event : recording_.events())
            instant(event);
        in_flight_counters();
        run_end();
        out_ += "\n]}\n";
        return std::move(out_);
    }

  private:
    void emit(const Json& event) {
        if (!first_)
            out_ += ",\n";
        first_ = false;
        out_ += event.dump();
    }

    void tracks() {
        for (std::uint64_t process = 0; process <= recording_.process_count(); ++process) {
            const std::string name(recording_.process_name(process));
            for (const char* what : {"process_name", "thread_name"}) {
                emit(Json{{"ph", "M"},
                          {"name", what},
                          {"pid", track(process)},
                          {"tid", track(process)},
                          {"args", {{"name", name}}}});
            }
        }
    }

    void slice(const sim::BlockedInterval& block) {
        const std::uint64_t end = block.end_ns.value_or(recording_.end_ns());
        Json args{{"call", block.call}};
        if (block.conn != 0) {
            args["conn"] = block.conn;
            args["side"] = side_name(block.side);
        }
        if (!block.end_ns)
            args["woke"] = false;
        const std::string name =
            block.conn == 0 ? block.call : fmt::format("{} (conn {})", block.call, block.conn);
        emit(Json{{"ph", "X"},
                  {"cat", "blocked"},
                  {"name", name},
                  {"pid", track(block.process)},
                  {"tid", track(block.process)},
                  {"ts", micros(block.start_ns)},
                  {"dur", micros(std::max(end, block.start_ns) - block.start_ns)},
                  {"args", args}});
    }

    /// The name and category of an instant event for event, or "" to skip it.
    std::pair<std::string, std::string_view> instant_name(const TraceEvent& event) const {
        switch (event.kind) {
            case TraceKind::send:
                return {fmt::format("send {}/{} B", event.b, event.a),
                        event.b < event.a ? "partial send" : "io"};
            case TraceKind::recv:
                return {fmt::format("recv {}/{} B", event.b, event.a),
                        event.b == 0        ? "end of stream"
                        : event.b < event.a ? "short read"
                                            : "io"};
            case TraceKind::fault:
            case TraceKind::store_fault:
            case TraceKind::fs_fault:
                return {fmt::format("fault: {}", recording_.text(event.a)), "fault"};
            case TraceKind::store_crash:
            case TraceKind::fs_crash:
            case TraceKind::kill:
                return {std::string(to_string(event.kind)), "fault"};
            case TraceKind::note:
                return {std::string(recording_.text(event.a)), "note"};
            case TraceKind::fail:
                return {fmt::format("failed: {}", recording_.text(event.a)), "failure"};
            case TraceKind::connect:
            case TraceKind::accept:
            case TraceKind::established:
            case TraceKind::refused:
            case TraceKind::shutdown_send:
            case TraceKind::fin:
            case TraceKind::close:
            case TraceKind::rst:
            case TraceKind::timed_out:
            case TraceKind::spawn:
            case TraceKind::finish:
                return {std::string(to_string(event.kind)), "connection"};
            default:
                return {"", ""};
        }
    }

    void instant(const TraceEvent& event) {
        auto [name, category] = instant_name(event);
        if (name.empty())
            return;
        Json args{{"event", to_string(event.kind)}};
        if (event.conn != 0) {
            args["conn"] = event.conn;
            args["side"] = side_name(event.side);
        }
        emit(Json{{"ph", "i"},
                  {"s", category == "fault" ? "g" : "t"},
                  {"cat", category},
                  {"name", name},
                  {"pid", track(event.process)},
                  {"tid", track(event.process)},
                  {"ts", micros(event.time_ns)},
                  {"args", args}});
    }

    struct FlightChange {
        std::uint64_t time_ns;
        std::size_t order;
        std::uint64_t conn;
        std::uint64_t side;
        std::int64_t delta;
    };

    void in_flight_counters() {
        std::vector<FlightChange> changes;
        for (const TraceEvent& event : recording_.events()) {
            if (event.kind != TraceKind::segment)
                continue;
            const auto bytes = static_cast<std::int64_t>(event.a);
            changes.push_back({event.time_ns, changes.size(), event.conn, event.side, bytes});
            changes.push_back({event.b, changes.size(), event.conn, event.side, -bytes});
        }
        std::sort(changes.begin(), changes.end(), [](const FlightChange& a, const FlightChange& b) {
            return a.time_ns != b.time_ns ? a.time_ns < b.time_ns : a.order < b.order;
        });
        std::map<std::uint64_t, std::array<std::int64_t, 2>> in_flight;
        for (const FlightChange& change : changes) {
            auto& bytes = in_flight[change.conn];
            bytes[change.side] += change.delta;
            emit(Json{{"ph", "C"},
                      {"name", fmt::format("in flight, conn {}", change.conn)},
                      {"pid", track(0)},
                      {"ts", micros(change.time_ns)},
                      {"args", {{"client to server", bytes[0]}, {"server to client", bytes[1]}}}});
        }
    }

    void run_end() {
        const sim::DeadlockReport& report = recording_.report();
        if (recording_.status() == sim::RunStatus::completed)
            return;
        emit(Json{{"ph", "i"},
                  {"s", "g"},
                  {"cat", "fault"},
                  {"name", std::string(to_string(recording_.status()))},
                  {"pid", track(0)},
                  {"tid", track(0)},
                  {"ts", micros(recording_.end_ns())},
                  {"args", {{"cycle", report.cycle}}}});
    }

    const sim::Recording& recording_;
    std::string out_;
    bool first_ = true;
};

}  // namespace

std::string perfetto_json_of(const sim::Recording& recording) {
    return TraceEventWriter(recording).write();
}

}  // namespace ferry::views
