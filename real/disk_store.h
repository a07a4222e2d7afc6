#pragma once
// A Store in one directory on disk, confined to it: every open is relative to
// the root's directory descriptor, no symlink is followed (openat2 with
// RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where the kernel has it, O_NOFOLLOW
// otherwise), and only valid names (protocol/names.h) are ever touched.
//
// An upload goes to a unique temporary file ".ferry-tmp-*" (never a valid
// name, so never listed), which commit() fsyncs, renames into place, and
// follows with an fsync of the directory. Temporary files left by a crash are
// removed when the store is opened.
//
// Thread-safe: the server's connection threads share one DiskStore. Uploads
// and readers use the store's root descriptor, so the store must outlive them.

#include <dirent.h>

#include <filesystem>

#include "protocol/store.h"

namespace ferry {

class DiskStore : public Store {
  public:
    /// Opens root, which must be an existing directory. Throws StoreError (io)
    /// naming the directory.
    explicit DiskStore(const std::filesystem::path& root);
    ~DiskStore() override;
    DiskStore(const DiskStore&) = delete;
    DiskStore& operator=(const DiskStore&) = delete;

    std::unique_ptr<Upload> begin_upload(std::string_view name) override;
    std::unique_ptr<FileReader> open(std::string_view name) override;
    std::vector<FileInfo> list() override;

    const std::filesystem::path& root() const { return root_; }

  private:
    /// Opens name (one path component) relative to the root, following no
    /// symlink and never leaving the root. Returns the descriptor or -1 with
    /// errno set.
    int open_beneath(const std::string& name, int flags, unsigned mode) const;
    void remove_stale_temp_files();
    /// A fresh directory stream over the root; throws StoreError (io) saying
    /// what it could not do ("read", "list").
    DIR* open_root_listing(const char* verb) const;

    std::filesystem::path root_;
    int root_fd_ = -1;
};

namespace testing {
/// For tests of the fallback on kernels without openat2(2): while false,
/// DiskStore opens with openat and O_NOFOLLOW only. Not for production use.
void set_disk_store_uses_openat2(bool enabled);
}  // namespace testing

}  // namespace ferry
