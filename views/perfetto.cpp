#include "ferry/views/perfetto.h"

#include <algorithm>
#include <array>
#include <iterator>
#include <map>
#include <sstream>
#include <vector>

#include <fmt/core.h>

namespace ferry::views {

namespace {

using sim::TraceEvent;
using sim::TraceKind;

/// Virtual ns as the format's µs, exactly: "1234.567".
std::string micros(std::uint64_t ns) {
    return fmt::format("{}.{:03}", ns / 1000, ns % 1000);
}

/// text as a JSON string; bytes past ASCII are escaped one by one (as
/// Latin-1), so text that is not UTF-8 still makes valid JSON.
std::string quoted(std::string_view text) {
    std::string out = "\"";
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += c;
        } else if (byte < 0x20 || byte >= 0x7f) {
            out += fmt::format("\\u{:04x}", byte);
        } else {
            out += c;
        }
    }
    return out + "\"";
}

/// A simulated process's track: process ids from 0 (the network) up, as
/// pids from 1 (some viewers treat pid 0 as no process).
std::uint64_t track(std::uint64_t process) {
    return process + 1;
}

std::string_view side_name(std::uint64_t side) {
    return side == 0 ? "client" : "server";
}

/// The args of an event on an end of a connection, or of none.
std::string conn_args(std::uint64_t conn, std::uint64_t side) {
    if (conn == 0)
        return "";
    return fmt::format(",\"conn\":{},\"side\":\"{}\"", conn, side_name(side));
}

class TraceEventWriter {
  public:
    TraceEventWriter(const sim::Recording& recording, std::ostream& out)
        : recording_(recording), stream_(out) {}

    void write() {
        out_ = "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
        tracks();
        for (const sim::BlockedInterval& block : recording_.blocks())
            slice(block);
        for (const TraceEvent& event : recording_.events())
            instant(event);
        in_flight_counters();
        run_end();
        out_ += "\n]}\n";
        flush();
    }

  private:
    /// Starts the next event's text.
    std::back_insert_iterator<std::string> next() {
        if (out_.size() >= flush_bytes)
            flush();
        if (!first_)
            out_ += ",\n";
        first_ = false;
        return std::back_inserter(out_);
    }

    void tracks() {
        for (std::uint64_t process = 0; process <= recording_.process_count(); ++process) {
            const std::string name = quoted(recording_.process_name(process));
            for (const char* what : {"process_name", "thread_name"}) {
                fmt::format_to(next(),
                               "{{\"ph\":\"M\",\"name\":\"{}\",\"pid\":{},\"tid\":{},"
                               "\"args\":{{\"name\":{}}}}}",
                               what, track(process), track(process), name);
            }
        }
    }

    void slice(const sim::BlockedInterval& block) {
        const std::uint64_t end =
            std::max(block.end_ns.value_or(recording_.end_ns()), block.start_ns);
        const std::string name =
            block.conn == 0 ? block.call : fmt::format("{} (conn {})", block.call, block.conn);
        fmt::format_to(next(),
                       "{{\"ph\":\"X\",\"cat\":\"blocked\",\"name\":{},\"pid\":{},\"tid\":{},"
                       "\"ts\":{},\"dur\":{},\"args\":{{\"call\":{}{}{}}}}}",
                       quoted(name), track(block.process), track(block.process),
                       micros(block.start_ns), micros(end - block.start_ns), quoted(block.call),
                       conn_args(block.conn, block.side), block.end_ns ? "" : ",\"woke\":false");
    }

    /// The name and category of an instant event for event, or "" to skip it.
    std::pair<std::string, std::string_view> instant_name(const TraceEvent& event) const {
        switch (event.kind) {
            case TraceKind::send:  // whole sends show in the in-flight counter
                if (event.b == event.a)
                    return {"", ""};
                return {fmt::format("partial send {}/{} B", event.b, event.a), "partial send"};
            case TraceKind::recv:  // and so do full reads
                if (event.b == event.a)
                    return {"", ""};
                return {fmt::format("recv {}/{} B", event.b, event.a),
                        event.b == 0 ? "end of stream" : "short read"};
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
        const auto [name, category] = instant_name(event);
        if (name.empty())
            return;
        fmt::format_to(next(),
                       "{{\"ph\":\"i\",\"s\":\"{}\",\"cat\":\"{}\",\"name\":{},\"pid\":{},"
                       "\"tid\":{},\"ts\":{},\"args\":{{\"event\":\"{}\"{}}}}}",
                       category == "fault" ? "g" : "t", category, quoted(name),
                       track(event.process), track(event.process), micros(event.time_ns),
                       to_string(event.kind), conn_args(event.conn, event.side));
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
            fmt::format_to(next(),
                           "{{\"ph\":\"C\",\"name\":\"in flight, conn {}\",\"pid\":{},\"ts\":{},"
                           "\"args\":{{\"client to server\":{},\"server to client\":{}}}}}",
                           change.conn, track(0), micros(change.time_ns), bytes[0], bytes[1]);
        }
    }

    void run_end() {
        if (recording_.status() == sim::RunStatus::completed)
            return;
        fmt::format_to(next(),
                       "{{\"ph\":\"i\",\"s\":\"g\",\"cat\":\"fault\",\"name\":{},\"pid\":{},"
                       "\"tid\":{},\"ts\":{},\"args\":{{\"cycle\":{}}}}}",
                       quoted(to_string(recording_.status())), track(0), track(0),
                       micros(recording_.end_ns()), quoted(recording_.report().cycle));
    }

    void flush() {
        stream_.write(out_.data(), static_cast<std::streamsize>(out_.size()));
        out_.clear();
    }

    static constexpr std::size_t flush_bytes = 1 << 20;
    const sim::Recording& recording_;
    std::ostream& stream_;
    std::string out_;  ///< what is not yet written to stream_
    bool first_ = true;
};

}  // namespace

void write_perfetto_json(const sim::Recording& recording, std::ostream& out) {
    TraceEventWriter(recording, out).write();
}

std::string perfetto_json_of(const sim::Recording& recording) {
    std::ostringstream out;
    write_perfetto_json(recording, out);
    return std::move(out).str();
}

}  // namespace ferry::views
