#include "ferry/harness/quota_store.h"

#include <fmt/core.h>

namespace ferry::harness {

class QuotaStore::QuotaUpload : public Upload {
  public:
    QuotaUpload(QuotaStore& store, std::unique_ptr<Upload> inner, std::string name)
        : store_(store), inner_(std::move(inner)), name_(std::move(name)) {}
    ~QuotaUpload() override { abort(); }

    StoreStatus try_write(std::span<const std::byte> bytes) override {
        if (StoreStatus over_quota = store_.reserve(bytes.size(), name_))
            return over_quota;
        reserved_ += bytes.size();
        return inner_->try_write(bytes);
    }
    StoreStatus try_commit() override {
        if (StoreStatus failed = inner_->try_commit()) {
            if (failed->new_version_visible) {
                store_.release(reserved_);  // listed as committed already
                reserved_ = 0;
            }
            return failed;
        }
        store_.release(reserved_);  // now counted among the committed files
        reserved_ = 0;
        return std::nullopt;
    }
    void abort() noexcept override {
        inner_->abort();
        store_.release(reserved_);
        reserved_ = 0;
    }

  private:
    QuotaStore& store_;
    std::unique_ptr<Upload> inner_;
    std::string name_;
    std::uint64_t reserved_ = 0;
};

std::unique_ptr<Upload> QuotaStore::begin_upload(std::string_view name) {
    return std::make_unique<QuotaUpload>(*this, inner_.begin_upload(name), std::string(name));
}

StoreStatus QuotaStore::reserve(std::uint64_t bytes, std::string_view name) {
    std::uint64_t committed = 0;
    try {
        for (const auto& file : inner_.list())
            committed += file.size_bytes;
    } catch (const StoreError& e) {
        // try_write returns its failures; a directory that cannot be listed
        // is one of them.
        return StoreFailure{e.kind(), e.what()};
    }
    std::lock_guard lock(mutex_);
    if (committed + pending_bytes_ + bytes > quota_bytes_) {
        return StoreFailure{
            StoreErrorKind::disk_full,
            fmt::format("disk full writing \"{}\" (quota {} bytes)", name, quota_bytes_)};
    }
    pending_bytes_ += bytes;
    return std::nullopt;
}

void QuotaStore::release(std::uint64_t bytes) {
    std::lock_guard lock(mutex_);
    pending_bytes_ -= bytes;
}

}  // namespace ferry::harness
