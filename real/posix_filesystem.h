#pragma once
// The filesystem door to the kernel (mirrors sim/sim_filesystem.h): one
// directory, held open by a descriptor, and every call relative to it. No
// symlink is followed and no path leaves the directory: opens use openat2(2)
// with RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where the kernel has it, and
// openat with O_NOFOLLOW otherwise; a name that is not one path component is
// refused with EINVAL before any call. Locks are flock(2) locks, which belong
// to the open file, so two stores in one process exclude each other too, and
// the kernel drops them when the process dies.
//
// Thread-safe: every call is one or a few system calls on descriptors of its
// own (a listing opens the directory afresh).

#include <filesystem>
#include <memory>

#include "ferry/protocol/filesystem.h"

namespace ferry {

class PosixFilesystem final : public Filesystem {
  public:
    /// Opens root, which must be an existing directory; an errno otherwise.
    static FsResult<std::unique_ptr<PosixFilesystem>> open_root(const std::filesystem::path& root);
    ~PosixFilesystem() override;
    PosixFilesystem(const PosixFilesystem&) = delete;
    PosixFilesystem& operator=(const PosixFilesystem&) = delete;

    FsResult<std::unique_ptr<FsFile>> open(std::string_view name, FsOpenMode mode) override;
    FsResult<FsStat> stat(std::string_view name) override;
    FsResult<std::vector<std::string>> list() override;
    int rename(std::string_view from, std::string_view to) override;
    int unlink(std::string_view name) override;
    int sync_directory() override;
    std::string describe() const override { return root_.string(); }
    /// fstat(2) of the directory's descriptor: a link count of 0.
    bool removed() const override;

    const std::filesystem::path& root() const { return root_; }

  private:
    PosixFilesystem(std::filesystem::path root, int root_fd)
        : root_(std::move(root)), root_fd_(root_fd) {}
    /// Opens name beneath the root, following no symlink; the descriptor or
    /// -1 with errno set.
    int open_beneath(const std::string& name, int flags, unsigned mode) const;

    std::filesystem::path root_;
    int root_fd_;
};

namespace testing {
/// For tests of the fallback on kernels without openat2(2): while false,
/// PosixFilesystem opens with openat and O_NOFOLLOW only. Not for production use.
void set_posix_filesystem_uses_openat2(bool enabled);
}  // namespace testing

}  // namespace ferry
