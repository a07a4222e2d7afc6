#include "harness/explore.h"

#include <algorithm>
#include <ctime>
#include <map>
#include <set>
#include <tuple>

#include <fmt/core.h>

#include "harness/judge.h"
#include "harness/scenario.h"
#include "harness/sim_backend.h"
#include "protocol/ferry_wire.h"

namespace ferry::harness {

namespace {

struct KnobName {
    FaultKnob knob;
    const char* name;
};

constexpr KnobName knob_names[] = {
    {FaultKnob::partial_sends, "partial_sends"},
    {FaultKnob::short_reads, "short_reads"},
    {FaultKnob::max_send, "max_send"},
    {FaultKnob::latency, "latency"},
    {FaultKnob::buffers, "buffers"},
    {FaultKnob::clog, "clog"},
    {FaultKnob::stall, "stall"},
    {FaultKnob::reset, "reset"},
    {FaultKnob::refused, "refused"},
    {FaultKnob::disk_full, "disk_full"},
    {FaultKnob::store_io, "store_io"},
};

/// Virtual time a run may take: well past the ferry/1 timeouts below.
constexpr auto case_time_budget = std::chrono::minutes(10);

const sim::NetworkFaults calm_network{};
const sim::StoreFaults calm_store{};

std::string ratio_text(sim::Ratio ratio) {
    return fmt::format("{}/{}", ratio.numerator, ratio.denominator);
}

bool is_on(sim::Ratio ratio) {
    return ratio.numerator != 0 && ratio.denominator != 0;
}

std::string_view side_text(sim::Side side) {
    return sim::to_string(side);
}

/// The knobs of a case that are not at their calm setting.
FaultSet knobs_on(const ExploreCase& c) {
    FaultSet set = 0;
    const sim::NetworkFaults& f = c.faults;
    auto add = [&](FaultKnob knob) { set |= static_cast<FaultSet>(knob); };
    if (is_on(f.partial_sends))
        add(FaultKnob::partial_sends);
    if (is_on(f.short_reads))
        add(FaultKnob::short_reads);
    if (f.max_send_bytes != 0)
        add(FaultKnob::max_send);
    if (f.latency_ms_min != calm_network.latency_ms_min ||
        f.latency_ms_max != calm_network.latency_ms_max)
        add(FaultKnob::latency);
    if (f.send_buffer_bytes != calm_network.send_buffer_bytes ||
        f.receive_window_bytes != calm_network.receive_window_bytes ||
        f.segment_bytes_max != calm_network.segment_bytes_max)
        add(FaultKnob::buffers);
    if (f.clog)
        add(FaultKnob::clog);
    if (f.stall)
        add(FaultKnob::stall);
    if (f.reset)
        add(FaultKnob::reset);
    if (is_on(f.refused_connects))
        add(FaultKnob::refused);
    if (c.store_faults.capacity_bytes != 0)
        add(FaultKnob::disk_full);
    if (c.store_faults.fail_write_at != 0 || c.store_faults.fail_fsync_at != 0 ||
        c.store_faults.fail_rename_at != 0)
        add(FaultKnob::store_io);
    return set;
}

int popcount(FaultSet set) {
    int n = 0;
    for (; set != 0; set &= set - 1)
        ++n;
    return n;
}

/// Turns one knob back to its calm setting.
void calm_knob(ExploreCase& c, FaultKnob knob) {
    sim::NetworkFaults& f = c.faults;
    switch (knob) {
        case FaultKnob::partial_sends:
            f.partial_sends = sim::never;
            break;
        case FaultKnob::short_reads:
            f.short_reads = sim::never;
            break;
        case FaultKnob::max_send:
            f.max_send_bytes = 0;
            break;
        case FaultKnob::latency:
            f.latency_ms_min = calm_network.latency_ms_min;
            f.latency_ms_max = calm_network.latency_ms_max;
            break;
        case FaultKnob::buffers:
            f.send_buffer_bytes = calm_network.send_buffer_bytes;
            f.receive_window_bytes = calm_network.receive_window_bytes;
            f.segment_bytes_max = calm_network.segment_bytes_max;
            break;
        case FaultKnob::clog:
            f.clog.reset();
            break;
        case FaultKnob::stall:
            f.stall.reset();
            break;
        case FaultKnob::reset:
            f.reset.reset();
            break;
        case FaultKnob::refused:
            f.refused_connects = sim::never;
            break;
        case FaultKnob::disk_full:
            c.store_faults.capacity_bytes = 0;
            break;
        case FaultKnob::store_io:
            c.store_faults.fail_write_at = 0;
            c.store_faults.fail_fsync_at = 0;
            c.store_faults.fail_rename_at = 0;
            c.store_faults.failures_persist = false;
            break;
    }
}

std::uint64_t header_bytes(std::uint64_t size_bytes) {
    PutRequest request;
    request.name = sim::transfer_file_name;
    request.size_bytes = size_bytes;
    request.digest = std::string(32, '0');
    return format_request(request).size();
}

}  // namespace

std::optional<FaultSet> parse_fault_list(std::string_view text) {
    if (text == "all")
        return all_fault_knobs;
    if (text == "none" || text.empty())
        return FaultSet{0};
    if (text == "benign")
        return benign_fault_knobs;
    FaultSet set = 0;
    while (!text.empty()) {
        const auto comma = text.find(',');
        const std::string_view name = text.substr(0, comma);
        bool known = false;
        for (const KnobName& k : knob_names) {
            if (name == k.name) {
                set |= static_cast<FaultSet>(k.knob);
                known = true;
            }
        }
        if (name == "cuts") {  // shorthand for both ways of cutting a call
            set |= static_cast<FaultSet>(FaultKnob::partial_sends) |
                   static_cast<FaultSet>(FaultKnob::short_reads);
            known = true;
        }
        if (!known)
            return std::nullopt;
        if (comma == std::string_view::npos)
            break;
        text.remove_prefix(comma + 1);
    }
    return set;
}

std::string fault_list_text(FaultSet set) {
    if (set == all_fault_knobs)
        return "all";
    if (set == 0)
        return "none";
    std::string text;
    for (const KnobName& k : knob_names) {
        if (has(set, k.knob)) {
            if (!text.empty())
                text += ',';
            text += k.name;
        }
    }
    return text;
}

bool has_disruptive_faults(const ExploreCase& c) {
    return (knobs_on(c) & ~benign_fault_knobs) != 0;
}

std::vector<std::uint64_t> edge_sizes(sim::ProtocolKind protocol, std::size_t chunk_bytes,
                                      std::uint64_t size_max) {
    std::set<std::uint64_t> sizes;
    auto add = [&](std::uint64_t size) {
        if (size <= size_max)
            sizes.insert(size);
    };
    auto add_around = [&](std::uint64_t size) {
        if (size > 0)
            add(size - 1);
        add(size);
        add(size + 1);
    };
    add(0);
    add(1);
    add(2);
    const std::uint64_t chunk = std::max<std::size_t>(chunk_bytes, 1);
    for (std::uint64_t k = 1; k <= 64 && k * chunk <= size_max + 1; ++k)
        add_around(k * chunk);
    add(size_max);
    if (protocol == sim::ProtocolKind::ferry) {
        // The header line plus the first bytes of the body fill the server's
        // first recv exactly, or one byte either side; and a body as long as
        // the longest header line.
        for (std::uint64_t k = 1; k <= 4; ++k) {
            const std::uint64_t room = k * chunk;
            const std::uint64_t guess = room > header_bytes(room) ? room - header_bytes(room) : 0;
            for (std::uint64_t size = guess > 2 ? guess - 2 : 0; size <= guess + 2; ++size) {
                if (size + header_bytes(size) == room)
                    add_around(size);
            }
        }
        add_around(header_line_bytes_max);
    }
    return {sizes.begin(), sizes.end()};
}

std::uint64_t draw_size(sim::DecisionSource& source, const std::vector<std::uint64_t>& edges,
                        std::uint64_t size_max) {
    if (!edges.empty() && source.choose(4) != 0)
        return edges[source.choose(edges.size())];
    return source.between(0, size_max);
}

void draw_faults(sim::DecisionSource& source, FaultSet enabled, std::size_t chunk_bytes,
                 std::uint64_t size_bytes, sim::NetworkFaults& faults,
                 sim::StoreFaults& store_faults) {
    faults = sim::NetworkFaults{};
    store_faults = sim::StoreFaults{};
    // Each knob is on one time in three: plans with one or two faults are
    // common, and those are the ones a bug report wants.
    auto on = [&](FaultKnob knob) { return has(enabled, knob) && source.choose(3) == 2; };
    auto ratio = [&] { return sim::Ratio{source.between(1, 8), 8}; };
    const std::uint64_t chunk = std::max<std::size_t>(chunk_bytes, 1);
    // Bytes a side moves in a whole transfer, about: where faults can bite.
    const std::uint64_t span = size_bytes + 2 * header_line_bytes_max / 8;

    if (on(FaultKnob::partial_sends))
        faults.partial_sends = ratio();
    if (on(FaultKnob::short_reads))
        faults.short_reads = ratio();
    if (on(FaultKnob::max_send))
        faults.max_send_bytes = source.between(1, 2 * chunk);
    if (on(FaultKnob::latency)) {
        faults.latency_ms_min = source.between(0, 5);
        faults.latency_ms_max = faults.latency_ms_min + source.between(0, 50);
    }
    if (on(FaultKnob::buffers)) {
        // From smaller than a header line to the default. A 16-byte window
        // or segment cuts everything but makes a 4 KiB run ten times longer,
        // so the tiny sizes are one pick in five or seven; a 1-byte window
        // at 50 ms moves 10 bytes a second, which is a timeout, rightly, and
        // nothing to explore at speed.
        static constexpr std::size_t buffer_sizes[] = {16,   64,        512,       1024,
                                                       4096, 64 * 1024, 256 * 1024};
        static constexpr std::size_t segment_sizes[] = {16, 100, 536, 1460, 64 * 1024};
        faults.send_buffer_bytes = buffer_sizes[source.choose(std::size(buffer_sizes))];
        faults.receive_window_bytes = buffer_sizes[source.choose(std::size(buffer_sizes))];
        faults.segment_bytes_max = segment_sizes[source.choose(std::size(segment_sizes))];
    }
    if (on(FaultKnob::clog)) {
        faults.clog = sim::ClogFault{Instant{} + std::chrono::milliseconds(source.between(0, 200)),
                                     std::chrono::milliseconds(source.between(1, 90'000))};
    }
    if (on(FaultKnob::stall)) {
        sim::StallFault stall;
        stall.side = source.choose(2) == 0 ? sim::Side::server : sim::Side::client;
        stall.after_bytes = source.between(0, span);
        if (source.choose(2) == 1)
            stall.duration = std::chrono::milliseconds(source.between(1, 90'000));
        faults.stall = stall;
    }
    if (on(FaultKnob::reset)) {
        faults.reset = sim::ResetFault{
            source.choose(2) == 0 ? sim::Side::server : sim::Side::client, source.between(0, span)};
    }
    if (on(FaultKnob::refused))
        faults.refused_connects = sim::Ratio{source.between(1, 2), 2};
    if (on(FaultKnob::disk_full))
        store_faults.capacity_bytes = source.between(1, size_bytes + 1);
    if (on(FaultKnob::store_io)) {
        switch (source.choose(3)) {
            case 0:
                store_faults.fail_write_at = source.between(1, 4);
                break;
            case 1:
                store_faults.fail_fsync_at = 1;
                break;
            default:
                store_faults.fail_rename_at = 1;
                break;
        }
        store_faults.failures_persist = source.choose(2) == 1;
    }
}

std::string_view to_string(CaseVerdict verdict) {
    switch (verdict) {
        case CaseVerdict::ok:
            return "ok";
        case CaseVerdict::failed:
            return "failed";
        case CaseVerdict::deadlock:
            return "deadlock";
        case CaseVerdict::time_budget:
            return "time budget exceeded";
    }
    return "?";
}

CaseResult run_case(const ExploreCase& c, sim::DecisionSource* decisions,
                    std::vector<std::uint64_t>* record, bool full_report) {
    std::optional<sim::RecordedDecisions> replay;
    if (decisions == nullptr)
        decisions = &replay.emplace(c.choices);
    std::vector<std::uint64_t> own_record;
    if (record == nullptr)
        record = &own_record;
    const std::size_t recorded_before = record->size();

    // The payload's memory is reused from case to case (a search runs
    // hundreds of thousands); run_transfer keeps no reference to it. A
    // buffer grown past a few MiB by one big case is not kept.
    constexpr std::size_t kept_payload_bytes_max = 4 * 1024 * 1024;
    thread_local auto payload = std::make_shared<std::vector<std::byte>>();
    if (payload.use_count() != 1 || payload->capacity() > kept_payload_bytes_max)
        payload = std::make_shared<std::vector<std::byte>>();
    sim::fill_payload_for_seed(c.payload_seed, c.size_bytes, *payload);

    sim::TransferSpec spec;
    spec.protocol = c.protocol;
    spec.size_bytes = c.size_bytes;
    spec.chunk_bytes = c.chunk_bytes;
    spec.seed = c.payload_seed;
    spec.payload = payload;
    spec.faults = c.faults;
    spec.store_faults = c.store_faults;
    spec.time_budget = case_time_budget;
    spec.decisions = decisions;
    spec.record_decisions = record;
    spec.recent_events_count = full_report ? 24 : 0;
    spec.trace_digest = full_report;

    CaseResult result;
    result.report = sim::run_transfer(spec);
    result.choices_used = record->size() - recorded_before;
    const sim::TransferReport& r = result.report;
    result.detail = r.detail;
    switch (r.outcome) {
        case sim::Outcome::passed:
            result.verdict = CaseVerdict::ok;
            return result;
        case sim::Outcome::deadlock:
            result.verdict = CaseVerdict::deadlock;
            result.signature = "deadlock";
            return result;
        case sim::Outcome::time_budget_exceeded:
            result.verdict = CaseVerdict::time_budget;
            result.signature = "time budget exceeded";
            return result;
        case sim::Outcome::failed:
            break;
    }
    const bool errors = !r.client_error.empty() || !r.server_error.empty() ||
                        r.detail.find(" threw: ") != std::string::npos;
    result.verdict = CaseVerdict::failed;
    if (errors) {
        if (r.detail.find("kept a wrong file") != std::string::npos) {
            // The same bug as without the error, usually: name it by the file.
            result.signature = r.stored_bytes < c.size_bytes   ? "truncated file"
                               : r.stored_bytes > c.size_bytes ? "overlong file"
                                                               : "corrupted file";
        } else if (has_disruptive_faults(c)) {
            result.verdict = CaseVerdict::ok;  // a clear error, and no file or all of it
        } else {
            result.signature = "an error although no fault may cause one";
        }
    } else if (r.detail.starts_with("the server stored nothing")) {
        result.signature = "nothing stored";
    } else if (r.detail.find(" bytes that differ from byte ") != std::string::npos) {
        result.signature = "corrupted file";
    } else if (r.detail.starts_with("server stored ")) {
        result.signature = r.stored_bytes < c.size_bytes ? "truncated file" : "overlong file";
    } else if (r.detail.starts_with("client got reply")) {
        result.signature = "wrong reply";
    } else {
        result.signature = "failed";
    }
    return result;
}

namespace {

/// What shrinking minimises, most important first: fewer faults, a smaller
/// payload, fewer non-calm choices, a shorter list, smaller earlier choices.
auto shrink_key(const ExploreCase& c) {
    const auto nonzero = static_cast<std::size_t>(
        std::count_if(c.choices.begin(), c.choices.end(), [](std::uint64_t v) { return v != 0; }));
    return std::make_tuple(popcount(knobs_on(c)), c.size_bytes, nonzero, c.choices.size(),
                           c.choices);
}

bool c_capacity_scaled(ExploreCase& c, std::uint64_t size) {
    if (c.store_faults.capacity_bytes > size && size > 0) {
        c.store_faults.capacity_bytes = size;
        return true;
    }
    return false;
}

void trim_trailing_zeros(std::vector<std::uint64_t>& choices) {
    while (!choices.empty() && choices.back() == 0)
        choices.pop_back();
}

}  // namespace

ShrinkResult shrink_case(const ExploreCase& failing, const CaseResult& result,
                         std::uint64_t max_runs) {
    ShrinkResult out;
    out.minimal = failing;
    out.result = result;
    trim_trailing_zeros(out.minimal.choices);
    const std::string signature = result.signature;

    // Runs cand; keeps it (with the choices it really used) if it fails the
    // same way and is smaller. With reseed, a candidate that passes with its
    // own choices (which may mean something else once a fault or some bytes
    // are gone) gets a few fresh random schedules too.
    std::uint64_t reseeds = 0;
    auto attempt = [&](ExploreCase cand, bool reseed = false) {
        if (out.runs >= max_runs)
            return false;
        ++out.runs;
        std::vector<std::uint64_t> used;
        CaseResult r = run_case(cand, nullptr, &used, false);
        for (int tries = 0; reseed && tries < 16 && out.runs < max_runs &&
                            (r.verdict == CaseVerdict::ok || r.signature != signature);
             ++tries) {
            ++out.runs;
            sim::PrngDecisions fresh(case_seed(0x5348524b, ++reseeds));  // "SHRK"
            used.clear();
            r = run_case(cand, &fresh, &used, false);
        }
        if (r.verdict == CaseVerdict::ok || r.signature != signature)
            return false;
        trim_trailing_zeros(used);
        cand.choices = std::move(used);
        if (!(shrink_key(cand) < shrink_key(out.minimal)))
            return false;
        out.minimal = std::move(cand);
        out.result = std::move(r);
        return true;
    };

    bool progress = true;
    while (progress && out.runs < max_runs) {
        progress = false;

        // Fewer faults: each knob back to calm; then simpler settings.
        // The disruptive knobs go first, so what is left is the plainest
        // explanation.
        for (auto it = std::rbegin(knob_names); it != std::rend(knob_names); ++it) {
            const KnobName& k = *it;
            if (!has(knobs_on(out.minimal), k.knob))
                continue;
            ExploreCase cand = out.minimal;
            calm_knob(cand, k.knob);
            progress |= attempt(std::move(cand), true);
        }
        if (out.minimal.faults.reset && out.minimal.faults.reset->after_bytes > 0) {
            for (std::uint64_t after : {std::uint64_t{0}, out.minimal.faults.reset->after_bytes / 2,
                                        out.minimal.faults.reset->after_bytes - 1}) {
                ExploreCase cand = out.minimal;
                cand.faults.reset->after_bytes = after;
                if (attempt(std::move(cand))) {
                    progress = true;
                    break;
                }
            }
        }

        // A smaller payload: the smallest candidates first.
        {
            const std::uint64_t size = out.minimal.size_bytes;
            std::set<std::uint64_t> sizes{0, 1, 2, 3, 4, 8, size / 2, size - (size > 0 ? 1 : 0)};
            for (std::uint64_t edge :
                 edge_sizes(out.minimal.protocol, out.minimal.chunk_bytes, size))
                sizes.insert(edge);
            for (std::uint64_t s = size; s > 0 && s > size / 2;
                 s -= std::max<std::uint64_t>(1, size / 16))
                sizes.insert(s);
            for (std::uint64_t s : sizes) {
                if (s >= size)
                    break;
                ExploreCase cand = out.minimal;
                cand.size_bytes = s;
                if (attempt(cand)) {
                    progress = true;
                    break;
                }
                // A cap or an offset that a smaller payload never reaches
                // shrinks with it.
                sim::NetworkFaults& f = cand.faults;
                bool scaled = false;
                if (f.max_send_bytes >= s && s > 1) {
                    f.max_send_bytes = s - 1;
                    scaled = true;
                }
                if (f.reset && f.reset->after_bytes >= s && s > 0) {
                    f.reset->after_bytes = s - 1;
                    scaled = true;
                }
                if (f.stall && f.stall->after_bytes && *f.stall->after_bytes >= s && s > 0) {
                    f.stall->after_bytes = s - 1;
                    scaled = true;
                }
                if (c_capacity_scaled(cand, s))
                    scaled = true;
                if (scaled && attempt(cand)) {
                    progress = true;
                    break;
                }
                if (attempt(std::move(cand), true)) {
                    progress = true;
                    break;
                }
            }
        }

        // A shorter schedule: keep a prefix, then delete runs of choices.
        {
            const std::size_t length = out.minimal.choices.size();
            for (std::size_t keep = 0; keep < length; keep = keep == 0 ? 1 : keep * 2) {
                ExploreCase cand = out.minimal;
                cand.choices.resize(keep);
                if (attempt(std::move(cand))) {
                    progress = true;
                    break;
                }
            }
        }
        for (std::size_t run = std::max<std::size_t>(out.minimal.choices.size() / 2, 1); run >= 1;
             run /= 2) {
            for (std::size_t at = 0; at + run <= out.minimal.choices.size();) {
                ExploreCase cand = out.minimal;
                cand.choices.erase(cand.choices.begin() + static_cast<std::ptrdiff_t>(at),
                                   cand.choices.begin() + static_cast<std::ptrdiff_t>(at + run));
                if (attempt(std::move(cand))) {
                    progress = true;
                } else {
                    at += run;
                }
                if (out.runs >= max_runs)
                    break;
            }
            if (run == 1)
                break;
        }

        // Calmer choices: each to 0, else halved, else one less.
        for (std::size_t i = 0; i < out.minimal.choices.size(); ++i) {
            const std::uint64_t value = out.minimal.choices[i];
            if (value == 0)
                continue;
            for (std::uint64_t smaller : {std::uint64_t{0}, value / 2, value - 1}) {
                if (smaller >= value)
                    continue;
                ExploreCase cand = out.minimal;
                cand.choices[i] = smaller;
                if (attempt(std::move(cand))) {
                    progress = true;
                    break;
                }
            }
            if (out.runs >= max_runs)
                break;
        }
    }
    return out;
}

std::string describe_case(const ExploreCase& c, const CaseResult& result) {
    std::string text;
    text += fmt::format("  protocol: {}\n", sim::to_string(c.protocol));
    text += fmt::format("  payload: {} bytes (chunk {} bytes)\n", c.size_bytes, c.chunk_bytes);
    const sim::NetworkFaults& f = c.faults;
    const sim::StoreFaults& s = c.store_faults;
    std::vector<std::string> faults;
    if (is_on(f.partial_sends))
        faults.push_back(fmt::format("a send may take only part of its bytes ({} of sends)",
                                     ratio_text(f.partial_sends)));
    if (is_on(f.short_reads))
        faults.push_back(fmt::format("a recv may return less than is buffered ({} of reads)",
                                     ratio_text(f.short_reads)));
    if (f.max_send_bytes != 0)
        faults.push_back(fmt::format("a send takes at most {} bytes", f.max_send_bytes));
    if (has(knobs_on(c), FaultKnob::latency))
        faults.push_back(
            fmt::format("latency {}..{} ms per segment", f.latency_ms_min, f.latency_ms_max));
    if (has(knobs_on(c), FaultKnob::buffers))
        faults.push_back(
            fmt::format("send buffer {} bytes, receive window {} bytes, segments of "
                        "at most {} bytes",
                        f.send_buffer_bytes, f.receive_window_bytes, f.segment_bytes_max));
    if (f.clog)
        faults.push_back(fmt::format(
            "the link delivers nothing from {} ms for {} ms",
            std::chrono::duration_cast<std::chrono::milliseconds>(f.clog->at.since_epoch).count(),
            std::chrono::duration_cast<std::chrono::milliseconds>(f.clog->duration).count()));
    if (f.stall) {
        faults.push_back(fmt::format(
            "the {} stops reading after {} bytes, {}", side_text(f.stall->side),
            f.stall->after_bytes.value_or(0),
            f.stall->duration
                ? fmt::format("for {} ms", std::chrono::duration_cast<std::chrono::milliseconds>(
                                               *f.stall->duration)
                                               .count())
                : std::string("for ever")));
    }
    if (f.reset)
        faults.push_back(fmt::format("the connection is reset once the {} has moved {} bytes",
                                     side_text(f.reset->side), f.reset->after_bytes));
    if (is_on(f.refused_connects))
        faults.push_back(fmt::format("{} of connects are refused", ratio_text(f.refused_connects)));
    if (s.capacity_bytes != 0)
        faults.push_back(fmt::format("the disk holds {} bytes", s.capacity_bytes));
    const char* persist = s.failures_persist ? " and every one after it" : "";
    if (s.fail_write_at != 0)
        faults.push_back(fmt::format("store write #{}{} fails", s.fail_write_at, persist));
    if (s.fail_fsync_at != 0)
        faults.push_back(fmt::format("the fsync of commit #{}{} fails", s.fail_fsync_at, persist));
    if (s.fail_rename_at != 0)
        faults.push_back(
            fmt::format("the rename of commit #{}{} fails", s.fail_rename_at, persist));
    if (faults.empty()) {
        text += "  faults: none (a calm network)\n";
    } else {
        text += fmt::format("  faults ({}):\n", faults.size());
        for (const auto& line : faults)
            text += fmt::format("    - {}\n", line);
    }
    std::string choices;
    std::size_t nonzero = 0;
    for (std::size_t i = 0; i < c.choices.size(); ++i) {
        if (c.choices[i] == 0)
            continue;
        ++nonzero;
        if (nonzero <= 16) {
            choices += fmt::format("{}#{}={}", choices.empty() ? "" : ", ", i + 1, c.choices[i]);
        } else if (nonzero == 17) {
            choices += ", ...";
        }
    }
    if (nonzero == 0) {
        text +=
            "  schedule: every choice the calm default (first runnable process, whole "
            "sends and reads, least latency, no fault)\n";
    } else {
        text += fmt::format("  schedule: {} of {} choices differ from the calm default: {}\n",
                            nonzero, result.choices_used, choices);
    }
    text += fmt::format("  outcome: {} ({})\n", to_string(result.verdict), result.signature);
    std::string detail = result.detail;
    while (!detail.empty() && detail.back() == '\n')
        detail.pop_back();
    std::string indented;
    for (char ch : detail) {
        indented += ch;
        if (ch == '\n')
            indented += "    ";
    }
    text += fmt::format("    {}\n", indented);
    if (!result.report.recent_events.empty()) {
        text += "  last events:\n";
        std::string events = result.report.recent_events;
        std::size_t start = 0;
        while (start < events.size()) {
            const std::size_t end = events.find('\n', start);
            text += fmt::format("    {}\n", events.substr(start, end - start));
            if (end == std::string::npos)
                break;
            start = end + 1;
        }
    }
    return text;
}

std::string case_to_text(const ExploreCase& c) {
    const sim::NetworkFaults& f = c.faults;
    const sim::StoreFaults& s = c.store_faults;
    std::string text = fmt::format("{} size={} chunk={} payload={}", sim::to_string(c.protocol),
                                   c.size_bytes, c.chunk_bytes, c.payload_seed);
    if (is_on(f.partial_sends))
        text += fmt::format(" partial_sends={}", ratio_text(f.partial_sends));
    if (is_on(f.short_reads))
        text += fmt::format(" short_reads={}", ratio_text(f.short_reads));
    if (f.max_send_bytes != 0)
        text += fmt::format(" max_send={}", f.max_send_bytes);
    if (has(knobs_on(c), FaultKnob::latency))
        text += fmt::format(" latency_ms={}..{}", f.latency_ms_min, f.latency_ms_max);
    if (f.send_buffer_bytes != calm_network.send_buffer_bytes)
        text += fmt::format(" send_buffer={}", f.send_buffer_bytes);
    if (f.receive_window_bytes != calm_network.receive_window_bytes)
        text += fmt::format(" window={}", f.receive_window_bytes);
    if (f.segment_bytes_max != calm_network.segment_bytes_max)
        text += fmt::format(" segment={}", f.segment_bytes_max);
    if (f.clog) {
        text += fmt::format(
            " clog_ms={}+{}",
            std::chrono::duration_cast<std::chrono::milliseconds>(f.clog->at.since_epoch).count(),
            std::chrono::duration_cast<std::chrono::milliseconds>(f.clog->duration).count());
    }
    if (f.stall) {
        text +=
            fmt::format(" stall={}:{}", side_text(f.stall->side), f.stall->after_bytes.value_or(0));
        if (f.stall->duration) {
            text += fmt::format(
                "+{}",
                std::chrono::duration_cast<std::chrono::milliseconds>(*f.stall->duration).count());
        }
    }
    if (f.reset)
        text += fmt::format(" reset={}:{}", side_text(f.reset->side), f.reset->after_bytes);
    if (is_on(f.refused_connects))
        text += fmt::format(" refused={}", ratio_text(f.refused_connects));
    if (s.capacity_bytes != 0)
        text += fmt::format(" disk_bytes={}", s.capacity_bytes);
    if (s.fail_write_at != 0)
        text += fmt::format(" fail_write={}", s.fail_write_at);
    if (s.fail_fsync_at != 0)
        text += fmt::format(" fail_fsync={}", s.fail_fsync_at);
    if (s.fail_rename_at != 0)
        text += fmt::format(" fail_rename={}", s.fail_rename_at);
    if (s.failures_persist)
        text += " persist";
    if (!c.choices.empty()) {
        text += " choices=";
        for (std::size_t i = 0; i < c.choices.size(); ++i)
            text += fmt::format("{}{}", i == 0 ? "" : ",", c.choices[i]);
    }
    return text;
}

namespace {

bool parse_u64(std::string_view text, std::uint64_t& out) {
    if (text.empty() || text.size() > 19)
        return false;
    std::uint64_t value = 0;
    for (char ch : text) {
        if (ch < '0' || ch > '9')
            return false;
        value = value * 10 + static_cast<std::uint64_t>(ch - '0');
    }
    out = value;
    return true;
}

/// "A<sep>B".
bool parse_pair(std::string_view text, std::string_view sep, std::uint64_t& a, std::uint64_t& b) {
    const auto at = text.find(sep);
    if (at == std::string_view::npos)
        return false;
    return parse_u64(text.substr(0, at), a) && parse_u64(text.substr(at + sep.size()), b);
}

bool parse_ratio(std::string_view text, sim::Ratio& out) {
    std::uint64_t n = 0;
    std::uint64_t d = 0;
    if (!parse_pair(text, "/", n, d) || d == 0 || n > d)
        return false;
    out = sim::Ratio{n, d};
    return true;
}

bool parse_side_bytes(std::string_view text, sim::Side& side, std::uint64_t& bytes,
                      std::optional<std::uint64_t>* for_ms) {
    const auto colon = text.find(':');
    if (colon == std::string_view::npos)
        return false;
    const std::string_view who = text.substr(0, colon);
    if (who == "server") {
        side = sim::Side::server;
    } else if (who == "client") {
        side = sim::Side::client;
    } else {
        return false;
    }
    std::string_view rest = text.substr(colon + 1);
    const auto plus = rest.find('+');
    if (plus != std::string_view::npos) {
        if (for_ms == nullptr)
            return false;
        std::uint64_t ms = 0;
        if (!parse_u64(rest.substr(plus + 1), ms))
            return false;
        *for_ms = ms;
        rest = rest.substr(0, plus);
    }
    return parse_u64(rest, bytes);
}

}  // namespace

std::optional<ExploreCase> parse_case_text(std::string_view text, std::string* error) {
    ExploreCase c;
    auto fail = [&](std::string message) -> std::optional<ExploreCase> {
        if (error != nullptr)
            *error = std::move(message);
        return std::nullopt;
    };
    bool first = true;
    while (!text.empty()) {
        while (!text.empty() && text.front() == ' ')
            text.remove_prefix(1);
        if (text.empty())
            break;
        const auto space = text.find(' ');
        const std::string_view token = text.substr(0, space);
        text.remove_prefix(space == std::string_view::npos ? text.size() : space);
        if (first) {
            first = false;
            if (token == "naive") {
                c.protocol = sim::ProtocolKind::naive;
            } else if (token == "ferry") {
                c.protocol = sim::ProtocolKind::ferry;
            } else {
                return fail(fmt::format("a case starts with naive or ferry, not \"{}\"", token));
            }
            continue;
        }
        if (token == "persist") {
            c.store_faults.failures_persist = true;
            continue;
        }
        const auto eq = token.find('=');
        if (eq == std::string_view::npos)
            return fail(fmt::format("\"{}\" is not KEY=VALUE", token));
        const std::string_view key = token.substr(0, eq);
        const std::string_view value = token.substr(eq + 1);
        sim::NetworkFaults& f = c.faults;
        sim::StoreFaults& s = c.store_faults;
        std::uint64_t n = 0;
        std::uint64_t m = 0;
        bool ok = true;
        if (key == "size") {
            ok = parse_u64(value, c.size_bytes);
        } else if (key == "chunk") {
            ok = parse_u64(value, n) && n > 0;
            c.chunk_bytes = n;
        } else if (key == "payload") {
            ok = parse_u64(value, c.payload_seed);
        } else if (key == "partial_sends") {
            ok = parse_ratio(value, f.partial_sends);
        } else if (key == "short_reads") {
            ok = parse_ratio(value, f.short_reads);
        } else if (key == "max_send") {
            ok = parse_u64(value, n);
            f.max_send_bytes = n;
        } else if (key == "latency_ms") {
            ok = parse_pair(value, "..", f.latency_ms_min, f.latency_ms_max) &&
                 f.latency_ms_min <= f.latency_ms_max;
        } else if (key == "send_buffer") {
            ok = parse_u64(value, n) && n > 0;
            f.send_buffer_bytes = n;
        } else if (key == "window") {
            ok = parse_u64(value, n) && n > 0;
            f.receive_window_bytes = n;
        } else if (key == "segment") {
            ok = parse_u64(value, n) && n > 0;
            f.segment_bytes_max = n;
        } else if (key == "clog_ms") {
            ok = parse_pair(value, "+", n, m);
            f.clog = sim::ClogFault{Instant{} + std::chrono::milliseconds(n),
                                    std::chrono::milliseconds(m)};
        } else if (key == "stall") {
            sim::StallFault stall;
            std::optional<std::uint64_t> for_ms;
            ok = parse_side_bytes(value, stall.side, n, &for_ms);
            stall.after_bytes = n;
            if (for_ms)
                stall.duration = std::chrono::milliseconds(*for_ms);
            f.stall = stall;
        } else if (key == "reset") {
            sim::ResetFault reset;
            ok = parse_side_bytes(value, reset.side, reset.after_bytes, nullptr);
            f.reset = reset;
        } else if (key == "refused") {
            ok = parse_ratio(value, f.refused_connects);
        } else if (key == "disk_bytes") {
            ok = parse_u64(value, s.capacity_bytes);
        } else if (key == "fail_write") {
            ok = parse_u64(value, s.fail_write_at);
        } else if (key == "fail_fsync") {
            ok = parse_u64(value, s.fail_fsync_at);
        } else if (key == "fail_rename") {
            ok = parse_u64(value, s.fail_rename_at);
        } else if (key == "choices") {
            std::string_view rest = value;
            while (ok && !rest.empty()) {
                const auto comma = rest.find(',');
                ok = parse_u64(rest.substr(0, comma), n);
                c.choices.push_back(n);
                rest.remove_prefix(comma == std::string_view::npos ? rest.size() : comma + 1);
            }
        } else {
            return fail(fmt::format("unknown key \"{}\"", key));
        }
        if (!ok)
            return fail(fmt::format("bad value in \"{}\"", token));
    }
    if (first)
        return fail("an empty case");
    return c;
}

namespace {

std::string toml_string(std::string_view text) {
    std::string out = "\"";
    for (char ch : text) {
        if (ch == '"' || ch == '\\')
            out += '\\';
        out += ch;
    }
    return out + "\"";
}

}  // namespace

std::optional<std::string> scenario_for_case(const ExploreCase& c, const CaseResult& result,
                                             std::uint64_t seeds_to_try) {
    // Only what a scenario file can say: cuts, caps, latency, a stall, a reset
    // and a disk size.
    const FaultSet expressible =
        static_cast<FaultSet>(FaultKnob::partial_sends) |
        static_cast<FaultSet>(FaultKnob::short_reads) | static_cast<FaultSet>(FaultKnob::max_send) |
        static_cast<FaultSet>(FaultKnob::latency) | static_cast<FaultSet>(FaultKnob::stall) |
        static_cast<FaultSet>(FaultKnob::reset) | static_cast<FaultSet>(FaultKnob::disk_full);
    if ((knobs_on(c) & ~expressible) != 0)
        return std::nullopt;
    if (c.faults.stall && c.faults.stall->at && !c.faults.stall->after_bytes)
        return std::nullopt;

    const bool naive = c.protocol == sim::ProtocolKind::naive;
    const bool disruptive = has_disruptive_faults(c);
    const std::string put_name = naive ? "upload.bin" : sim::transfer_file_name;
    const std::string stored_name = naive ? "upload-1" : sim::transfer_file_name;

    auto body = [&](std::uint64_t seed) {
        std::string t;
        t += fmt::format("name = {}\n", toml_string(fmt::format("explore: {} ({} bytes)",
                                                                result.signature, c.size_bytes)));
        t += fmt::format("protocol = \"{}\"\n", naive ? "naive" : "ferry");
        t += "backends = [\"sim\"]\n";
        t += fmt::format("seeds = [{}, {}]\n", seed, seed);
        t += fmt::format("chunk_size = {}\n", c.chunk_bytes);
        t += "time_budget_ms = 600000\n";
        const sim::NetworkFaults& f = c.faults;
        std::string network;
        if (is_on(f.partial_sends))
            network += "partial_sends = true\n";
        if (is_on(f.short_reads))
            network += "short_reads = true\n";
        if (f.max_send_bytes != 0)
            network += fmt::format("max_send_bytes = {}\n", f.max_send_bytes);
        network += fmt::format("latency_ms = [{}, {}]\n", f.latency_ms_min, f.latency_ms_max);
        if (f.stall) {
            network += fmt::format("stall = {{ side = \"{}\", after_bytes = {}",
                                   side_text(f.stall->side), f.stall->after_bytes.value_or(0));
            if (f.stall->duration) {
                network += fmt::format(
                    ", for_ms = {}",
                    std::chrono::duration_cast<std::chrono::milliseconds>(*f.stall->duration)
                        .count());
            }
            network += " }\n";
        }
        if (f.reset) {
            network += fmt::format("reset = {{ side = \"{}\", after_bytes = {} }}\n",
                                   side_text(f.reset->side), f.reset->after_bytes);
        }
        t += "\n[network]\n" + network;
        t += "\n[server]\ntimeout_ms = 30000\n";
        if (c.store_faults.capacity_bytes != 0)
            t += fmt::format("disk_bytes_max = {}\n", c.store_faults.capacity_bytes);
        t += fmt::format("\n[[client]]\ntimeout_ms = 60000\nsteps = [{{ put = {}, size = {} }}]\n",
                         toml_string(put_name), c.size_bytes);
        t += "\n[expect]\n";
        if (disruptive) {
            // An error is allowed; a stuck run or a torn file is not.
            t += "outcome = \"error\"\n";
        } else {
            t += "outcome = \"pass\"\n";
            t += fmt::format("files = {{ {} = {{ size = {} }} }}\n", toml_string(stored_name),
                             c.size_bytes);
        }
        return t;
    };

    for (std::uint64_t seed = 1; seed <= seeds_to_try; ++seed) {
        const std::string text = body(seed);
        Scenario scenario;
        try {
            scenario = parse_scenario(text, "explore-failure.toml");
        } catch (const ScenarioError&) {
            return std::nullopt;
        }
        const SimRun run = run_on_sim(scenario, seed);
        const harness::Verdict verdict =
            judge(scenario, ContentModel(scenario, seed), run.observation);
        if (verdict.passed)
            continue;
        const Outcome observed = observed_outcome(run.observation);
        bool alike = false;
        switch (result.verdict) {
            case CaseVerdict::deadlock:
                alike = observed == Outcome::deadlock;
                break;
            case CaseVerdict::time_budget:
                alike = observed == Outcome::timeout;
                break;
            case CaseVerdict::failed:
                alike = observed == Outcome::pass || observed == Outcome::error;
                break;
            case CaseVerdict::ok:
                break;
        }
        // The same kind of wrong file, too.
        const std::string& stored_name_ref = stored_name;
        const auto stored =
            std::find_if(run.observation.files.begin(), run.observation.files.end(),
                         [&](const ServerFile& f) { return f.name == stored_name_ref; });
        const std::uint64_t stored_size =
            stored == run.observation.files.end() ? 0 : stored->content.size();
        if (result.signature == "truncated file")
            alike = alike && stored != run.observation.files.end() && stored_size < c.size_bytes;
        if (result.signature == "wrong reply" || result.signature == "corrupted file")
            alike = alike && stored != run.observation.files.end() && stored_size == c.size_bytes;
        if (!alike)
            continue;
        std::string header;
        header += fmt::format("# Found by ferry explore: {} ({}).\n", result.signature,
                              to_string(result.verdict));
        header += fmt::format("# Minimal case: {}\n", case_to_text(c));
        header += fmt::format("# Replay exactly: ferry explore --replay '{}'\n", case_to_text(c));
        header += fmt::format(
            "# This file expects what a correct protocol does; seed {} was checked to fail\n"
            "# the same way ({}), so `ferry scenario run` fails on it until the bug is fixed.\n",
            seed, to_string(observed));
        return header + text;
    }
    return std::nullopt;
}

std::string_view to_string(Strategy strategy) {
    switch (strategy) {
        case Strategy::random:
            return "random";
        case Strategy::pct:
            return "pct";
        case Strategy::exhaustive:
            return "exhaustive";
    }
    return "?";
}

std::uint64_t case_seed(std::uint64_t seed, std::uint64_t global_run) {
    std::uint64_t state = seed * 0x9e3779b97f4a7c15ULL + global_run;
    return sim::splitmix64(state);
}

PctDecisions::PctDecisions(std::uint64_t seed, std::uint64_t depth, std::uint64_t horizon,
                           bool calm_data)
    : prng_(seed), calm_data_(calm_data), depth_(std::max<std::uint64_t>(depth, 1)) {
    for (std::uint64_t i = 0; i + 1 < depth_; ++i)
        change_points_.push_back(prng_.next_u64() % std::max<std::uint64_t>(horizon, 1));
    std::sort(change_points_.begin(), change_points_.end());
}

std::uint64_t PctDecisions::uniform(std::uint64_t option_count) {
    const std::uint64_t threshold = (0 - option_count) % option_count;
    while (true) {
        const std::uint64_t value = prng_.next_u64();
        if (value >= threshold)
            return value % option_count;
    }
}

bool PctDecisions::change_point(std::uint64_t step) {
    bool change = false;
    while (next_change_ < change_points_.size() && change_points_[next_change_] <= step) {
        change |= change_points_[next_change_] == step;
        ++next_change_;
    }
    return change;
}

std::uint64_t PctDecisions::next_choice(std::uint64_t option_count) {
    if (!calm_data_)
        return uniform(option_count);
    if (!change_point(step_++))
        return 0;
    return 1 + uniform(option_count - 1);  // any option but the calm one
}

std::uint64_t PctDecisions::next_process_choice(std::span<const std::uint64_t> runnable_ids) {
    if (calm_data_)
        return next_choice(runnable_ids.size());
    // Initial priorities lie above depth_, change points' below it.
    for (std::uint64_t id : runnable_ids) {
        if (!priority_.contains(id))
            priority_[id] = depth_ + (prng_.next_u64() >> 2);
    }
    auto highest = [&] {
        std::size_t best = 0;
        for (std::size_t i = 1; i < runnable_ids.size(); ++i) {
            if (priority_[runnable_ids[i]] > priority_[runnable_ids[best]])
                best = i;
        }
        return best;
    };
    if (change_point(step_++)) {
        ++changes_made_;
        priority_[runnable_ids[highest()]] = depth_ - changes_made_;
    }
    return highest();
}

namespace {

/// Replays a prefix of choices, then the calm default; notes every choice's
/// option count, so the enumeration knows what comes next.
class EnumeratingDecisions final : public sim::DecisionSource {
  public:
    explicit EnumeratingDecisions(const std::vector<std::uint64_t>& prefix) : prefix_(prefix) {}
    std::vector<std::uint64_t> option_counts;

  protected:
    std::uint64_t next_choice(std::uint64_t option_count) override {
        const std::size_t index = option_counts.size();
        option_counts.push_back(option_count);
        if (index < prefix_.size())
            return std::min(prefix_[index], option_count - 1);
        return 0;
    }

  private:
    const std::vector<std::uint64_t>& prefix_;
};

/// The next choice list after choices (whose option counts are given) in
/// depth-first order with at most cuts_max non-zero choices; none when done.
std::optional<std::vector<std::uint64_t>> next_prefix(const std::vector<std::uint64_t>& choices,
                                                      const std::vector<std::uint64_t>& counts,
                                                      std::uint64_t cuts_max) {
    std::vector<std::size_t> nonzero_before(choices.size() + 1, 0);
    for (std::size_t i = 0; i < choices.size(); ++i)
        nonzero_before[i + 1] = nonzero_before[i] + (choices[i] != 0 ? 1 : 0);
    for (std::size_t j = choices.size(); j-- > 0;) {
        if (choices[j] + 1 >= counts[j])
            continue;
        if (choices[j] == 0 && nonzero_before[j] + 1 > cuts_max)
            continue;
        std::vector<std::uint64_t> next(choices.begin(),
                                        choices.begin() + static_cast<std::ptrdiff_t>(j));
        next.push_back(choices[j] + 1);
        return next;
    }
    return std::nullopt;
}

std::uint64_t pct_horizon(const ExploreCase& c) {
    // About the choices a run makes: a few per chunk and side, more when
    // calls may be cut.
    const std::uint64_t chunks = c.size_bytes / std::max<std::size_t>(c.chunk_bytes, 1) + 2;
    const int cuts =
        (is_on(c.faults.partial_sends) ? 1 : 0) + (is_on(c.faults.short_reads) ? 1 : 0);
    return 4 + 4 * chunks * static_cast<std::uint64_t>(1 + cuts);
}

}  // namespace

ExploreSummary explore(const ExploreOptions& options,
                       const std::function<void(const ExploreProgress&)>& progress,
                       const std::function<void(const Finding&)>& on_finding) {
    using clock = std::chrono::steady_clock;
    const auto start = clock::now();
    const std::clock_t cpu_start = std::clock();
    auto elapsed = [&] { return std::chrono::duration<double>(clock::now() - start).count(); };

    ExploreSummary summary;
    std::set<std::string> signatures;
    std::uint64_t failures = 0;
    bool stop = false;
    const std::uint64_t shard_count = std::max<std::uint64_t>(options.shard_count, 1);
    const std::vector<std::uint64_t> edges =
        edge_sizes(options.protocol, options.chunk_bytes, options.size_max);
    std::vector<std::uint64_t> recorded;
    recorded.reserve(256);
    double next_progress = 0.1;

    // Judges one run; true when exploration should stop.
    auto handle = [&](const ExploreCase& c, CaseResult result, std::uint64_t run_index) {
        if (result.verdict == CaseVerdict::ok)
            return false;
        ++failures;
        if (signatures.contains(result.signature))
            return false;
        signatures.insert(result.signature);
        Finding finding;
        finding.run_index = run_index;
        finding.seconds = elapsed();
        finding.found = c;
        finding.found_result = result;
        if (options.shrink) {
            ShrinkResult shrunk = shrink_case(c, result);
            finding.minimal = std::move(shrunk.minimal);
            finding.shrink_runs = shrunk.runs;
        } else {
            finding.minimal = c;
        }
        // Once more, with the trace's tail for the report.
        finding.minimal_result = run_case(finding.minimal);
        summary.findings.push_back(finding);
        if (on_finding)
            on_finding(summary.findings.back());
        if (!options.stop_when_found.empty() &&
            std::all_of(options.stop_when_found.begin(), options.stop_when_found.end(),
                        [&](const std::string& s) { return signatures.contains(s); })) {
            return true;
        }
        return !options.keep_going;
    };

    auto out_of_budget = [&](std::uint64_t runs) {
        if (options.runs && runs >= *options.runs)
            return true;
        if ((runs & 63) == 0) {
            const double now = elapsed();
            if (options.time_limit && now >= options.time_limit->count())
                return true;
            if (progress && now >= next_progress) {
                next_progress = now + 0.1;
                progress(ExploreProgress{runs, failures, now});
            }
        }
        return false;
    };

    if (options.strategy == Strategy::exhaustive) {
        // Every size up to 64 bytes, then the edges; each with every way to
        // cut sends and reads, up to exhaustive_cuts_max cuts per run.
        std::set<std::uint64_t> size_set(edges.begin(), edges.end());
        for (std::uint64_t s = 0; s <= std::min<std::uint64_t>(options.size_max, 64); ++s)
            size_set.insert(s);
        const std::vector<std::uint64_t> sizes(size_set.begin(), size_set.end());
        summary.exhausted = true;
        for (std::size_t si = options.shard_index; si < sizes.size() && !stop; si += shard_count) {
            ExploreCase c;
            c.protocol = options.protocol;
            c.chunk_bytes = options.chunk_bytes;
            c.size_bytes = sizes[si];
            c.payload_seed = case_seed(options.seed, si);
            if (has(options.faults, FaultKnob::partial_sends))
                c.faults.partial_sends = sim::always;
            if (has(options.faults, FaultKnob::short_reads))
                c.faults.short_reads = sim::always;
            std::vector<std::uint64_t> prefix;
            while (true) {
                if (out_of_budget(summary.runs)) {
                    summary.exhausted = false;
                    stop = true;
                    break;
                }
                EnumeratingDecisions source(prefix);
                recorded.clear();
                CaseResult result = run_case(c, &source, &recorded, false);
                summary.events += result.report.events;
                ExploreCase ran = c;
                ran.choices = recorded;
                if (handle(ran, std::move(result), summary.runs)) {
                    stop = true;
                }
                ++summary.runs;
                if (stop)
                    break;
                const auto next =
                    next_prefix(recorded, source.option_counts, options.exhaustive_cuts_max);
                if (!next)
                    break;
                prefix = *next;
            }
        }
        if (stop && !summary.findings.empty())
            summary.exhausted = false;
    } else {
        for (std::uint64_t i = 0; !stop; ++i) {
            if (out_of_budget(i))
                break;
            const std::uint64_t global = i * shard_count + options.shard_index;
            const std::uint64_t seed = case_seed(options.seed, global);
            sim::PrngDecisions rng(seed);
            ExploreCase c;
            c.protocol = options.protocol;
            c.chunk_bytes = options.chunk_bytes;
            c.payload_seed = seed;
            if (global < edges.size()) {
                // First every edge size once on a calm network: the cheapest
                // runs, and the bugs they show need no luck to find.
                c.size_bytes = edges[global];
            } else {
                c.size_bytes = draw_size(rng, edges, options.size_max);
                draw_faults(rng, options.faults, c.chunk_bytes, c.size_bytes, c.faults,
                            c.store_faults);
            }
            recorded.clear();
            CaseResult result;
            if (options.strategy == Strategy::pct) {
                const std::uint64_t depth =
                    1 + global % std::max<std::uint64_t>(options.pct_depth_max, 1);
                PctDecisions pct(rng.next_u64(), depth, pct_horizon(c), options.pct_calm_data);
                result = run_case(c, &pct, &recorded, false);
            } else {
                result = run_case(c, &rng, &recorded, false);
            }
            summary.runs = i + 1;
            summary.events += result.report.events;
            if (result.verdict != CaseVerdict::ok) {
                c.choices = recorded;
                stop = handle(c, std::move(result), i);
            }
        }
    }
    summary.seconds = elapsed();
    summary.cpu_seconds = static_cast<double>(std::clock() - cpu_start) / CLOCKS_PER_SEC;
    if (progress)
        progress(ExploreProgress{summary.runs, failures, summary.seconds});
    return summary;
}

}  // namespace ferry::harness
