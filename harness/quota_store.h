#pragma once
// A Store decorator with a byte quota, so the real backend can play a full
// disk without filling the machine's: writes that would take committed plus
// in-progress bytes past the quota fail with disk_full.

#include <cstdint>
#include <memory>
#include <mutex>

#include "ferry/protocol/store.h"

namespace ferry::harness {

class QuotaStore : public Store {
  public:
    QuotaStore(Store& inner, std::uint64_t quota_bytes)
        : inner_(inner), quota_bytes_(quota_bytes) {}

    std::unique_ptr<Upload> begin_upload(std::string_view name) override;
    std::unique_ptr<FileReader> open(std::string_view name) override { return inner_.open(name); }
    std::vector<FileInfo> list() override { return inner_.list(); }

  private:
    class QuotaUpload;
    /// Reserves bytes for an upload; fails with disk_full past the quota, or
    /// with the inner store's error when it cannot list its files.
    StoreStatus reserve(std::uint64_t bytes, std::string_view name);
    void release(std::uint64_t bytes);

    Store& inner_;
    std::uint64_t quota_bytes_;
    std::mutex mutex_;
    std::uint64_t pending_bytes_ = 0;
};

}  // namespace ferry::harness
