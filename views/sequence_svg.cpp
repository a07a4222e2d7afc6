#include "ferry/views/sequence_svg.h"

#include <algorithm>
#include <deque>
#include <map>
#include <optional>
#include <utility>
#include <vector>

#include <fmt/core.h>

#include "ferry/views/sequence_rows.h"
#include "ferry/views/svg_writer.h"

namespace ferry::views {

namespace {

using sim::TraceEvent;
using sim::TraceKind;

constexpr std::int64_t time_column = 130;
constexpr std::int64_t lane_width = 250;
constexpr std::int64_t header_top = 30;
constexpr std::int64_t header_height = 40;
constexpr std::int64_t rows_top = header_top + header_height + 14;
constexpr std::int64_t cycle_row = 30;
/// How far past the last row a call that never woke is shaded.
constexpr std::uint64_t never_woke_tail = 14;

std::string seconds_text(std::uint64_t ns) {
    return fmt::format("{}.{:06} s", ns / 1'000'000'000, (ns % 1'000'000'000) / 1000);
}

std::string_view side_name(std::uint64_t side) {
    return side == 0 ? "client" : "server";
}

using EndKey = std::pair<std::uint64_t, std::uint64_t>;  ///< (conn, side)

/// Which lane each process and each connection end is drawn in: one lane per
/// connection end a process holds (the last process to use an end holds it:
/// a server's handler, not the accept loop that handed it over), and one for
/// a process that holds none. A process's events on no end of its own (an
/// accept, a delay, a note) go in its first lane.
class Lanes {
  public:
    explicit Lanes(const sim::Recording& recording) {
        std::map<std::uint64_t, bool> seen;
        for (const TraceEvent& event : recording.events()) {
            if (event.process == 0)
                continue;
            seen[event.process] = true;
            if (event.conn != 0)
                owner_[{event.conn, event.side}] = event.process;
        }
        for (const auto& block : recording.blocks())
            seen[block.process] = true;
        std::map<std::uint64_t, std::vector<EndKey>> ends_of;
        for (const auto& [end, process] : owner_)
            ends_of[process].push_back(end);
        for (const auto& [process, unused] : seen) {
            first_lane_.emplace(process, lanes_.size());
            const std::string name(recording.process_name(process));
            auto ends = ends_of.find(process);
            if (ends == ends_of.end()) {
                lanes_.push_back({process, name, std::nullopt});
                continue;
            }
            for (const EndKey& end : ends->second) {
                lane_of_end_.emplace(end, lanes_.size());
                lanes_.push_back({process, name, end});
            }
        }
    }

    std::size_t count() const { return lanes_.size(); }
    const std::string& name(std::size_t lane) const { return lanes_[lane].name; }
    std::int64_t x(std::size_t lane) const {
        return time_column + lane_width / 2 + static_cast<std::int64_t>(lane) * lane_width;
    }
    /// The first lane of process.
    std::optional<std::size_t> of_process(std::uint64_t process) const {
        auto it = first_lane_.find(process);
        if (it == first_lane_.end())
            return std::nullopt;
        return it->second;
    }
    /// The lane of a process's event or call on end (conn, side) (conn 0:
    /// none): the end's own lane when process holds it, else its first.
    std::optional<std::size_t> of_use(std::uint64_t process, std::uint64_t conn,
                                      std::uint64_t side) const {
        if (conn != 0) {
            auto it = lane_of_end_.find({conn, side});
            if (it != lane_of_end_.end() && lanes_[it->second].process == process)
                return it->second;
        }
        return of_process(process);
    }
    /// The lane of the process named name; with conn, of its end of conn.
    std::optional<std::size_t> of_name(std::string_view name, std::uint64_t conn = 0) const {
        std::optional<std::size_t> first;
        for (std::size_t lane = 0; lane < lanes_.size(); ++lane) {
            if (lanes_[lane].name != name)
                continue;
            if (conn == 0 || (lanes_[lane].end && lanes_[lane].end->first == conn))
                return lane;
            if (!first)
                first = lane;
        }
        return first;
    }
    /// The lane of an end of a connection.
    std::optional<std::size_t> of_end(std::uint64_t conn, std::uint64_t side) const {
        auto it = lane_of_end_.find({conn, side});
        if (it == lane_of_end_.end())
            return std::nullopt;
        return it->second;
    }
    /// "conn 1 client": the end a lane stands for, or "" for none.
    std::string end_text(std::size_t lane) const {
        const std::optional<EndKey>& end = lanes_[lane].end;
        return end ? fmt::format("conn {} {}", end->first, side_name(end->second)) : "";
    }

  private:
    struct Lane {
        std::uint64_t process;
        std::string name;
        std::optional<EndKey> end;
    };
    std::vector<Lane> lanes_;
    std::map<std::uint64_t, std::size_t> first_lane_;
    std::map<EndKey, std::size_t> lane_of_end_;
    std::map<EndKey, std::uint64_t> owner_;
};

struct Label {
    std::string text;
    std::string_view css_class;
};

Label send_or_recv_label(const TraceEvent& event) {
    if (event.kind == TraceKind::send) {
        if (event.b < event.a)
            return {fmt::format("send {}/{} B partial", event.b, event.a), "partial"};
        return {fmt::format("send {} B", event.b), ""};
    }
    if (event.b == 0)
        return {fmt::format("recv 0/{} B: end of stream", event.a), ""};
    if (event.b < event.a)
        return {fmt::format("recv {}/{} B short", event.b, event.a), "partial"};
    return {fmt::format("recv {} B", event.b), ""};
}

Label label_of(const sim::Recording& recording, const TraceEvent& event) {
    const std::string_view name = to_string(event.kind);
    switch (event.kind) {
        case TraceKind::send:
        case TraceKind::recv:
            return send_or_recv_label(event);
        case TraceKind::segment:
        case TraceKind::deliver:
            return {"", ""};
        case TraceKind::fault:
        case TraceKind::store_fault:
        case TraceKind::fs_fault:
            return {fmt::format("fault: {} ({})", recording.text(event.a), event.b), "fault"};
        case TraceKind::store_crash:
        case TraceKind::fs_crash:
        case TraceKind::kill:
        case TraceKind::rst:
        case TraceKind::fail:
            return {fmt::format("{} {}", name, recording.text(event.a)), "fault"};
        case TraceKind::fin:
            return {fmt::format("FIN from {} arrives", side_name(event.side)), ""};
        case TraceKind::note:
            return {fmt::format("note: {}", recording.text(event.a)), "note"};
        case TraceKind::close:
            return {fmt::format("close (conn {}){}", event.conn, event.a != 0 ? ": abort" : ""),
                    ""};
        case TraceKind::delay:
            return {fmt::format("delay {} ms", event.a / 1'000'000), ""};
        default:
            break;
    }
    std::string text(name);
    if (sim::carries_text(event.kind, sim::TraceField::a))
        text += fmt::format(" {}", recording.text(event.a));
    else if (event.a != 0)
        text += fmt::format(" {}", event.a);
    if (event.conn != 0)
        text += fmt::format(" (conn {})", event.conn);
    return {text, ""};
}

class DiagramDrawer {
  public:
    explicit DiagramDrawer(const sim::Recording& recording)
        : recording_(recording), lanes_(recording), rows_(lay_out_rows(recording, metrics())) {}

    std::string draw() {
        const std::uint64_t height = rows_.bottom + stuck_section_height() + 20;
        const std::uint64_t width = static_cast<std::uint64_t>(
            time_column +
            lane_width * static_cast<std::int64_t>(std::max<std::size_t>(1, lanes_.count())) + 20);
        SvgWriter svg(width, height, "ferry run: sequence diagram");
        svg.text(10, 18, title(), "title");
        draw_lanes(svg, static_cast<std::int64_t>(rows_.bottom));
        draw_blocks(svg);
        draw_rows(svg);
        draw_segments(svg);
        draw_stuck(svg);
        return svg.finish();
    }

  private:
    static RowMetrics metrics() {
        RowMetrics m;
        m.top = rows_top;
        return m;
    }

    std::string title() const {
        return fmt::format("{} after {} of virtual time, {} events", to_string(recording_.status()),
                           seconds_text(recording_.end_ns()), recording_.events().size());
    }

    std::uint64_t stuck_section_height() const {
        if (recording_.report().blocked.empty())
            return 0;
        return static_cast<std::uint64_t>(cycle_row) * (recording_.report().blocked.size() + 3);
    }

    void draw_lanes(SvgWriter& svg, std::int64_t bottom) const {
        for (std::size_t lane = 0; lane < lanes_.count(); ++lane) {
            const std::int64_t x = lanes_.x(lane);
            svg.rect(x - lane_width / 2 + 8, header_top, lane_width - 16, header_height, "head");
            svg.text(x, header_top + 16, lanes_.name(lane), "title", true);
            svg.text(x, header_top + 32, lanes_.end_text(lane), "", true);
            svg.line(x, header_top + header_height, x, bottom, "lane");
        }
    }

    void draw_blocks(SvgWriter& svg) const {
        for (const sim::BlockedInterval& block : recording_.blocks()) {
            const auto lane = lanes_.of_use(block.process, block.conn, block.side);
            if (!lane)
                continue;
            const std::uint64_t top = rows_.event_y[block.start_event];
            const std::uint64_t bottom =
                block.end_ns ? rows_.event_y[block.end_event] : rows_.bottom + never_woke_tail;
            if (bottom <= top)
                continue;
            const std::string tip =
                fmt::format("{} blocked in {}{} from {} to {}", lanes_.name(*lane), block.call,
                            block.conn == 0 ? "" : fmt::format(" (conn {})", block.conn),
                            seconds_text(block.start_ns),
                            block.end_ns ? seconds_text(*block.end_ns) : std::string("the end"));
            svg.rect(lanes_.x(*lane) - 5, static_cast<std::int64_t>(top), 10,
                     static_cast<std::int64_t>(bottom - top), "blocked", tip);
        }
    }

    /// The lane an event is drawn in: its process's, or for the network's
    /// events the receiving (deliver, rst, fin) or sending end's.
    std::optional<std::size_t> lane_of(const TraceEvent& event) const {
        if (event.process != 0)
            return lanes_.of_use(event.process, event.conn, event.side);
        if (event.kind == TraceKind::spawn)
            return lanes_.of_name(recording_.text(event.a));
        if (event.conn == 0)
            return std::nullopt;
        const bool at_sender = event.kind == TraceKind::segment || event.kind == TraceKind::fault;
        const std::uint64_t side = event.kind == TraceKind::fin ? 1 - event.side : event.side;
        return lanes_.of_end(event.conn, at_sender ? event.side : side);
    }

    void draw_rows(SvgWriter& svg) const {
        std::optional<std::uint64_t> last_time;
        for (const SequenceRow& row : rows_.rows) {
            if (row.fold) {
                draw_fold(svg, row);
                last_time.reset();
                continue;
            }
            const TraceEvent& event = recording_.events()[row.event];
            const auto y = static_cast<std::int64_t>(row.y);
            if (last_time != event.time_ns)
                svg.text(8, y + 13, fmt::format("t={}", seconds_text(event.time_ns)), "time");
            last_time = event.time_ns;
            draw_mark(svg, event, y);
        }
    }

    void draw_mark(SvgWriter& svg, const TraceEvent& event, std::int64_t y) const {
        const Label label = label_of(recording_, event);
        if (label.text.empty())
            return;
        const auto lane = lane_of(event);
        if (!lane) {  // the whole network: across every lane
            svg.line(time_column, y + 9,
                     time_column + lane_width * static_cast<std::int64_t>(lanes_.count()), y + 9,
                     "dropped");
            svg.text(time_column + 8, y + 13, label.text, label.css_class);
            return;
        }
        const std::int64_t x = lanes_.x(*lane);
        svg.circle(x, y + 9, 3, label.css_class == "fault" ? "faultmark" : "mark");
        svg.text(x + 7, y + 13, label.text, label.css_class);
    }

    void draw_fold(SvgWriter& svg, const SequenceRow& row) const;
    void draw_segments(SvgWriter& svg) const;
    void draw_stuck(SvgWriter& svg) const;

    const sim::Recording& recording_;
    Lanes lanes_;
    SequenceRows rows_;
};

/// What a fold hides, counted per lane.
struct FoldCounts {
    std::uint64_t sends = 0, partial_sends = 0, bytes_sent = 0;
    std::uint64_t recvs = 0, short_reads = 0, bytes_read = 0;
    std::uint64_t writes = 0;
};

void DiagramDrawer::draw_fold(SvgWriter& svg, const SequenceRow& row) const {
    const auto& events = recording_.events();
    std::map<std::size_t, FoldCounts> counts;
    std::uint64_t segments = 0, segment_bytes = 0, steps = 0;
    for (std::size_t i = row.fold_begin; i < row.fold_end; ++i) {
        const TraceEvent& e = events[i];
        steps += drawn(e) ? 1 : 0;
        if (e.kind == TraceKind::segment) {
            ++segments;
            segment_bytes += e.a;
            continue;
        }
        const auto lane = lanes_.of_use(e.process, e.conn, e.side);
        if (!lane)
            continue;
        FoldCounts& c = counts[*lane];
        if (e.kind == TraceKind::send) {
            ++c.sends;
            c.partial_sends += e.b < e.a ? 1 : 0;
            c.bytes_sent += e.b;
        } else if (e.kind == TraceKind::recv) {
            ++c.recvs;
            c.short_reads += e.b < e.a ? 1 : 0;
            c.bytes_read += e.b;
        } else if (e.kind != TraceKind::deliver) {
            ++c.writes;
        }
    }
    const auto y = static_cast<std::int64_t>(row.y);
    const auto width = lane_width * static_cast<std::int64_t>(lanes_.count()) + time_column - 8;
    svg.rect(4, y + 2, width, static_cast<std::int64_t>(row.height) - 4, "fold");
    svg.text(8, y + 16, fmt::format("{} steps folded", steps), "title");
    svg.text(8, y + 30, fmt::format("t={}", seconds_text(events[row.fold_begin].time_ns)), "time");
    svg.text(8, y + 44, fmt::format("to {}", seconds_text(events[row.fold_end - 1].time_ns)),
             "time");
    for (const auto& [lane, c] : counts) {
        const std::int64_t x = lanes_.x(lane) - lane_width / 2 + 14;
        if (c.sends != 0) {
            svg.text(
                x, y + 16,
                fmt::format("{} sends ({} partial), {} B", c.sends, c.partial_sends, c.bytes_sent),
                c.partial_sends != 0 ? "partial" : "");
        }
        if (c.recvs != 0) {
            svg.text(x, y + 30,
                     fmt::format("{} recvs ({} short), {} B", c.recvs, c.short_reads, c.bytes_read),
                     c.short_reads != 0 ? "partial" : "");
        }
        if (c.writes != 0)
            svg.text(x, y + 44, fmt::format("{} other steps", c.writes), "");
    }
    if (segments != 0 && lanes_.count() != 0) {
        svg.text(lanes_.x(0) + lane_width / 2, y + 44,
                 fmt::format("{} segments, {} B on the wire", segments, segment_bytes), "", true);
    }
}

void DiagramDrawer::draw_segments(SvgWriter& svg) const {
    const auto& events = recording_.events();
    std::map<EndKey, std::deque<std::size_t>> in_flight;  ///< by receiving end
    std::vector<std::optional<std::size_t>> arrival(events.size());
    for (std::size_t i = 0; i < events.size(); ++i) {
        const TraceEvent& e = events[i];
        if (e.kind == TraceKind::segment) {
            in_flight[{e.conn, 1 - e.side}].push_back(i);
        } else if (e.kind == TraceKind::deliver) {
            auto& queue = in_flight[{e.conn, e.side}];
            if (!queue.empty()) {
                arrival[queue.front()] = i;
                queue.pop_front();
            }
        }
    }
    for (std::size_t i = 0; i < events.size(); ++i) {
        const TraceEvent& e = events[i];
        const std::size_t row = rows_.event_row[i];
        if (e.kind != TraceKind::segment || row >= rows_.rows.size() || rows_.rows[row].fold)
            continue;
        const auto from = lanes_.of_end(e.conn, e.side);
        const auto to = lanes_.of_end(e.conn, 1 - e.side);
        if (!from || !to)
            continue;
        const auto y1 = static_cast<std::int64_t>(rows_.event_y[i]) + 9;
        const std::int64_t y2 =
            arrival[i] ? static_cast<std::int64_t>(rows_.event_y[*arrival[i]]) + 9 : y1 + 18;
        const std::int64_t x1 = lanes_.x(*from);
        const std::int64_t x2 = lanes_.x(*to) + (x1 < lanes_.x(*to) ? -4 : 4);
        svg.line(x1, y1, x2, y2, arrival[i] ? "arrow" : "dropped");
        svg.text((x1 + x2) / 2, (y1 + y2) / 2 - 3,
                 fmt::format("{} B{}", e.a, arrival[i] ? "" : " dropped"), "", true);
    }
}

void DiagramDrawer::draw_stuck(SvgWriter& svg) const {
    const sim::DeadlockReport& report = recording_.report();
    if (report.blocked.empty())
        return;
    auto y = static_cast<std::int64_t>(rows_.bottom) + cycle_row;
    const bool deadlock = recording_.status() == sim::RunStatus::deadlock;
    svg.text(8, y, deadlock ? "deadlock: wait-for cycle" : "time budget spent: who waits on whom",
             "cycletext");
    for (const sim::BlockedProcess& blocked : report.blocked) {
        y += cycle_row;
        const auto from = lanes_.of_name(blocked.process, blocked.conn);
        if (!from)
            continue;
        const std::int64_t x1 = lanes_.x(*from);
        svg.rect(x1 - 8, y - 12, 16, 16, "stuck");
        const std::string call = blocked.conn == 0
                                     ? blocked.call
                                     : fmt::format("{}(conn {})", blocked.call, blocked.conn);
        const auto to = lanes_.of_name(blocked.waits_on, blocked.conn);
        if (!to || *to == *from) {
            svg.text(x1 + 12, y, fmt::format("{} waits", call), "cycletext");
            continue;
        }
        const std::int64_t x2 = lanes_.x(*to);
        svg.line(x1, y - 4, x2 + (x1 < x2 ? -8 : 8), y - 4, "cycle");
        svg.text((x1 + x2) / 2, y - 12, fmt::format("{} waits on {}", call, blocked.waits_on),
                 "cycletext", true);
    }
    svg.text(8, y + cycle_row, report.cycle, "cycletext");
}

}  // namespace

std::string sequence_svg_of(const sim::Recording& recording) {
    return DiagramDrawer(recording).draw();
}

}  // namespace ferry::views
