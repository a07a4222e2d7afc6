#pragma once
// An in-memory Store: a map from name to immutable bytes. Thread-safe, so the
// real server's tests can use it; readers hold a snapshot of the bytes.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ferry/protocol/store.h"

namespace ferry {

class MemoryStore : public Store {
  public:
    /// capacity_bytes: total bytes of committed files plus uploads in progress
    /// past which writes fail with disk_full; 0 means unlimited.
    explicit MemoryStore(std::uint64_t capacity_bytes = 0) : capacity_bytes_(capacity_bytes) {}

    std::unique_ptr<Upload> begin_upload(std::string_view name) override;
    std::unique_ptr<FileReader> open(std::string_view name) override;
    std::vector<FileInfo> list() override;

    /// Test helpers: put a committed file directly, and read one whole.
    void put_file(const std::string& name, std::vector<std::byte> bytes);
    std::optional<std::vector<std::byte>> file(const std::string& name) const;
    /// Bytes held by uploads that are neither committed nor aborted.
    std::uint64_t pending_bytes() const;

  private:
    class MemoryUpload;
    using Bytes = std::vector<std::byte>;

    std::uint64_t used_bytes_locked() const { return committed_bytes_ + pending_bytes_; }
    void replace_locked(const std::string& name, std::shared_ptr<const Bytes> bytes);

    std::uint64_t capacity_bytes_;
    mutable std::mutex mutex_;
    std::map<std::string, std::shared_ptr<const Bytes>, std::less<>> files_;
    std::uint64_t committed_bytes_ = 0;
    std::uint64_t pending_bytes_ = 0;
};

}  // namespace ferry
