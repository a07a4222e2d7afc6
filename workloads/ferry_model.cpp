#include "ferry/workloads/ferry_model.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>

#include <fmt/core.h>

#include "ferry/workloads/ferry_steps.h"

namespace ferry::workloads {

using harness::Failure;
using harness::FailureKind;
using harness::OpRecord;
using harness::OpStatus;

std::vector<FerryStep> ferry_steps(const FerryRunState& state,
                                   const std::vector<OpRecord>& records) {
    std::vector<FerryStep> steps;
    steps.reserve(records.size());
    for (const OpRecord& r : records)
        steps.push_back({&r, &state.ops[r.client][r.index], &state.results[r.client][r.index]});
    return steps;
}

namespace {

bool maybe_in_place(const OpRecord& record) {
    // docs/protocol.md: the one ERR after which the new upload may stand.
    return record.code == 500 &&
           record.detail.find("is in place but not known to be durable") != std::string::npos;
}

}  // namespace

bool must_not_commit(const FerryStep& step, harness::ErrorCauses active) {
    const FerryOp& op = *step.op;
    if (op.cut)
        return true;
    if (step.record->code != 0)
        return !maybe_in_place(*step.record);  // ERR, asked for or not, keeps the old content
    const bool lied =
        op.flip_digest || (op.declare && *op.declare != op.content.size()) || op.frame_line;
    if (!lied)
        return false;
    return !(step.status() == OpStatus::unexpected_ok &&
             harness::excuses(active, harness::ErrorCause::corrupted));
}

namespace {

/// One PUT (or the preloaded file) that may have set a name's content.
struct Write {
    const sim::CompactBytes* content = nullptr;
    bool preload = false;
    Instant invoked;               ///< for a preload, the run's start
    std::optional<Instant> acked;  ///< when the client got its OK
};

class Model {
  public:
    Model(const FerryRunState& state, const std::vector<OpRecord>& records,
          const harness::FaultPlan& faults)
        : state_(state),
          steps_(ferry_steps(state, records)),
          active_(harness::error_causes(faults)),
          power_losses_(state.world.power_losses()) {
        index_writes();
    }

    // Writes point into preloaded_: a copy would point into the original's.
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;

    const std::vector<FerryStep>& steps() const { return steps_; }
    std::optional<Failure> check_reads() const;
    std::optional<Failure> check_files(const harness::StoredContents& stored) const;

  private:
    void index_writes();
    bool overwritten_before(const std::string& name, const Write& w,
                            std::optional<Instant> t) const;
    std::vector<const Write*> readable(const std::string& name, Instant from, Instant to) const;
    bool certainly_exists(const std::string& name, Instant before) const;
    bool power_lost_between(Instant from, Instant to) const {
        return std::any_of(power_losses_.begin(), power_losses_.end(),
                           [&](Instant t) { return !(t < from) && !(to < t); });
    }
    /// Whether what step read can be believed: an unchecked line may have
    /// been damaged in flight, undetected, when bytes are corrupted.
    bool trusted(const FerryStep& step) const {
        return !step.op->unchecked || !harness::excuses(active_, harness::ErrorCause::corrupted);
    }
    std::optional<Failure> check_get(const FerryStep& step) const;
    std::optional<Failure> check_dir(const FerryStep& step) const;
    std::optional<Failure> wrong_content(const FerryStep* step, const std::string& name,
                                         const sim::CompactBytes& content,
                                         std::string_view what) const;

    const FerryRunState& state_;
    std::vector<FerryStep> steps_;
    harness::ErrorCauses active_;
    std::vector<Instant> power_losses_;
    std::map<std::string, std::vector<Write>, std::less<>> writes_;
    std::map<std::string, std::vector<const sim::CompactBytes*>, std::less<>> refused_;
    std::map<std::string, sim::CompactBytes, std::less<>> preloaded_;
};

void Model::index_writes() {
    for (const auto& [name, content] : state_.settings.files) {
        const auto [it, fresh] = preloaded_.insert_or_assign(name, sim::CompactBytes(content));
        writes_[name].push_back(Write{&it->second, true, Instant{}, Instant{}});
    }
    for (const FerryStep& step : steps_) {
        if (step.op->verb != FerryOp::Verb::put)
            continue;
        if (must_not_commit(step, active_)) {
            refused_[step.op->name].push_back(&step.op->content);
            continue;
        }
        Write w{&step.op->content, false, step.record->invoked, std::nullopt};
        if (step.status() == OpStatus::ok && step.record->code == 0)
            w.acked = step.record->completed;
        writes_[step.op->name].push_back(w);
    }
}

/// Some acknowledged write of name began after w was acknowledged and was
/// acknowledged before t (none = ever): w's content is gone for certain.
bool Model::overwritten_before(const std::string& name, const Write& w,
                               std::optional<Instant> t) const {
    if (!w.acked)
        return false;  // it may still commit, however late
    for (const Write& later : writes_.at(name)) {
        if (&later == &w || later.preload || !later.acked)
            continue;
        if ((w.preload || *w.acked < later.invoked) && (!t || *later.acked < *t))
            return true;
    }
    return false;
}

std::vector<const Write*> Model::readable(const std::string& name, Instant from, Instant to) const {
    std::vector<const Write*> out;
    const auto it = writes_.find(name);
    if (it == writes_.end())
        return out;
    for (const Write& w : it->second) {
        if (!w.preload && to < w.invoked)
            continue;  // began after the read was over (an instant's order is unknown)
        if (!overwritten_before(name, w, from))
            out.push_back(&w);
    }
    return out;
}

bool Model::certainly_exists(const std::string& name, Instant before) const {
    const auto it = writes_.find(name);
    if (it != writes_.end()) {
        for (const Write& w : it->second) {
            if (w.preload || (w.acked && *w.acked < before))
                return true;
        }
    }
    // Or an earlier read saw it: files are never deleted, though a power
    // loss may take back what no OK made durable.
    for (const FerryStep& s : steps_) {
        if (!s.completed() || !(*s.record->completed < before) || s.status() != OpStatus::ok ||
            !trusted(s) || power_lost_between(s.record->invoked, before))
            continue;
        if (s.result->got && s.op->name == name)
            return true;
        if (s.result->listing) {
            for (const FileInfo& f : *s.result->listing) {
                if (f.name == name)
                    return true;
            }
        }
    }
    return false;
}

}  // namespace

}  // namespace ferry::workloads

namespace ferry::workloads {

namespace {

/// Why content under name is not allowed: a refused upload kept, an old
/// upload come back, or bytes no upload of that name sent.
std::optional<Failure> Model::wrong_content(const FerryStep* step, const std::string& name,
                                            const sim::CompactBytes& content,
                                            std::string_view what) const {
    const std::string who = step ? harness::describe_op(*step->record) + ": " : "";
    const auto refused = refused_.find(name);
    if (refused != refused_.end()) {
        for (const sim::CompactBytes* r : refused->second) {
            if (*r == content) {
                return Failure{FailureKind::kept_refused, fmt::format("{} a refused upload", what),
                               fmt::format("{}{} {} ({} bytes), an upload the server refused "
                                           "or the client abandoned",
                                           who, what, name, content.size())};
            }
        }
    }
    const auto writes = writes_.find(name);
    if (writes != writes_.end()) {
        for (const Write& w : writes->second) {
            if (*w.content == content) {
                return Failure{
                    step ? FailureKind::wrong_data : FailureKind::lost_data,
                    fmt::format("{} a replaced upload", what),
                    fmt::format("{}{} {} ({} bytes), an upload that was certainly replaced by "
                                "then, or began after",
                                who, what, name, content.size())};
            }
        }
    }
    return Failure{step ? FailureKind::wrong_data : FailureKind::torn_file,
                   fmt::format("{} bytes never put", what),
                   fmt::format("{}{} {} ({} bytes), which no upload of that name sent", who, what,
                               name, content.size())};
}

std::optional<Failure> Model::check_get(const FerryStep& step) const {
    const OpRecord& r = *step.record;
    const std::string& name = step.op->name;
    if (step.result->got) {
        for (const Write* w : readable(name, r.invoked, *r.completed)) {
            if (*w->content == *step.result->got)
                return std::nullopt;
        }
        return wrong_content(&step, name, *step.result->got, "GET returned");
    }
    if (r.code == 404 && certainly_exists(name, r.invoked)) {
        return Failure{FailureKind::wrong_data, "GET 404 for a file that exists",
                       fmt::format("{}: ERR 404, but {} certainly existed before the GET",
                                   harness::describe_op(r), name)};
    }
    return std::nullopt;
}

std::optional<Failure> Model::check_dir(const FerryStep& step) const {
    const OpRecord& r = *step.record;
    const std::vector<FileInfo>& listing = *step.result->listing;
    for (std::size_t i = 1; i < listing.size(); ++i) {
        if (!(listing[i - 1].name < listing[i].name)) {
            return Failure{FailureKind::wrong_data, "DIR out of order",
                           fmt::format("{}: {} is listed before {}", harness::describe_op(r),
                                       listing[i - 1].name, listing[i].name)};
        }
    }
    for (const FileInfo& f : listing) {
        const auto candidates = readable(f.name, r.invoked, *r.completed);
        const bool fits = std::any_of(candidates.begin(), candidates.end(), [&](const Write* w) {
            return w->content->size() == f.size_bytes;
        });
        if (!fits) {
            return Failure{
                FailureKind::wrong_data,
                candidates.empty() ? "DIR lists a file never put" : "DIR lists a wrong size",
                fmt::format("{}: lists {} with {} bytes", harness::describe_op(r), f.name,
                            f.size_bytes)};
        }
    }
    for (const auto& entry : writes_) {
        // Not a structured binding: clang 14 (the fuzz build) cannot capture one.
        const std::string& name = entry.first;
        const bool listed = std::any_of(listing.begin(), listing.end(),
                                        [&](const FileInfo& f) { return f.name == name; });
        if (!listed && certainly_exists(name, r.invoked)) {
            return Failure{FailureKind::wrong_data, "DIR misses a file",
                           fmt::format("{}: does not list {}, which certainly existed",
                                       harness::describe_op(r), name)};
        }
    }
    return std::nullopt;
}

std::optional<Failure> Model::check_reads() const {
    for (const FerryStep& step : steps_) {
        if (!step.completed() || !trusted(step))
            continue;
        std::optional<Failure> failure;
        if (step.op->verb == FerryOp::Verb::get)
            failure = check_get(step);
        else if (step.op->verb == FerryOp::Verb::dir && step.result->listing)
            failure = check_dir(step);
        if (failure)
            return failure;
    }
    return std::nullopt;
}

std::optional<Failure> Model::check_files(const harness::StoredContents& stored) const {
    for (const auto& [name, content] : stored) {
        const auto writes = writes_.find(name);
        bool allowed = false;
        if (writes != writes_.end()) {
            for (const Write& w : writes->second)
                allowed |= *w.content == content && !overwritten_before(name, w, std::nullopt);
        }
        if (!allowed)
            return wrong_content(nullptr, name, content, "the server keeps");
    }
    // A set, not a scan of stored per name: runs have thousands of files.
    std::set<std::string_view> kept_names;
    for (const auto& file : stored)
        kept_names.insert(file.first);
    for (const auto& [name, writes] : writes_) {
        const bool kept = kept_names.contains(name);
        const bool acked = std::any_of(writes.begin(), writes.end(),
                                       [](const Write& w) { return w.acked.has_value(); });
        if (acked && !kept) {
            return Failure{
                FailureKind::lost_data, "an acknowledged upload is missing",
                fmt::format("{} was acknowledged, but the server keeps no such file", name)};
        }
    }
    return std::nullopt;
}

}  // namespace

std::optional<Failure> check_ferry_run(const FerryRunState& state,
                                       const std::vector<harness::StoredContents>& stored,
                                       const harness::FaultPlan& faults, bool finished) {
    const std::vector<OpRecord> records = state.history.records();
    const Model model(state, records, faults);
    if (auto failure = model.check_reads())
        return failure;
    for (const harness::StoredContents& files : stored) {
        if (auto failure = model.check_files(files))
            return failure;
    }
    if (auto failure = check_ferry_limits(state))
        return failure;
    if (!finished)
        return std::nullopt;
    return check_ferry_outcomes(state, model.steps(), faults);
}

}  // namespace ferry::workloads
