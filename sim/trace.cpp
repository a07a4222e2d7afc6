#include "ferry/sim/trace.h"

#include "ferry/sim/recording.h"

#include <algorithm>
#include <ostream>

#include <fmt/core.h>
#include <nlohmann/json.hpp>
// libxxhash; on x86-64 its bulk functions replaced by its runtime dispatch:
// AVX2 where the CPU has it, the same hash either way (the dispatch header
// includes xxhash.h).
#define XXH_STATIC_LINKING_ONLY
#if defined(__x86_64__)
#include <xxh_x86dispatch.h>
#else
#include <xxhash.h>
#endif

namespace ferry::sim {

namespace {

enum class Field { none, number, text, ns };

struct KindInfo {
    std::string_view name;
    std::string_view a_label;
    Field a;
    std::string_view b_label;
    Field b;
};

constexpr std::array<KindInfo, static_cast<std::size_t>(TraceKind::count_)> kind_infos{{
    {"spawn", "name", Field::text, "", Field::none},
    {"run", "", Field::none, "", Field::none},
    {"finish", "", Field::none, "", Field::none},
    {"fail", "message", Field::text, "", Field::none},
    {"delay", "ns", Field::number, "", Field::none},
    {"listen", "address", Field::text, "", Field::none},
    {"connect", "address", Field::text, "", Field::none},
    {"refused", "address", Field::text, "", Field::none},
    {"accept", "peer", Field::text, "", Field::none},
    {"established", "", Field::none, "", Field::none},
    {"send", "offered", Field::number, "taken", Field::number},
    {"recv", "buffer", Field::number, "returned", Field::number},
    {"segment", "bytes", Field::number, "arrives_ns", Field::ns},
    {"deliver", "buffered", Field::number, "", Field::none},
    {"shutdown_send", "", Field::none, "", Field::none},
    {"fin", "", Field::none, "", Field::none},
    {"close", "abort", Field::number, "", Field::none},
    {"rst", "", Field::none, "", Field::none},
    {"timed_out", "call", Field::text, "", Field::none},
    {"fault", "what", Field::text, "value", Field::number},
    {"store_begin", "name", Field::text, "upload", Field::number},
    {"store_write", "upload", Field::number, "bytes", Field::number},
    {"store_commit", "name", Field::text, "bytes", Field::number},
    {"store_abort", "upload", Field::number, "bytes", Field::number},
    {"store_open", "name", Field::text, "bytes", Field::number},
    {"store_list", "files", Field::number, "", Field::none},
    {"store_fault", "what", Field::text, "upload", Field::number},
    {"store_crash", "uploads", Field::number, "", Field::none},
    {"note", "text", Field::text, "", Field::none},
    {"kill", "group", Field::text, "processes", Field::number},
    {"fs_open", "name", Field::text, "file", Field::number},
    {"fs_write", "file", Field::number, "bytes", Field::number},
    {"fs_read", "file", Field::number, "bytes", Field::number},
    {"fs_sync", "file", Field::number, "durable_bytes", Field::number},
    {"fs_stat", "name", Field::text, "file", Field::number},
    {"fs_lock", "file", Field::number, "", Field::none},
    {"fs_close", "file", Field::number, "", Field::none},
    {"fs_list", "entries", Field::number, "", Field::none},
    {"fs_rename", "from", Field::text, "to", Field::text},
    {"fs_unlink", "name", Field::text, "", Field::none},
    {"fs_sync_dir", "changes", Field::number, "", Field::none},
    {"fs_error", "call", Field::text, "errno", Field::number},
    {"fs_fault", "call", Field::text, "errno", Field::number},
    {"fs_crash", "changes_kept", Field::number, "changes_lost", Field::number},
    {"fs_get_attr", "file", Field::number, "value_bytes", Field::number},
    {"fs_set_attr", "file", Field::number, "value_bytes", Field::number},
}};

const KindInfo& info(TraceKind kind) {
    return kind_infos.at(static_cast<std::size_t>(kind));
}

std::string seconds_text(std::uint64_t ns) {
    return fmt::format("{}.{:06}", ns / 1'000'000'000, (ns % 1'000'000'000) / 1000);
}

}  // namespace

std::string_view to_string(TraceKind kind) {
    return info(kind).name;
}

bool carries_text(TraceKind kind, TraceField field) {
    return (field == TraceField::a ? info(kind).a : info(kind).b) == Field::text;
}

namespace {

XXH3_state_t* hash_state(std::byte* storage) {
    return reinterpret_cast<XXH3_state_t*>(storage);
}

}  // namespace

Trace::Trace() {
    static_assert(sizeof(XXH3_state_t) <= hash_state_bytes && alignof(XXH3_state_t) <= 64,
                  "Trace::hash_state_ must hold an XXH3_state_t");
    XXH3_64bits_reset(hash_state(hash_state_));
    process_names_.push_back(intern("network"));
}

Trace::~Trace() = default;

static_assert(sizeof(TraceEvent) == 7 * sizeof(std::uint64_t), "no padding in TraceEvent");

void Trace::write_json(const TraceEvent& event) {
    *json_out_ << format_json(event) << '\n';
}

void Trace::record_into_recording(const TraceEvent& event) {
    recording_->add_event(event);
}

std::uint64_t Trace::intern(std::string_view text) {
    if (text.empty())
        return 0;
    const std::uint64_t id = XXH3_64bits(text.data(), text.size());
    texts_.add(id, text);
    return id;
}

std::string_view Trace::text(std::uint64_t id) const {
    if (id == 0)
        return "";
    const std::string* text = texts_.find(id);
    return text == nullptr ? std::string_view("?") : std::string_view(*text);
}

std::uint64_t Trace::name_process(std::uint64_t process, std::string_view name) {
    if (process_names_.size() <= process)
        process_names_.resize(process + 1, 0);
    process_names_[process] = intern(name);
    return process_names_[process];
}

std::string_view Trace::process_name(std::uint64_t process) const {
    if (process >= process_names_.size())
        return "?";
    return text(process_names_[process]);
}

void Trace::flush_hash() {
    if (!digest_enabled_) {
        hashed_count_ = event_count_;
        return;
    }
    while (hashed_count_ < event_count_) {
        const std::uint64_t start = hashed_count_ % recent_capacity;
        const std::uint64_t count = std::min(event_count_ - hashed_count_, recent_capacity - start);
        XXH3_64bits_update(hash_state(hash_state_), &recent_[start], count * sizeof(TraceEvent));
        hashed_count_ += count;
    }
}

std::uint64_t Trace::digest() {
    flush_hash();
    if (!digest_enabled_)
        return 0;
    return XXH3_64bits_digest(hash_state(hash_state_));
}

std::string Trace::format_readable(const TraceEvent& event) const {
    const KindInfo& kind = info(event.kind);
    std::string line = fmt::format("t={}s {:<8} {}", seconds_text(event.time_ns),
                                   process_name(event.process), kind.name);
    if (event.conn != 0) {
        line += fmt::format(" conn {} ({})", event.conn, event.side == 0 ? "client" : "server");
    }
    auto field = [&](std::string_view label, Field type, std::uint64_t value) {
        switch (type) {
            case Field::none:
                return;
            case Field::number:
                line += fmt::format(" {}={}", label, value);
                return;
            case Field::ns:
                // In seconds here, so the key loses its unit ("arrives_ns" is
                // in nanoseconds in the JSON form).
                if (label.ends_with("_ns"))
                    label.remove_suffix(3);
                line += fmt::format(" {}={}s", label, seconds_text(value));
                return;
            case Field::text:
                line += fmt::format(" {}=\"{}\"", label, text(value));
                return;
        }
    };
    field(kind.a_label, kind.a, event.a);
    field(kind.b_label, kind.b, event.b);
    return line;
}

std::string Trace::format_json(const TraceEvent& event) const {
    const KindInfo& kind = info(event.kind);
    nlohmann::ordered_json json;
    json["t_ns"] = event.time_ns;
    json["event"] = kind.name;
    json["process"] = process_name(event.process);
    if (event.conn != 0) {
        json["conn"] = event.conn;
        json["side"] = event.side == 0 ? "client" : "server";
    }
    auto field = [&](std::string_view label, Field type, std::uint64_t value) {
        switch (type) {
            case Field::none:
                return;
            case Field::number:
            case Field::ns:
                json[std::string(label)] = value;
                return;
            case Field::text:
                json[std::string(label)] = text(value);
                return;
        }
    };
    field(kind.a_label, kind.a, event.a);
    field(kind.b_label, kind.b, event.b);
    return json.dump();
}

std::string Trace::recent_text(std::size_t max_events) const {
    const std::uint64_t available = event_count_ < recent_capacity ? event_count_ : recent_capacity;
    const std::uint64_t shown = available < max_events ? available : max_events;
    std::string text;
    for (std::uint64_t i = event_count_ - shown; i < event_count_; ++i) {
        text += "  ";
        text += format_readable(recent_[i % recent_capacity]);
        text += '\n';
    }
    return text;
}

std::string digest_to_hex(std::uint64_t digest) {
    return fmt::format("{:016x}", digest);
}

}  // namespace ferry::sim
