#include "ferry/protocol/memory_store.h"

#include <algorithm>
#include <cstring>

#include <fmt/core.h>

#include "ferry/protocol/names.h"
#include "ferry/protocol/span_reader.h"

namespace ferry {

namespace {

void require_valid_name(std::string_view name) {
    if (!is_valid_name(name)) {
        throw StoreError(StoreErrorKind::name_not_allowed,
                         fmt::format("name not allowed: \"{}\"", name));
    }
}

}  // namespace

class MemoryStore::MemoryUpload : public Upload {
  public:
    MemoryUpload(MemoryStore& store, std::string name) : store_(store), name_(std::move(name)) {}
    ~MemoryUpload() override { abort(); }

    StoreStatus try_write(std::span<const std::byte> bytes) override {
        if (done_)
            return StoreFailure{StoreErrorKind::io, "write after commit or abort"};
        {
            std::lock_guard lock(store_.mutex_);
            if (store_.capacity_bytes_ != 0 &&
                store_.used_bytes_locked() + bytes.size() > store_.capacity_bytes_) {
                return StoreFailure{StoreErrorKind::disk_full,
                                    fmt::format("disk full writing \"{}\"", name_)};
            }
            store_.pending_bytes_ += bytes.size();
        }
        data_.insert(data_.end(), bytes.begin(), bytes.end());
        return std::nullopt;
    }

    StoreStatus try_commit() override {
        if (done_)
            return StoreFailure{StoreErrorKind::io, "commit after commit or abort"};
        auto bytes = std::make_shared<const Bytes>(std::move(data_));
        std::lock_guard lock(store_.mutex_);
        store_.pending_bytes_ -= bytes->size();
        store_.replace_locked(name_, std::move(bytes));
        done_ = true;
        return std::nullopt;
    }

    void abort() noexcept override {
        if (done_)
            return;
        done_ = true;
        std::lock_guard lock(store_.mutex_);
        store_.pending_bytes_ -= data_.size();
        data_.clear();
    }

  private:
    MemoryStore& store_;
    std::string name_;
    Bytes data_;
    bool done_ = false;
};

std::unique_ptr<Upload> MemoryStore::begin_upload(std::string_view name) {
    require_valid_name(name);
    return std::make_unique<MemoryUpload>(*this, std::string(name));
}

std::unique_ptr<FileReader> MemoryStore::open(std::string_view name) {
    require_valid_name(name);
    std::lock_guard lock(mutex_);
    auto it = files_.find(name);
    if (it == files_.end()) {
        throw StoreError(StoreErrorKind::not_found, fmt::format("no such file: \"{}\"", name));
    }
    return std::make_unique<SharedBytesReader>(it->second);
}

std::vector<FileInfo> MemoryStore::list() {
    std::lock_guard lock(mutex_);
    std::vector<FileInfo> files;
    files.reserve(files_.size());
    for (const auto& [name, bytes] : files_)
        files.push_back({name, bytes->size()});
    return files;  // std::map keeps them sorted by name
}

void MemoryStore::put_file(const std::string& name, std::vector<std::byte> bytes) {
    std::lock_guard lock(mutex_);
    replace_locked(name, std::make_shared<const Bytes>(std::move(bytes)));
}

void MemoryStore::replace_locked(const std::string& name, std::shared_ptr<const Bytes> bytes) {
    auto& slot = files_[name];
    if (slot)
        committed_bytes_ -= slot->size();
    committed_bytes_ += bytes->size();
    slot = std::move(bytes);
}

std::optional<std::vector<std::byte>> MemoryStore::file(const std::string& name) const {
    std::lock_guard lock(mutex_);
    auto it = files_.find(name);
    if (it == files_.end())
        return std::nullopt;
    return *it->second;
}

std::uint64_t MemoryStore::pending_bytes() const {
    std::lock_guard lock(mutex_);
    return pending_bytes_;
}

}  // namespace ferry
