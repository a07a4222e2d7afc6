#include "ferry/real/faulty_filesystem.h"

namespace ferry {

namespace {

class FaultyFile final : public FsFile {
  public:
    FaultyFile(FaultyFilesystem& fs, std::unique_ptr<FsFile> inner)
        : fs_(fs), inner_(std::move(inner)) {}

    FsResult<std::size_t> write(std::span<const std::byte> bytes) override {
        if (const int error = fs_.check(FsCall::write))
            return {0, error};
        return inner_->write(bytes);
    }
    FsResult<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
        if (const int error = fs_.check(FsCall::read))
            return {0, error};
        return inner_->read_at(offset, buffer);
    }
    int sync() override {
        if (const int error = fs_.check(FsCall::sync))
            return error;
        return inner_->sync();
    }
    FsResult<FsStat> stat() override {
        if (const int error = fs_.check(FsCall::stat))
            return {{}, error};
        return inner_->stat();
    }
    int try_lock() override {
        if (const int error = fs_.check(FsCall::lock))
            return error;
        return inner_->try_lock();
    }
    int close() override {
        // A close that fails still closes (as close(2) does on Linux).
        const int error = fs_.check(FsCall::close);
        const int closed = inner_->close();
        return error != 0 ? error : closed;
    }
    FsResult<std::string> get_attribute(std::string_view name) override {
        if (const int error = fs_.check(FsCall::get_attribute))
            return {{}, error};
        return inner_->get_attribute(name);
    }
    int set_attribute(std::string_view name, std::string_view value) override {
        if (const int error = fs_.check(FsCall::set_attribute))
            return error;
        return inner_->set_attribute(name, value);
    }
    // No descriptor(): a connection sending straight from the file would
    // bypass read_at, and with it the plan's failed reads.

  private:
    FaultyFilesystem& fs_;
    std::unique_ptr<FsFile> inner_;
};

}  // namespace

void FaultyFilesystem::set_plan(const FsFailurePlan& plan) {
    std::lock_guard lock(mutex_);
    plan_ = plan;
    calls_.clear();
    counted_ = 0;
    failed_ = false;
}

std::vector<FsCall> FaultyFilesystem::calls() const {
    std::lock_guard lock(mutex_);
    return calls_;
}

bool FaultyFilesystem::failed() const {
    std::lock_guard lock(mutex_);
    return failed_;
}

int FaultyFilesystem::check(FsCall kind) {
    std::lock_guard lock(mutex_);
    calls_.push_back(kind);
    if (plan_.fail_at == 0 || (plan_.kind && *plan_.kind != kind))
        return 0;
    ++counted_;
    if (counted_ == plan_.fail_at || (plan_.persist && failed_)) {
        failed_ = true;
        return plan_.error;
    }
    return 0;
}

FsResult<std::unique_ptr<FsFile>> FaultyFilesystem::open(std::string_view name, FsOpenMode mode) {
    if (const int error = check(FsCall::open))
        return {nullptr, error};
    auto opened = inner_->open(name, mode);
    if (!opened.ok())
        return opened;
    return {std::make_unique<FaultyFile>(*this, std::move(opened.value)), 0};
}

FsResult<FsStat> FaultyFilesystem::stat(std::string_view name) {
    if (const int error = check(FsCall::stat))
        return {{}, error};
    return inner_->stat(name);
}

FsResult<std::vector<std::string>> FaultyFilesystem::list() {
    if (const int error = check(FsCall::list))
        return {{}, error};
    return inner_->list();
}

int FaultyFilesystem::rename(std::string_view from, std::string_view to) {
    if (const int error = check(FsCall::rename))
        return error;
    return inner_->rename(from, to);
}

int FaultyFilesystem::unlink(std::string_view name) {
    if (const int error = check(FsCall::unlink))
        return error;
    return inner_->unlink(name);
}

int FaultyFilesystem::sync_directory() {
    if (const int error = check(FsCall::sync_directory))
        return error;
    return inner_->sync_directory();
}

}  // namespace ferry
