#include "ferry/sim/recording.h"

#include <algorithm>

namespace ferry::sim {

std::span<std::byte> Recording::add_segment_bytes(std::size_t bytes) {
    if (chunks_.empty() || chunk_capacity_ - chunk_used_ < bytes) {
        chunk_capacity_ = std::max(chunk_bytes, bytes);
        chunks_.push_back(std::make_unique_for_overwrite<std::byte[]>(chunk_capacity_));
        chunk_used_ = 0;
    }
    segments_.push_back({chunks_.size() - 1, chunk_used_, bytes});
    chunk_used_ += bytes;
    return {chunks_.back().get() + segments_.back().offset, bytes};
}

std::size_t Recording::begin_block(std::uint64_t process, std::string_view call, std::uint64_t conn,
                                   std::uint64_t side, std::uint64_t now_ns) {
    BlockedInterval interval;
    interval.process = process;
    interval.call = std::string(call);
    interval.conn = conn;
    interval.side = side;
    interval.start_ns = now_ns;
    interval.start_event = events_.size();
    blocks_.push_back(std::move(interval));
    return blocks_.size() - 1;
}

void Recording::end_block(std::size_t index, std::uint64_t now_ns) {
    BlockedInterval& interval = blocks_.at(index);
    interval.end_ns = now_ns;
    interval.end_event = events_.size();
}

void Recording::finish(const Trace& trace, std::size_t process_count, const SimResult& result) {
    for (const TraceEvent& event : events_) {
        if (carries_text(event.kind, TraceField::a) && texts_.count(event.a) == 0)
            texts_.emplace(event.a, std::string(trace.text(event.a)));
        if (carries_text(event.kind, TraceField::b) && texts_.count(event.b) == 0)
            texts_.emplace(event.b, std::string(trace.text(event.b)));
    }
    process_names_.clear();
    for (std::size_t process = 0; process <= process_count; ++process)
        process_names_.emplace_back(trace.process_name(process));
    end_ns_ = static_cast<std::uint64_t>(result.end_time.since_epoch.count());
    status_ = result.status;
    report_ = result.report;
}

std::string_view Recording::text(std::uint64_t id) const {
    if (id == 0)
        return "";
    auto it = texts_.find(id);
    return it == texts_.end() ? std::string_view("?") : std::string_view(it->second);
}

std::string_view Recording::process_name(std::uint64_t process) const {
    if (process >= process_names_.size())
        return "?";
    return process_names_[process];
}

}  // namespace ferry::sim
