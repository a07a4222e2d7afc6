#pragma once
// A Filesystem decorator that passes every call to another door and fails
// the one a plan picks (mirrors the simulated disk's FsFaults): "fail the Nth
// call", of every kind or of one, once (a transient error) or from then on (a
// dead disk), with EIO, ENOSPC or any errno. A failed call does nothing. It
// counts and logs the calls it sees, so a test can first learn the calls of
// a clean operation and then fail each in turn, as SQLite's test VFS does.
//
// Thread-safe, like the doors it wraps.

#include <cerrno>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "ferry/protocol/filesystem.h"

namespace ferry {

struct FsFailurePlan {
    /// The Nth call (1-based, counted from set_plan) fails; 0 = none does.
    std::uint64_t fail_at = 0;
    /// Count only calls of this kind; none = every call.
    std::optional<FsCall> kind;
    int error = EIO;
    /// Every later call (of kind) fails too.
    bool persist = false;
};

class FaultyFilesystem final : public Filesystem {
  public:
    explicit FaultyFilesystem(std::unique_ptr<Filesystem> inner) : inner_(std::move(inner)) {}

    /// Replaces the plan and starts counting (and logging) calls afresh.
    void set_plan(const FsFailurePlan& plan);
    /// The calls seen since set_plan, in order.
    std::vector<FsCall> calls() const;
    /// Whether the plan has failed a call.
    bool failed() const;

    FsResult<std::unique_ptr<FsFile>> open(std::string_view name, FsOpenMode mode) override;
    FsResult<FsStat> stat(std::string_view name) override;
    FsResult<std::vector<std::string>> list() override;
    int rename(std::string_view from, std::string_view to) override;
    int unlink(std::string_view name) override;
    int sync_directory() override;
    std::string describe() const override { return inner_->describe(); }

    /// Counts a call of kind; the errno it must fail with, or 0 to pass it on.
    int check(FsCall kind);

  private:
    std::unique_ptr<Filesystem> inner_;
    mutable std::mutex mutex_;
    FsFailurePlan plan_;
    std::vector<FsCall> calls_;
    std::uint64_t counted_ = 0;
    bool failed_ = false;
};

}  // namespace ferry
