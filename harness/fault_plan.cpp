#include "ferry/harness/fault_plan.h"

#include <algorithm>

#include <fmt/core.h>

#include "ferry/harness/fault_values.h"
#include "ferry/harness/value_text.h"

namespace ferry::harness {

namespace {

using knob::Buffers;
using knob::Clog;
using knob::Crash;
using knob::Latency;
using knob::Reset;
using knob::Stall;
using knob::StoreIo;
using sim::DecisionSource;
using Bounds = FaultDrawBounds;

/// A knob declared with its value type; make_knob turns it into a FaultKnob.
template <typename T>
struct Declaration {
    std::string_view name;
    std::vector<std::string_view> aliases = {};
    std::string_view syntax = {};
    std::string_view bare_flag = {};
    std::string_view description = {};
    ErrorCauses causes = 0;
    bool on_real_sockets = false;
    T calm = {};
    T (*get)(const FaultPlan&) = nullptr;
    void (*set)(FaultPlan&, const T&) = nullptr;
    T (*draw)(DecisionSource&, const Bounds&) = nullptr;
    std::string (*words)(const T&) = nullptr;
    std::vector<T> (*simpler)(const T&) = nullptr;
    void (*clamp)(T&, std::uint64_t) = nullptr;
};

template <typename T>
FaultKnob make_knob(const Declaration<T>& d) {
    FaultKnob k;
    k.name = d.name;
    k.aliases = d.aliases;
    k.syntax = d.syntax;
    k.bare_flag = d.bare_flag;
    k.description = d.description;
    k.causes = d.causes;
    k.on_real_sockets = d.on_real_sockets;
    k.is_calm = [d](const FaultPlan& p) { return d.get(p) == d.calm; };
    k.calm = [d](FaultPlan& p) { d.set(p, d.calm); };
    k.text = [d](const FaultPlan& p) { return knob::to_text(d.get(p)); };
    k.parse = [d](FaultPlan& p, std::string_view text) -> std::optional<std::string> {
        T value = d.calm;
        if (!knob::from_text(text, value))
            return fmt::format("{}: \"{}\" is not {}", d.name, text, d.syntax);
        d.set(p, value);
        return std::nullopt;
    };
    k.words = [d](const FaultPlan& p) { return d.words(d.get(p)); };
    k.value = [d](const FaultPlan& p) { return knob::to_value(d.get(p)); };
    k.set_value = [d](FaultPlan& p, const KnobValue& v) -> std::optional<std::string> {
        T value = d.calm;
        if (auto error = knob::from_value(v, value))
            return error;
        d.set(p, value);
        return std::nullopt;
    };
    k.draw = [d](FaultPlan& p, DecisionSource& s, const Bounds& b) { d.set(p, d.draw(s, b)); };
    k.simpler = [d](const FaultPlan& p) {
        std::vector<FaultPlan> plans;
        if (d.simpler == nullptr)
            return plans;
        for (const T& value : d.simpler(d.get(p))) {
            plans.push_back(p);
            d.set(plans.back(), value);
        }
        return plans;
    };
    k.clamp = [d](FaultPlan& p, std::uint64_t bytes) {
        if (d.clamp == nullptr)
            return;
        T value = d.get(p);
        d.clamp(value, bytes);
        d.set(p, value);
    };
    return k;
}

// --- helpers for the declarations ---

sim::Ratio draw_eighths(DecisionSource& s, const Bounds&) {
    return sim::Ratio{s.between(1, 8), 8};
}
sim::Side draw_side(DecisionSource& s) {
    return s.choose(2) == 0 ? sim::Side::server : sim::Side::client;
}
std::uint64_t draw_offset(DecisionSource& s, const Bounds& b) {
    return s.between(0, b.bytes_in_play);
}
/// Smaller byte offsets: 0, half, one less.
std::vector<std::uint64_t> smaller_offsets(std::uint64_t after) {
    std::vector<std::uint64_t> out;
    for (std::uint64_t v : {std::uint64_t{0}, after / 2, after - 1}) {
        if (after > 0 && v < after && std::find(out.begin(), out.end(), v) == out.end())
            out.push_back(v);
    }
    return out;
}
std::uint64_t clamp_offset(std::uint64_t after, std::uint64_t bytes) {
    return bytes > 0 && after >= bytes ? bytes - 1 : after;
}
std::string ms_words(Duration d) {
    return fmt::format("{} ms", whole_ms(d));
}

StoreIo store_io_of(const sim::FsFaults& d) {
    StoreIo io;
    if (d.fail_call_at == 0)
        return io;
    io.call = d.fail_call_kind;
    io.at = d.fail_call_at;
    io.persist = d.failures_persist;
    io.error = d.fail_error;
    return io;
}
void set_store_io(sim::FsFaults& d, const StoreIo& io) {
    d.fail_call_at = io.at;
    d.fail_call_kind = io.call;
    d.failures_persist = io.at != 0 && io.persist;
    d.fail_error = io.error;
}

constexpr ErrorCauses cause(ErrorCause c) {
    return static_cast<ErrorCauses>(c);
}

}  // namespace

namespace {

// --- the knobs: one declaration each, in the order explore draws them ---

const Declaration<sim::Ratio> partial_sends_knob{
    .name = "partial_sends",
    .syntax = "N/D, always or never",
    .bare_flag = "always",
    .description = "how often a send() takes only a random non-empty prefix of what it could",
    .on_real_sockets = true,
    .calm = sim::never,
    .get = [](const FaultPlan& p) { return p.network.partial_sends; },
    .set = [](FaultPlan& p, const sim::Ratio& v) { p.network.partial_sends = v; },
    .draw = draw_eighths,
    .words =
        [](const sim::Ratio& v) {
            return fmt::format("a send may take only part of its bytes ({} of sends)",
                               ratio_text(v));
        }};

const Declaration<sim::Ratio> short_reads_knob{
    .name = "short_reads",
    .syntax = "N/D, always or never",
    .bare_flag = "always",
    .description = "how often a recv() returns a random non-empty prefix of what is buffered",
    .on_real_sockets = true,
    .calm = sim::never,
    .get = [](const FaultPlan& p) { return p.network.short_reads; },
    .set = [](FaultPlan& p, const sim::Ratio& v) { p.network.short_reads = v; },
    .draw = draw_eighths,
    .words =
        [](const sim::Ratio& v) {
            return fmt::format("a recv may return less than is buffered ({} of reads)",
                               ratio_text(v));
        }};

const Declaration<std::uint64_t> max_send_knob{
    .name = "max_send",
    .aliases = {"max_send_bytes"},
    .syntax = "BYTES",
    .description = "the most bytes one send() takes (0 = no cap)",
    .on_real_sockets = true,
    .calm = 0,
    .get = [](const FaultPlan& p) -> std::uint64_t { return p.network.max_send_bytes; },
    .set = [](FaultPlan& p, const std::uint64_t& v) { p.network.max_send_bytes = v; },
    .draw = [](DecisionSource& s, const Bounds& b) -> std::uint64_t {
        return s.between(1, 2 * std::max<std::uint64_t>(b.chunk_bytes, 1));
    },
    .words =
        [](const std::uint64_t& v) { return fmt::format("a send takes at most {} bytes", v); }};

const Declaration<Latency> latency_knob{
    .name = "latency",
    .aliases = {"latency_ms"},
    .syntax = "MIN..MAX (ms)",
    .description = "each segment's one-way latency, drawn per segment from [MIN, MAX] ms",
    .calm = Latency{},
    .get =
        [](const FaultPlan& p) {
            return Latency{p.network.latency_ms_min, p.network.latency_ms_max};
        },
    .set =
        [](FaultPlan& p, const Latency& v) {
            p.network.latency_ms_min = v.min_ms;
            p.network.latency_ms_max = v.max_ms;
        },
    .draw =
        [](DecisionSource& s, const Bounds&) {
            const std::uint64_t low = s.between(0, 5);
            return Latency{low, low + s.between(0, 50)};
        },
    .words =
        [](const Latency& v) {
            return fmt::format("latency {}..{} ms per segment", v.min_ms, v.max_ms);
        }};

const Declaration<Buffers> buffers_knob{
    .name = "buffers",
    .syntax = "SEND:WINDOW:SEGMENT (bytes)",
    .description = "the send buffer, receive window and largest segment of every connection",
    .calm = Buffers{256 * 1024, 256 * 1024, 64 * 1024},
    .get =
        [](const FaultPlan& p) {
            return Buffers{p.network.send_buffer_bytes, p.network.receive_window_bytes,
                           p.network.segment_bytes_max};
        },
    .set =
        [](FaultPlan& p, const Buffers& v) {
            p.network.send_buffer_bytes = v.send_buffer_bytes;
            p.network.receive_window_bytes = v.receive_window_bytes;
            p.network.segment_bytes_max = v.segment_bytes_max;
        },
    .draw =
        [](DecisionSource& s, const Bounds& b) {
            // From smaller than a header line to the default. A 16-byte window
            // or segment makes a 4 KiB run ten times longer, so the tiny sizes
            // are one pick in five or seven.
            static constexpr std::uint64_t buffer_sizes[] = {16,   64,        512,       1024,
                                                             4096, 64 * 1024, 256 * 1024};
            static constexpr std::uint64_t segment_sizes[] = {16, 100, 536, 1460, 64 * 1024};
            // No smaller than a 256th of the largest payload (16 bytes for
            // 4 KiB): a window moves its bytes once a round trip, and a
            // payload a thousand times the window takes longer than the
            // run's time budget with nothing wrong.
            const std::uint64_t least = std::min<std::uint64_t>(b.op_bytes_max / 256, 64 * 1024);
            Buffers v;
            v.send_buffer_bytes = std::max(least, buffer_sizes[s.choose(std::size(buffer_sizes))]);
            v.receive_window_bytes =
                std::max(least, buffer_sizes[s.choose(std::size(buffer_sizes))]);
            v.segment_bytes_max =
                std::max(least, segment_sizes[s.choose(std::size(segment_sizes))]);
            return v;
        },
    .words =
        [](const Buffers& v) {
            return fmt::format(
                "send buffer {} bytes, receive window {} bytes, segments of at most {} bytes",
                v.send_buffer_bytes, v.receive_window_bytes, v.segment_bytes_max);
        }};

const Declaration<Clog> clog_knob{
    .name = "clog",
    .syntax = "AT_MS+FOR_MS",
    .description =
        "from AT_MS for FOR_MS the network delivers nothing; what was sent "
        "meanwhile arrives, in order, once it clears",
    .causes = cause(ErrorCause::timeout),
    .calm = std::nullopt,
    .get = [](const FaultPlan& p) { return p.network.clog; },
    .set = [](FaultPlan& p, const Clog& v) { p.network.clog = v; },
    .draw = [](DecisionSource& s, const Bounds&) -> Clog {
        return sim::ClogFault{Instant{} + std::chrono::milliseconds(s.between(0, 200)),
                              std::chrono::milliseconds(s.between(1, 90'000))};
    },
    .words =
        [](const Clog& v) {
            return fmt::format("the network delivers nothing from {} for {}",
                               ms_words(v->at.since_epoch), ms_words(v->duration));
        },
    .simpler =
        [](const Clog& v) {
            std::vector<Clog> out;
            if (v->duration > std::chrono::milliseconds(1))
                out.push_back(sim::ClogFault{v->at, v->duration / 2});
            return out;
        }};

const Declaration<Stall> stall_knob{
    .name = "stall",
    .syntax = "server|client:AFTER_BYTES[+FOR_MS]",
    .description =
        "that side stops reading once it has received AFTER_BYTES on a "
        "connection, for FOR_MS or for ever",
    .causes = cause(ErrorCause::timeout),
    .on_real_sockets = true,
    .calm = std::nullopt,
    .get = [](const FaultPlan& p) { return p.network.stall; },
    .set = [](FaultPlan& p, const Stall& v) { p.network.stall = v; },
    .draw = [](DecisionSource& s, const Bounds& b) -> Stall {
        sim::StallFault stall;
        stall.side = draw_side(s);
        stall.after_bytes = draw_offset(s, b);
        if (s.choose(2) == 1)
            stall.duration = std::chrono::milliseconds(s.between(1, 90'000));
        return stall;
    },
    .words =
        [](const Stall& v) {
            return fmt::format("the {} stops reading after {} bytes, {}", sim::to_string(v->side),
                               v->after_bytes.value_or(0),
                               v->duration ? "for " + ms_words(*v->duration) : "for ever");
        },
    .simpler =
        [](const Stall& v) {
            std::vector<Stall> out;
            for (std::uint64_t after : smaller_offsets(v->after_bytes.value_or(0))) {
                out.push_back(v);
                out.back()->after_bytes = after;
            }
            return out;
        },
    .clamp =
        [](Stall& v, std::uint64_t bytes) {
            v->after_bytes = clamp_offset(v->after_bytes.value_or(0), bytes);
        }};

const Declaration<Reset> reset_knob{
    .name = "reset",
    .syntax = "server|client:AFTER_BYTES",
    .description =
        "that side resets each connection once it has sent and received "
        "AFTER_BYTES on it in all",
    .causes = cause(ErrorCause::reset),
    .on_real_sockets = true,
    .calm = std::nullopt,
    .get = [](const FaultPlan& p) { return p.network.reset; },
    .set = [](FaultPlan& p, const Reset& v) { p.network.reset = v; },
    .draw = [](DecisionSource& s, const Bounds& b) -> Reset {
        const sim::Side side = draw_side(s);
        return sim::ResetFault{side, draw_offset(s, b)};
    },
    .words =
        [](const Reset& v) {
            return fmt::format("the connection is reset once the {} has moved {} bytes",
                               sim::to_string(v->side), v->after_bytes);
        },
    .simpler =
        [](const Reset& v) {
            std::vector<Reset> out;
            for (std::uint64_t after : smaller_offsets(v->after_bytes))
                out.push_back(sim::ResetFault{v->side, after});
            return out;
        },
    .clamp = [](Reset& v,
                std::uint64_t bytes) { v->after_bytes = clamp_offset(v->after_bytes, bytes); }};

const Declaration<sim::Ratio> refused_knob{
    .name = "refused",
    .aliases = {"refused_connects"},
    .syntax = "N/D, always or never",
    .bare_flag = "always",
    .description = "how often a connect() is refused although the server listens",
    .causes = cause(ErrorCause::refused),
    .calm = sim::never,
    .get = [](const FaultPlan& p) { return p.network.refused_connects; },
    .set = [](FaultPlan& p, const sim::Ratio& v) { p.network.refused_connects = v; },
    .draw =
        [](DecisionSource& s, const Bounds&) {
            return sim::Ratio{s.between(1, 2), 2};
        },
    .words =
        [](const sim::Ratio& v) {
            return fmt::format("{} of connects are refused", ratio_text(v));
        }};

const Declaration<sim::Ratio> corrupt_knob{
    .name = "corrupt",
    .aliases = {"corrupt_segments"},
    .syntax = "N/D, always or never",
    .bare_flag = "always",
    .description =
        "how often a segment arrives with one byte flipped, as TCP's 16-bit "
        "checksum lets through at scale",
    .causes = cause(ErrorCause::corrupted),
    .calm = sim::never,
    .get = [](const FaultPlan& p) { return p.network.corrupt_segments; },
    .set = [](FaultPlan& p, const sim::Ratio& v) { p.network.corrupt_segments = v; },
    .draw =
        [](DecisionSource& s, const Bounds&) {
            return sim::Ratio{1, s.between(2, 16)};
        },
    .words =
        [](const sim::Ratio& v) {
            return fmt::format("{} of segments arrive with one byte flipped", ratio_text(v));
        }};

const Declaration<std::uint64_t> disk_full_knob{
    .name = "disk_full",
    .aliases = {"disk_bytes_max", "disk_bytes"},
    .syntax = "BYTES",
    .description =
        "the server's disk holds this many bytes of files and uploads in "
        "progress; writes past it fail (0 = unlimited)",
    .causes = cause(ErrorCause::disk_full),
    .on_real_sockets = true,
    .calm = 0,
    .get = [](const FaultPlan& p) -> std::uint64_t { return p.disk.capacity_bytes; },
    .set = [](FaultPlan& p, const std::uint64_t& v) { p.disk.capacity_bytes = v; },
    .draw = [](DecisionSource& s, const Bounds& b) -> std::uint64_t {
        return s.between(1, b.bytes_in_play + 1);
    },
    .words = [](const std::uint64_t& v) { return fmt::format("the disk holds {} bytes", v); },
    .clamp =
        [](std::uint64_t& v, std::uint64_t bytes) {
            if (bytes > 0 && v > bytes)
                v = bytes;
        }};

/// The filesystem calls a PUT, GET or DIR makes, for drawing one to fail.
constexpr FsCall store_calls[] = {
    FsCall::open,   FsCall::write,          FsCall::sync,         FsCall::close,
    FsCall::rename, FsCall::sync_directory, FsCall::read,         FsCall::list,
    FsCall::stat,   FsCall::get_attribute,  FsCall::set_attribute};

std::optional<FsCall> draw_call(DecisionSource& s) {
    const std::size_t n = std::size(store_calls);
    const std::size_t pick = s.choose(n + 1);
    return pick == n ? std::nullopt : std::optional<FsCall>(store_calls[pick]);
}

const Declaration<StoreIo> store_io_knob{
    .name = "store_io",
    .syntax = "CALL|any:N[:persist][:enospc]",
    .description =
        "the Nth call of that kind (open, write, sync, rename, sync_directory, ...) to the "
        "server's filesystem after it started fails with EIO or ENOSPC (persist: and every one "
        "after it)",
    .causes = ErrorCause::store_io | ErrorCause::disk_full,
    .calm = StoreIo{},
    .get = [](const FaultPlan& p) { return store_io_of(p.disk); },
    .set = [](FaultPlan& p, const StoreIo& v) { set_store_io(p.disk, v); },
    .draw =
        [](DecisionSource& s, const Bounds&) {
            StoreIo io;
            io.call = draw_call(s);
            io.at = s.between(1, io.call ? 4 : 24);
            io.persist = s.choose(2) == 1;
            io.error = s.choose(4) == 0 ? ENOSPC : EIO;
            return io;
        },
    .words =
        [](const StoreIo& v) {
            const std::string which = v.call ? fmt::format("{} call #{}", to_string(*v.call), v.at)
                                             : fmt::format("filesystem call #{}", v.at);
            return fmt::format("{}{} fails with {}", which,
                               v.persist ? " and every one after it" : "",
                               v.error == ENOSPC ? "ENOSPC" : "EIO");
        },
    .simpler =
        [](const StoreIo& v) {
            std::vector<StoreIo> out;
            if (v.persist)
                out.push_back(StoreIo{v.call, v.at, false, v.error});
            if (v.at > 1)
                out.push_back(StoreIo{v.call, 1, v.persist, v.error});
            return out;
        }};

const Declaration<sim::Ratio> disk_errors_knob{
    .name = "disk_errors",
    .syntax = "N/D, always or never",
    .bare_flag = "always",
    .description =
        "how often a call to the server's filesystem after it started fails, with EIO or ENOSPC",
    .causes = ErrorCause::store_io | ErrorCause::disk_full,
    .calm = sim::never,
    .get = [](const FaultPlan& p) { return p.disk.random_failures; },
    .set = [](FaultPlan& p, const sim::Ratio& v) { p.disk.random_failures = v; },
    .draw =
        [](DecisionSource& s, const Bounds&) {
            return sim::Ratio{1, s.between(4, 64)};
        },
    .words =
        [](const sim::Ratio& v) {
            return fmt::format("{} of filesystem calls fail", ratio_text(v));
        }};

const Declaration<sim::Ratio> short_file_reads_knob{
    .name = "short_file_reads",
    .syntax = "N/D, always or never",
    .bare_flag = "always",
    .description =
        "how often a read of a file on the server's disk returns fewer bytes than it could, as "
        "pread(2) may",
    .calm = sim::never,
    .get = [](const FaultPlan& p) { return p.disk.short_reads; },
    .set = [](FaultPlan& p, const sim::Ratio& v) { p.disk.short_reads = v; },
    .draw = draw_eighths,
    .words =
        [](const sim::Ratio& v) {
            return fmt::format("{} of file reads come back short", ratio_text(v));
        }};

const Declaration<Latency> slow_sync_knob{
    .name = "slow_sync",
    .syntax = "MIN..MAX (ms)",
    .description =
        "each fsync of a file or of the directory takes this long in virtual time, letting "
        "others run meanwhile",
    .calm = Latency{0, 0},
    .get =
        [](const FaultPlan& p) {
            return Latency{p.disk.sync_latency_ms_min, p.disk.sync_latency_ms_max};
        },
    .set =
        [](FaultPlan& p, const Latency& v) {
            p.disk.sync_latency_ms_min = v.min_ms;
            p.disk.sync_latency_ms_max = v.max_ms;
        },
    .draw =
        [](DecisionSource& s, const Bounds&) {
            const std::uint64_t min = s.between(0, 5);
            return Latency{min, min + s.between(0, 40)};
        },
    .words =
        [](const Latency& v) {
            return fmt::format("an fsync takes {}..{} ms", v.min_ms, v.max_ms);
        },
    .simpler =
        [](const Latency& v) {
            std::vector<Latency> out;
            if (v.min_ms != v.max_ms)
                out.push_back(Latency{v.max_ms, v.max_ms});
            return out;
        }};

const Declaration<Latency> slow_disk_knob{
    .name = "slow_disk",
    .syntax = "MIN..MAX (ms)",
    .description =
        "each call to the server's filesystem (open, read, write, attributes, rename, listing, "
        "...) takes this long in virtual time, drawn per call, before it takes effect: other "
        "clients' requests run between a request's store calls",
    .calm = Latency{0, 0},
    .get =
        [](const FaultPlan& p) {
            return Latency{p.disk.call_latency_ms_min, p.disk.call_latency_ms_max};
        },
    .set =
        [](FaultPlan& p, const Latency& v) {
            p.disk.call_latency_ms_min = v.min_ms;
            p.disk.call_latency_ms_max = v.max_ms;
        },
    .draw =
        [](DecisionSource& s, const Bounds& b) {
            // Up to a network latency's worth, so that one request's calls
            // land between another's. No more: a request makes up to a
            // call per byte of its payload (an upload of a byte a frame, a
            // read cut to a byte), and their waits add up; a disk that takes
            // longer than the clients' timeouts over them times them out, as
            // a real one would, with no bug to find. So the waits of the
            // largest payload's calls stay within 10 s, a third of them.
            const std::uint64_t max = s.between(1, 2);
            if (b.op_bytes_max == 0)
                return Latency{0, max};
            return Latency{0, std::min<std::uint64_t>(max, 10'000 / (b.op_bytes_max + 64))};
        },
    .words =
        [](const Latency& v) {
            return fmt::format("a filesystem call takes {}..{} ms", v.min_ms, v.max_ms);
        },
    .simpler =
        [](const Latency& v) {
            std::vector<Latency> out;
            if (v.min_ms > 0 || v.max_ms > 1)
                out.push_back(Latency{0, 1});
            return out;
        }};

std::string crash_words(const Crash& v) {
    const std::string when =
        v->after_bytes ? fmt::format("once it has received {} bytes", *v->after_bytes)
        : v->call_kind ? fmt::format("at its {} call #{}", to_string(*v->call_kind), v->at_call)
                       : fmt::format("at filesystem call #{}", v->at_call);
    return fmt::format("the server's machine {} {}{}", v->power_loss ? "loses power" : "is killed",
                       when, v->restart ? ", and boots again 1 ms later" : " and stays down");
}

const Declaration<Crash> crash_knob{
    .name = "crash",
    .syntax = "bytes:N|CALL:N|any:N[:kill][:stay_down]",
    .description =
        "the server's machine loses power (kill: is killed, its page cache kept) once it has "
        "received N bytes, or at its Nth filesystem call (of that kind), and boots again unless "
        "stay_down",
    .causes = ErrorCause::reset | ErrorCause::refused,
    .calm = std::nullopt,
    .get = [](const FaultPlan& p) { return p.crash; },
    .set = [](FaultPlan& p, const Crash& v) { p.crash = v; },
    .draw = [](DecisionSource& s, const Bounds& b) -> Crash {
        sim::CrashFault crash;
        if (s.choose(2) == 0) {
            crash.after_bytes = draw_offset(s, b);
        } else {
            crash.call_kind = draw_call(s);
            crash.at_call = s.between(1, crash.call_kind ? 3 : 24);
        }
        crash.power_loss = s.choose(4) != 0;
        crash.restart = s.choose(8) != 0;
        return crash;
    },
    .words = crash_words,
    .simpler =
        [](const Crash& v) {
            std::vector<Crash> out;
            if (v->after_bytes) {
                for (std::uint64_t after : smaller_offsets(*v->after_bytes)) {
                    out.push_back(v);
                    out.back()->after_bytes = after;
                }
            } else if (v->at_call > 1) {
                out.push_back(v);
                out.back()->at_call = 1;
            }
            return out;
        },
    .clamp =
        [](Crash& v, std::uint64_t bytes) {
            if (v->after_bytes)
                v->after_bytes = clamp_offset(*v->after_bytes, bytes);
        }};

}  // namespace

namespace {

std::vector<FaultKnob> build_table() {
    return {make_knob(partial_sends_knob), make_knob(short_reads_knob),
            make_knob(max_send_knob),      make_knob(latency_knob),
            make_knob(buffers_knob),       make_knob(clog_knob),
            make_knob(stall_knob),         make_knob(reset_knob),
            make_knob(refused_knob),       make_knob(corrupt_knob),
            make_knob(disk_full_knob),     make_knob(store_io_knob),
            make_knob(disk_errors_knob),   make_knob(short_file_reads_knob),
            make_knob(slow_sync_knob),     make_knob(slow_disk_knob),
            make_knob(crash_knob)};
}

}  // namespace

// --- everything else, derived from the table ---

const std::vector<FaultKnob>& fault_knobs() {
    static const std::vector<FaultKnob> table = build_table();
    return table;
}

const FaultKnob* find_fault_knob(std::string_view name) {
    for (const FaultKnob& k : fault_knobs()) {
        if (k.name == name ||
            std::find(k.aliases.begin(), k.aliases.end(), name) != k.aliases.end())
            return &k;
    }
    return nullptr;
}

namespace {

KnobSet bit(std::size_t index) {
    return KnobSet{1} << index;
}

}  // namespace

KnobSet all_knobs() {
    return bit(fault_knobs().size()) - 1;
}

KnobSet benign_knobs() {
    KnobSet set = 0;
    const auto& knobs = fault_knobs();
    for (std::size_t i = 0; i < knobs.size(); ++i) {
        if (!knobs[i].disruptive())
            set |= bit(i);
    }
    return set;
}

KnobSet active_knobs(const FaultPlan& plan) {
    KnobSet set = 0;
    const auto& knobs = fault_knobs();
    for (std::size_t i = 0; i < knobs.size(); ++i) {
        if (!knobs[i].is_calm(plan))
            set |= bit(i);
    }
    return set;
}

std::optional<KnobSet> parse_knob_list(std::string_view text, std::string* error) {
    if (text == "all")
        return all_knobs();
    if (text == "none" || text.empty())
        return KnobSet{0};
    if (text == "benign")
        return benign_knobs();
    KnobSet set = 0;
    const auto& knobs = fault_knobs();
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view name = text.substr(0, comma);
        text.remove_prefix(comma == std::string_view::npos ? text.size() : comma + 1);
        if (name == "cuts") {  // shorthand for both ways of cutting a call
            set |= *parse_knob_list("partial_sends,short_reads");
            continue;
        }
        const FaultKnob* k = find_fault_knob(name);
        if (k == nullptr) {
            if (error != nullptr) {
                std::string names;
                for (const FaultKnob& each : knobs)
                    names += fmt::format("{}{}", names.empty() ? "" : ",", each.name);
                *error =
                    fmt::format("\"{}\" is not all, none, benign, cuts or one of {}", name, names);
            }
            return std::nullopt;
        }
        set |= bit(static_cast<std::size_t>(k - knobs.data()));
    }
    return set;
}

std::string knob_list_text(KnobSet set) {
    if (set == all_knobs())
        return "all";
    if (set == 0)
        return "none";
    std::string text;
    const auto& knobs = fault_knobs();
    for (std::size_t i = 0; i < knobs.size(); ++i) {
        if ((set & bit(i)) != 0)
            text += fmt::format("{}{}", text.empty() ? "" : ",", knobs[i].name);
    }
    return text;
}

bool is_calm(const FaultPlan& plan) {
    return active_knobs(plan) == 0;
}

bool has_disruptive_faults(const FaultPlan& plan) {
    return error_causes(plan) != 0;
}

ErrorCauses error_causes(const FaultPlan& plan) {
    ErrorCauses causes = 0;
    for (const FaultKnob& k : fault_knobs()) {
        if (k.disruptive() && !k.is_calm(plan))
            causes |= k.causes;
    }
    return causes;
}

std::string fault_plan_text(const FaultPlan& plan) {
    std::string text;
    for (const FaultKnob& k : fault_knobs()) {
        if (!k.is_calm(plan))
            text += fmt::format("{}{}={}", text.empty() ? "" : " ", k.name, k.text(plan));
    }
    return text;
}

std::optional<std::string> set_fault_knob(FaultPlan& plan, std::string_view key,
                                          std::string_view value) {
    const FaultKnob* k = find_fault_knob(key);
    if (k == nullptr)
        return fmt::format("\"{}\" is not a fault knob", key);
    return k->parse(plan, value);
}

std::vector<std::string> fault_plan_words(const FaultPlan& plan) {
    std::vector<std::string> lines;
    for (const FaultKnob& k : fault_knobs()) {
        if (!k.is_calm(plan))
            lines.push_back(k.words(plan));
    }
    return lines;
}

FaultPlan draw_fault_plan(sim::DecisionSource& source, KnobSet enabled,
                          const FaultDrawBounds& bounds) {
    FaultPlan plan;
    const auto& knobs = fault_knobs();
    // Each knob is on one time in three: plans with one or two faults are
    // common, and those are the ones a bug report wants.
    for (std::size_t i = 0; i < knobs.size(); ++i) {
        if ((enabled & bit(i)) != 0 && source.choose(3) == 2)
            knobs[i].draw(plan, source, bounds);
    }
    return plan;
}

std::string fault_knobs_markdown() {
    const FaultPlan calm;
    std::string text =
        "| knob | value | calm | may cause | real sockets | meaning |\n"
        "|---|---|---|---|---|---|\n";
    for (const FaultKnob& k : fault_knobs()) {
        std::string causes;
        for (const auto& [c, word] :
             {std::pair{ErrorCause::reset, "resets"}, std::pair{ErrorCause::timeout, "timeouts"},
              std::pair{ErrorCause::refused, "refusals"},
              std::pair{ErrorCause::disk_full, "disk full"},
              std::pair{ErrorCause::store_io, "I/O errors"},
              std::pair{ErrorCause::corrupted, "detected corruption"}}) {
            if (excuses(k.causes, c))
                causes += fmt::format("{}{}", causes.empty() ? "" : ", ", word);
        }
        std::string names = fmt::format("`{}`", k.name);
        for (std::size_t i = 0; i < k.aliases.size(); ++i)
            names += fmt::format("{}`{}`", i == 0 ? " (also " : ", ", k.aliases[i]);
        if (!k.aliases.empty())
            names += ")";
        std::string syntax(k.syntax);  // a | would end the table's cell
        for (std::size_t at = syntax.find('|'); at != std::string::npos;
             at = syntax.find('|', at + 2))
            syntax.replace(at, 1, "\\|");
        text += fmt::format("| {} | `{}` | `{}` | {} | {} | {} |\n", names, syntax, k.text(calm),
                            causes.empty() ? "nothing (benign)" : causes,
                            k.on_real_sockets ? "yes" : "simulator only", k.description);
    }
    return text;
}

}  // namespace ferry::harness
