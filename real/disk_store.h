#pragma once
// A Store in one directory, reached only through a filesystem door
// (protocol/filesystem.h): PosixFilesystem on a real disk, where every open
// stays beneath the root and follows no symlink; SimFilesystem in the
// simulator, whose crashes and failing calls then test this very code. Only
// valid names (protocol/names.h) are ever served.
//
// A commit: an upload goes to a temporary file ".ferry-tmp-<instance>-<n>"
// (never a valid name, so never listed); commit() fsyncs it, closes it,
// renames it over the name, fsyncs the directory, and only then returns.
// begin_upload() refuses a name that can never be committed (not allowed,
// or a directory) before anything is written.
//
// Digests: an upload's digest (Upload::set_digest) is set on the temporary
// file as the extended attribute user.ferry.xxh3-128 ("<32 hex digits>
// <size>") before its fsync, so it is durable with the bytes and goes through
// the rename with them, never onto another version. A reader gives it back
// (stored_digest) when its size matches the file's; a file without one gets
// one from keep_digest, on the reader's own descriptor. Where the filesystem
// keeps no xattrs, nothing is kept and readers hash. docs/storage.md argues
// it across crashes and concurrent overwrites.
//
// Leftovers: each open store holds an exclusive lock on a file
// ".ferry-lock-<instance>", which the kernel drops when the process dies,
// however it dies. Opening a store takes the first instance number whose lock
// is free and removes every temporary file whose instance's lock it can take:
// their writer is gone, whatever pids are alive now (a server that restarts
// as pid 1 in a container included). A store closed cleanly removes its lock
// file. docs/protocol.md explains the scheme.
//
// A directory removed while served (rm -r of the root) is noticed: listing,
// uploading and reading then fail with StoreError (io) saying so, rather than
// an empty listing or "no such file" (ferry serve stops on it, exiting 1: README.md).
//
// Thread-safe: the server's connection threads share one DiskStore. Uploads
// and readers use the store's door, so the store must outlive them.

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "ferry/protocol/filesystem.h"
#include "ferry/protocol/store.h"

namespace ferry {

class DiskStore : public Store {
  public:
    /// Serves root, an existing directory, through a PosixFilesystem. Throws
    /// StoreError (io) naming the directory.
    explicit DiskStore(const std::filesystem::path& root);
    /// Serves the directory behind a door. Takes an instance lock and removes
    /// leftovers; throws StoreError (io) when it cannot.
    explicit DiskStore(std::unique_ptr<Filesystem> filesystem);
    ~DiskStore() override;
    DiskStore(const DiskStore&) = delete;
    DiskStore& operator=(const DiskStore&) = delete;

    std::unique_ptr<Upload> begin_upload(std::string_view name) override;
    std::unique_ptr<FileReader> open(std::string_view name) override;
    std::vector<FileInfo> list() override;

    /// This store's instance number (in its lock and temporary files' names).
    std::uint64_t instance() const { return instance_; }
    Filesystem& filesystem() { return *fs_; }

    /// The names DiskStore gives its own files, for tests and checkers.
    static bool is_temporary_name(std::string_view name);
    static bool is_lock_name(std::string_view name);
    /// The extended attribute a file's digest is kept in, and the digest a
    /// value of it gives a reader of a file of size_bytes (none: not a
    /// digest, or one of another size, which readers ignore), for checkers.
    static std::string_view digest_attribute_name();
    static std::optional<std::string> kept_digest(std::string_view attribute_value,
                                                  std::uint64_t size_bytes);

  private:
    void acquire_instance();
    /// Whether file (just locked) is still what lock_name names.
    bool holds_name(FsFile& file, const std::string& lock_name);
    void remove_leftovers();
    void remove_if_writer_gone(std::uint64_t instance, const std::vector<std::string>& temps);
    /// Throws StoreError (name_not_allowed) when name is a directory.
    void check_replaceable(std::string_view name);
    /// Throws StoreError (io) when the store's directory was removed.
    void check_root() const;
    std::string where() const;

    std::unique_ptr<Filesystem> fs_;
    std::unique_ptr<FsFile> lock_;
    std::uint64_t instance_ = 0;
    std::atomic<std::uint64_t> temp_count_{0};
};

}  // namespace ferry
