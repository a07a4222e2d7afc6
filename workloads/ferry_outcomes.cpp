// The ferry workload's rule for errors: what each operation asks for on a
// calm network (docs/protocol.md's codes), and which errors the active
// faults excuse. Part of the model (ferry_model.h).

#include <algorithm>

#include <fmt/core.h>

#include "ferry/protocol/ferry_server.h"
#include "ferry/protocol/ferry_wire.h"
#include "ferry/workloads/ferry_steps.h"

namespace ferry::workloads {

using harness::ErrorCause;
using harness::ErrorCauses;
using harness::Failure;
using harness::FailureKind;
using harness::OpStatus;

namespace {

/// An outcome an operation may end in: a status, and for refused the code.
struct Outcome {
    OpStatus status = OpStatus::ok;
    int code = 0;
};

/// Timing of the network in the fault plan, in milliseconds.
struct Timing {
    std::uint64_t rtt_ms = 3;                 ///< a segment there and back, at worst
    std::uint64_t spread_ms = 0;              ///< how far two segments' latencies differ
    std::uint64_t segment_bytes = 64 * 1024;  ///< what moves per round trip, at least
};

Timing timing_of(const harness::FaultPlan& faults) {
    const sim::NetworkFaults& n = faults.network;
    Timing t;
    t.rtt_ms = 2 * n.latency_ms_max + 2;
    t.spread_ms = n.latency_ms_max - n.latency_ms_min;
    t.segment_bytes = std::max<std::uint64_t>(
        1, std::min({n.segment_bytes_max, n.receive_window_bytes, n.send_buffer_bytes}));
    return t;
}

/// A name no request line can carry as one field: the client refuses it.
bool unsendable(std::string_view name) {
    return name.empty() || name.find_first_of(" \r\n") != std::string_view::npos;
}

/// What a PUT gets before all of its body is read, ending the connection:
/// its line refused, or (streamed) a bad frame line, or more bytes than the
/// server takes. A streamed put FerryClient sends falls back to PUT on a
/// server from before PUTS, and gets what that PUT gets. A directory under
/// the name is refused when the upload begins: before a PUTS's first frame
/// line, after a PUT's declared size is weighed against the limit.
std::optional<Outcome> put_line_refusal(const FerryOp& op, const FerrySettings& s) {
    if (op.writes_own_stream() && s.old_server)
        return Outcome{OpStatus::refused, 400};  // unknown command, whatever the name
    if (!name_allowed_by_spec(op.name))
        return Outcome{OpStatus::refused, 403};
    const bool onto_directory = s.directory && op.name == *s.directory;
    const bool as_puts = op.streamed && !s.old_server;
    if (onto_directory && as_puts)
        return Outcome{OpStatus::refused, 403};
    if (op.streamed && op.frame_line)
        return Outcome{OpStatus::refused, 400};
    // Streamed, the limit is on the bytes that come; PUT declares them.
    const std::uint64_t size =
        op.streamed ? op.cut.value_or(op.content.size()) : op.declared_size();
    if (s.max_bytes != 0 && size > s.max_bytes)
        return Outcome{OpStatus::refused, 413};
    if (onto_directory)
        return Outcome{OpStatus::refused, 403};
    return std::nullopt;
}

/// Outcomes a PUT may have on a calm network, its timing aside.
std::vector<Outcome> put_outcomes(const FerryOp& op, const FerrySettings& s) {
    if (unsendable(op.name) && !op.dishonest())
        return {{OpStatus::protocol_error}};
    if (const auto refusal = put_line_refusal(op, s)) {
        if (op.cut)  // abandoned: the refusal may or may not reach it first
            return {*refusal, {OpStatus::ok}};
        return {*refusal};
    }
    if (op.cut)
        return {{OpStatus::ok}};
    if (op.streamed && (op.flip_digest || op.declared_size() != op.content.size()))
        return {{OpStatus::refused, 422}};  // the trailer disagrees with the bytes
    if (op.declared_size() > op.content.size())
        return {{OpStatus::cut}};  // the body ends early: nothing to answer
    if (op.flip_digest || op.declared_size() < op.content.size())
        return {{OpStatus::refused, 422}};
    return {{OpStatus::ok}};
}

/// Whether a trickled request line certainly, or possibly, outlasts the
/// server's header or idle timeout.
enum class Slowness { fast, either, slow };

Slowness trickle_slowness(const FerryOp& op, const FerrySettings& s, const Timing& t) {
    const std::uint64_t gap = *op.trickle_ms;
    const std::uint64_t line = op.request_line().size();
    const std::uint64_t total = (line - 1) * gap;
    const std::uint64_t slack = t.spread_ms + 1;
    if (total > s.header_timeout_ms + slack || gap > s.idle_timeout_ms + slack)
        return Slowness::slow;
    if (total + slack < s.header_timeout_ms && gap + slack < s.idle_timeout_ms)
        return Slowness::fast;
    return Slowness::either;
}

/// Buffers smaller than an ERR line (the simulator's buffers knob goes
/// down to 16 bytes; real sockets never do). A server that refuses a
/// request before it has read all of it — a PUT too large, with a bad name,
/// on a full or failing disk, lying about its size; a line too long —
/// answers at once, while the client may still be sending what it reads
/// nothing beside: both can then block in send, and the reply is cut or
/// the client times out.
constexpr std::uint64_t tiny_buffer_bytes = 256;

bool early_reply_may_block(const FerryOp& op, const Timing& t) {
    const bool sends_past_the_reply =
        op.verb == FerryOp::Verb::put ||
        (op.verb == FerryOp::Verb::raw && op.raw_line.size() >= header_line_bytes_max);
    return sends_past_the_reply && t.segment_bytes < tiny_buffer_bytes;
}

/// What the operation itself asks for, with buffers an ERR line fits in.
std::vector<Outcome> asked_on_calm_buffers(const FerryOp& op, const FerrySettings& s) {
    if (op.expect_error)
        return {{OpStatus::ok}};  // the step asked for its error, and ok is that it got it
    switch (op.verb) {
        case FerryOp::Verb::put:
            return put_outcomes(op, s);
        case FerryOp::Verb::get:
            if (unsendable(op.name) && !op.trickle_ms)
                return {{OpStatus::protocol_error}};
            if (!name_allowed_by_spec(op.name))
                return {{OpStatus::refused, 403}};
            if (s.directory && op.name == *s.directory)
                return {{OpStatus::refused, 404}};  // a directory is no file
            return {{OpStatus::ok}, {OpStatus::refused, 404}};
        case FerryOp::Verb::dir:
        case FerryOp::Verb::raw:
            return {{OpStatus::ok}};
    }
    return {};
}

/// What the operation itself asks for, its timing aside.
std::vector<Outcome> asked_outcomes(const FerryOp& op, const FerrySettings& s, const Timing& t) {
    std::vector<Outcome> outcomes = asked_on_calm_buffers(op, s);
    if (early_reply_may_block(op, t)) {
        outcomes.push_back({OpStatus::timed_out});
        outcomes.push_back({OpStatus::cut});
    }
    return outcomes;
}

/// Where a request stands against the server's graceful shutdown: the
/// server reads its line at some instant between the operation's start and
/// its end.
enum class Drained { no, maybe, yes };

Drained drained(const harness::OpRecord& r, std::optional<Instant> drain_at) {
    if (!drain_at || (r.completed && *r.completed < *drain_at))
        return Drained::no;
    return r.invoked < *drain_at ? Drained::maybe : Drained::yes;
}

/// What a request a draining server reads gets: ERR 503 (which a step that
/// expects it counts as done), unless the server refuses its line before
/// looking at it (one too long) or it never leaves the client. An abandoned
/// upload reads no reply at all, and under the tiniest buffers the 503 may
/// block as any early reply may.
std::vector<Outcome> drained_outcomes(const FerryOp& op, const FerrySettings& s, const Timing& t) {
    if (op.verb == FerryOp::Verb::raw && op.raw_line.size() >= header_line_bytes_max)
        return asked_outcomes(op, s, t);
    if (op.expect_error == 503)
        return {{OpStatus::ok}};
    std::vector<Outcome> outcomes = {{OpStatus::refused, 503}};
    const std::vector<Outcome> asked = asked_on_calm_buffers(op, s);
    if (std::any_of(asked.begin(), asked.end(),
                    [](const Outcome& o) { return o.status == OpStatus::protocol_error; }))
        outcomes.push_back({OpStatus::protocol_error});  // the client refused to send it
    if (op.cut)
        outcomes.push_back({OpStatus::ok});
    if (early_reply_may_block(op, t)) {
        outcomes.push_back({OpStatus::timed_out});
        outcomes.push_back({OpStatus::cut});
    }
    return outcomes;
}

std::vector<Outcome> calm_outcomes(const FerryStep& step, const FerrySettings& s, const Timing& t,
                                   std::optional<Instant> drain_at) {
    const FerryOp& op = *step.op;
    std::vector<Outcome> outcomes;
    switch (drained(*step.record, drain_at)) {
        case Drained::no:
            outcomes = asked_outcomes(op, s, t);
            break;
        case Drained::maybe:
            outcomes = asked_outcomes(op, s, t);
            outcomes.push_back({OpStatus::refused, 503});
            break;
        case Drained::yes:
            outcomes = drained_outcomes(op, s, t);
            break;
    }
    const std::vector<Outcome> late = {{OpStatus::refused, 408}, {OpStatus::cut}};
    // Idle before the request: past the idle timeout the server may have
    // closed the connection, with an ERR 408 or without.
    if (op.pause_ms && *op.pause_ms + t.rtt_ms + 1 >= s.idle_timeout_ms)
        outcomes.insert(outcomes.end(), late.begin(), late.end());
    if (op.trickle_ms) {
        Slowness slowness = trickle_slowness(op, s, t);
        // A 503 stuck behind tiny buffers holds up the accept loop: the
        // server may begin reading this line late, and its clock with it,
        // so a line too slow from its first byte may still be in time.
        if (slowness == Slowness::slow && s.max_connections != 0 &&
            t.segment_bytes < tiny_buffer_bytes)
            slowness = Slowness::either;
        if (slowness == Slowness::slow)
            outcomes.clear();
        if (slowness != Slowness::fast)
            outcomes.insert(outcomes.end(), late.begin(), late.end());
    }
    // A connection limit may refuse any connection: whether it did so
    // rightly, the server's own accept events say (check_ferry_limits).
    if (s.max_connections != 0) {
        outcomes.push_back({OpStatus::refused, 503});
        if (t.segment_bytes < tiny_buffer_bytes) {
            // The refusal can be stuck behind tiny buffers, as above.
            outcomes.push_back({OpStatus::timed_out});
            outcomes.push_back({OpStatus::cut});
        }
    }
    return outcomes;
}

}  // namespace

}  // namespace ferry::workloads

namespace ferry::workloads {

namespace {

/// The faults that can make an operation end in status (with code).
ErrorCauses causes_of(OpStatus status, int code);

/// The same for op: a checked request's reply cannot be corrupted into
/// another ERR undetected, so corruption explains only the refusals of a
/// request damaged in flight — 400 (its line), 408 (its '\n'), 422 (its
/// body) — unless the request or its reply went unchecked. A GET may also
/// be cut by the server's disk failing after its OK line.
ErrorCauses causes_of(const FerryOp& op, OpStatus status, int code) {
    ErrorCauses causes = causes_of(status, code);
    // A frame_line goes as it is, unchecked: damaged in flight, a bad one may
    // read as a good length, over the limit (found at run 124,987 of seed 7).
    const bool checked = op.verb != FerryOp::Verb::raw && !op.unchecked && !op.frame_line;
    if (checked && status == OpStatus::refused && code != 400 && code != 408 && code != 422)
        causes &= ~static_cast<ErrorCauses>(ErrorCause::corrupted);
    // A read failing after the OK line can only end the connection early.
    if (op.verb == FerryOp::Verb::get &&
        (status == OpStatus::cut || status == OpStatus::protocol_error))
        causes |= static_cast<ErrorCauses>(ErrorCause::store_io);
    return causes;
}

ErrorCauses causes_of(OpStatus status, int code) {
    const ErrorCauses cut_off = ErrorCause::reset | ErrorCause::timeout | ErrorCause::corrupted;
    switch (status) {
        case OpStatus::refused:
            switch (code) {
                case 507:
                    return ErrorCause::disk_full | ErrorCause::corrupted;
                case 500:
                    return ErrorCause::store_io | ErrorCause::corrupted;
                case 408:
                    return ErrorCause::timeout | ErrorCause::corrupted;
                default:  // a garbled request: a name, a size, a digest
                    return static_cast<ErrorCauses>(ErrorCause::corrupted);
            }
        case OpStatus::cut:
        case OpStatus::protocol_error:
            return cut_off;
        case OpStatus::timed_out:
            return ErrorCause::timeout | ErrorCause::corrupted;
        case OpStatus::connect_failed:
            return ErrorCause::refused | ErrorCause::timeout;
        case OpStatus::corrupted:
        case OpStatus::unexpected_ok:
            return static_cast<ErrorCauses>(ErrorCause::corrupted);
        case OpStatus::ok:
        case OpStatus::pending:
        case OpStatus::wrong:
            return 0;
    }
    return 0;
}

bool matches(const Outcome& allowed, const harness::OpRecord& r) {
    // A connection that ends without a reply reads as a cut or, to
    // FerryClient, a protocol error ("closed without replying").
    if (allowed.status == OpStatus::cut && r.status == OpStatus::protocol_error)
        return true;
    if (allowed.status != r.status)
        return false;
    return allowed.status != OpStatus::refused || allowed.code == r.code;
}

/// The outcomes op may have on a calm network, and what corruption makes of
/// them: an unchecked reply may read as any error, and an honest streamed
/// put may get what a PUT gets: its PUTS line damaged in flight gets
/// ERR 400, which FerryClient takes for a server from before PUTS, so it
/// falls back to PUT (whose limit is weighed before the directory check).
std::vector<Outcome> allowed_outcomes(const FerryStep& step, const FerrySettings& s,
                                      const Timing& t, ErrorCauses active,
                                      std::optional<Instant> drain_at) {
    std::vector<Outcome> allowed = calm_outcomes(step, s, t, drain_at);
    const FerryOp& op = *step.op;
    const bool corrupted = harness::excuses(active, ErrorCause::corrupted);
    // An unchecked reply damaged in flight may read as the error the step
    // expects (a draining server's 503 as a 403, found at run 606,181 of
    // seed 11): the step's 'ok'.
    if (corrupted && op.expect_error && (op.verb == FerryOp::Verb::raw || op.unchecked))
        allowed.push_back({OpStatus::ok});
    if (corrupted && op.verb == FerryOp::Verb::put && op.streamed && !op.writes_own_stream() &&
        !s.old_server) {
        FerrySettings old = s;
        old.old_server = true;
        const std::vector<Outcome> as_put = calm_outcomes(step, old, t, drain_at);
        allowed.insert(allowed.end(), as_put.begin(), as_put.end());
    }
    return allowed;
}

std::string outcome_words(const harness::OpRecord& r) {
    if (r.status == OpStatus::refused)
        return fmt::format("ERR {}", r.code);
    return std::string(to_string(r.status));
}

/// The failure an operation's outcome is, if it is neither asked for nor
/// excused.
std::optional<Failure> judge_outcome(const FerryStep& step, const FerrySettings& s, const Timing& t,
                                     ErrorCauses active, bool may_be_cut,
                                     std::optional<Instant> drain_at) {
    const harness::OpRecord& r = *step.record;
    if (step.result->after_error)
        return std::nullopt;  // its connection's earlier failure is judged instead
    if (may_be_cut && r.status == OpStatus::cut)
        return std::nullopt;
    const std::vector<Outcome> allowed = allowed_outcomes(step, s, t, active, drain_at);
    if (std::any_of(allowed.begin(), allowed.end(),
                    [&](const Outcome& o) { return matches(o, r); }))
        return std::nullopt;
    if ((causes_of(*step.op, r.status, r.code) & active) != 0)
        return std::nullopt;
    // A clog or a stall moves a request's bytes in time: a request whose
    // outcome turns on timing (trickled, or after a pause) may then get
    // anything its timing could.
    const bool timed = step.op->trickle_ms || step.op->pause_ms;
    if (timed && harness::excuses(active, ErrorCause::timeout))
        return std::nullopt;
    const FailureKind kind = r.status == OpStatus::unexpected_ok || r.status == OpStatus::ok
                                 ? FailureKind::missing_error
                                 : FailureKind::unexplained_error;
    std::string expected;
    for (const Outcome& o : allowed) {
        expected += fmt::format("{}{}", expected.empty() ? "" : " or ",
                                o.status == OpStatus::refused ? fmt::format("ERR {}", o.code)
                                                              : std::string(to_string(o.status)));
    }
    return Failure{kind, fmt::format("{} {}", r.op ? r.op->verb : "?", outcome_words(r)),
                   fmt::format("{}: {}{}{} (expected {}; no active fault explains it)",
                               harness::describe_op(r), outcome_words(r),
                               r.detail.empty() ? "" : ": ", r.detail, expected)};
}

/// The bytes of a client's requests and bodies, all of them.
std::uint64_t client_bytes(const std::vector<FerryOp>& ops) {
    std::uint64_t bytes = 0;
    for (const FerryOp& op : ops)
        bytes += op.wire_bytes();
    return bytes;
}

/// Which operations of a pipelining client may be cut off by a later one:
/// a PUT the server refuses before its body (a bad name, over max_bytes, a
/// full or failing disk), or any request a draining server reads, ends the
/// connection, and once
/// its linger (a second of discarding what the client still sends) is over
/// it closes with bytes unread — a reset, which discards the replies to
/// earlier requests still on their way, when the network is too slow to
/// have delivered them by then.
std::vector<std::vector<bool>> cut_by_a_later_refusal(const FerryRunState& state, const Timing& t,
                                                      ErrorCauses active) {
    const bool disk_may_refuse = harness::excuses(active, ErrorCause::disk_full) ||
                                 harness::excuses(active, ErrorCause::store_io);
    std::vector<std::vector<bool>> cut(state.ops.size());
    const auto linger_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(FerryServerConfig{}.linger_timeout)
            .count();
    for (std::size_t c = 0; c < state.ops.size(); ++c) {
        const std::vector<FerryOp>& ops = state.ops[c];
        cut[c].assign(ops.size(), false);
        if (!harness::flag_param(state.work.clients[c].options, "pipeline"))
            continue;
        const std::uint64_t deliver_ms = (client_bytes(ops) / t.segment_bytes + 2) * t.rtt_ms;
        if (deliver_ms < static_cast<std::uint64_t>(linger_ms))
            continue;
        // A draining server refuses whatever request it reads next.
        bool refused_later = false;
        for (std::size_t i = ops.size(); i-- > 0;) {
            cut[c][i] = refused_later;
            refused_later |= state.settings.drain_at_ms.has_value() ||
                             (ops[i].verb == FerryOp::Verb::put &&
                              (disk_may_refuse || put_line_refusal(ops[i], state.settings)));
        }
    }
    return cut;
}

}  // namespace

bool timeouts_are_tight(const FerryRunState& state, const harness::FaultPlan& faults) {
    const Timing t = timing_of(faults);
    const FerrySettings& s = state.settings;
    std::uint64_t most_bytes = 0;
    for (const auto& client : state.ops)
        most_bytes = std::max(most_bytes, client_bytes(client));
    const std::uint64_t line_ms = (1100 / t.segment_bytes + 1) * t.rtt_ms + t.spread_ms;
    const std::uint64_t quiet_ms = (most_bytes / t.segment_bytes + 2) * t.rtt_ms;
    if (s.header_timeout_ms <= line_ms || s.idle_timeout_ms <= quiet_ms)
        return true;
    for (const auto& client : state.work.clients) {
        if (harness::count_param(client.options, "timeout_ms", 30'000) <= quiet_ms)
            return true;
    }
    return false;
}

std::optional<Failure> check_ferry_outcomes(const FerryRunState& state,
                                            const std::vector<FerryStep>& steps,
                                            const harness::FaultPlan& faults) {
    const Timing t = timing_of(faults);
    ErrorCauses active = harness::error_causes(faults);
    if (timeouts_are_tight(state, faults))
        active = active | ErrorCause::timeout;
    const std::vector<std::vector<bool>> may_be_cut = cut_by_a_later_refusal(state, t, active);
    const std::optional<Instant> drain_at = state.drain_at();
    for (const FerryStep& step : steps) {
        const bool cut = may_be_cut[step.record->client][step.record->index];
        if (auto failure = judge_outcome(step, state.settings, t, active, cut, drain_at))
            return failure;
        const auto& junk = step.result->junk_reply;
        const auto junk_is = [&](int code) {
            return junk->first == OpStatus::refused && junk->second == code;
        };
        const bool junk_drained =
            junk && drained(*step.record, drain_at) != Drained::no && junk_is(503);
        if (junk && !junk_is(400) && !junk_drained &&
            (causes_of(junk->first, junk->second) & active) == 0) {
            return Failure{FailureKind::unexplained_error, "junk after a body",
                           fmt::format("{}: the line after the body got {} {} instead of ERR 400",
                                       harness::describe_op(*step.record), to_string(junk->first),
                                       junk->second)};
        }
    }
    return std::nullopt;
}

std::optional<Failure> check_ferry_limits(const FerryRunState& state) {
    const std::size_t limit = state.settings.max_connections;
    if (limit == 0 || state.world.backend() != "sim")
        return std::nullopt;
    std::size_t active = 0;
    std::size_t next_boot = 0;
    for (std::size_t i = 0; i < state.server_events.size(); ++i) {
        // A boot starts with no connection: the dead one's died with it.
        while (next_boot < state.boots.size() && state.boots[next_boot] <= i) {
            active = 0;
            ++next_boot;
        }
        const FerryServerEvent& e = state.server_events[i];
        switch (e.kind) {
            case AcceptEvent::Kind::accepted:
                if (++active > limit) {
                    return Failure{FailureKind::limit_broken, "served past the limit",
                                   fmt::format("connection {} was served while {} others were, "
                                               "over max_connections = {}",
                                               e.connection, active - 1, limit)};
                }
                break;
            case AcceptEvent::Kind::refused:
                if (active < limit) {
                    return Failure{FailureKind::limit_broken, "refused under the limit",
                                   fmt::format("connection {} was refused while only {} of "
                                               "max_connections = {} were served",
                                               e.connection, active, limit)};
                }
                break;
            case AcceptEvent::Kind::finished:
            case AcceptEvent::Kind::not_started:
                --active;
                break;
        }
    }
    return std::nullopt;
}

}  // namespace ferry::workloads
