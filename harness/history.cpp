#include "ferry/harness/history.h"

#include <fmt/core.h>

#include "ferry/harness/run_text.h"

namespace ferry::harness {

std::string_view to_string(OpStatus status) {
    switch (status) {
        case OpStatus::pending:
            return "pending";
        case OpStatus::ok:
            return "ok";
        case OpStatus::refused:
            return "refused";
        case OpStatus::unexpected_ok:
            return "unexpected OK";
        case OpStatus::timed_out:
            return "timed out";
        case OpStatus::cut:
            return "cut off";
        case OpStatus::connect_failed:
            return "no connection";
        case OpStatus::corrupted:
            return "corrupted";
        case OpStatus::protocol_error:
            return "protocol error";
        case OpStatus::wrong:
            return "wrong";
    }
    return "?";
}

std::size_t History::invoke(std::size_t client, std::size_t index, const Operation& op,
                            Instant at) {
    std::lock_guard lock(mutex_);
    OpRecord record;
    record.client = client;
    record.index = index;
    record.op = &op;
    record.invoked = at;
    records_.push_back(std::move(record));
    return records_.size() - 1;
}

void History::complete(std::size_t record, Instant at, OpStatus status, int code,
                       std::string detail) {
    std::lock_guard lock(mutex_);
    OpRecord& r = records_.at(record);
    r.completed = at;
    r.status = status;
    r.code = code;
    r.detail = std::move(detail);
}

std::vector<OpRecord> History::records() const {
    std::lock_guard lock(mutex_);
    return records_;
}

std::size_t History::size() const {
    std::lock_guard lock(mutex_);
    return records_.size();
}

std::string describe_op(const OpRecord& record) {
    return fmt::format("client {} op {} {}", record.client + 1, record.index + 1,
                       record.op ? operation_text(*record.op) : std::string("?"));
}

std::string history_text(const std::vector<OpRecord>& records) {
    std::string text;
    for (const OpRecord& r : records) {
        const double invoked_s = static_cast<double>(r.invoked.since_epoch.count()) / 1e9;
        std::string ended = "never returned";
        if (r.completed) {
            ended = fmt::format("{:.6f} s: {}",
                                static_cast<double>(r.completed->since_epoch.count()) / 1e9,
                                to_string(r.status));
        }
        text += fmt::format("  {:.6f} s {} -> {}{}{}{}\n", invoked_s, describe_op(r), ended,
                            r.code != 0 ? fmt::format(" (ERR {})", r.code) : "",
                            r.detail.empty() ? "" : ": ", r.detail);
    }
    return text;
}

}  // namespace ferry::harness
