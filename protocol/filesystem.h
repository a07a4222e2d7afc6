#pragma once
// The filesystem door: every filesystem call a store makes goes through a
// Filesystem, one directory whose entries are addressed by single-component
// names. real/posix_filesystem.h is the door to the kernel (openat2 with
// RESOLVE_BENEATH); sim/sim_filesystem.h a simulated disk with a page cache,
// crashes and injected failures; real/faulty_filesystem.h fails the calls of
// any door on request. So the same store code (real/disk_store.h) runs on a
// real disk and under the simulator's crashes.
//
// The contract, which both doors honour and the simulated one exercises:
// - Every call returns an errno value on failure (EIO, ENOSPC, ENOENT, ...)
//   and never throws; 0 means success. Any call may fail with EIO.
// - write() appends some of the bytes, at least one unless given none, and
//   returns how many: a short write is normal (the disk filled part way).
// - What is written is in a page cache until sync(): only sync() of the file
//   makes its data durable, and only sync_directory() makes the directory's
//   entries (creations, renames, unlinks) durable. A crash keeps what is
//   durable and may keep any of the rest that the filesystem could have
//   written back (sim/sim_filesystem.h says exactly what).
// - rename() replaces its target atomically (a reader sees the old file or
//   the new one) unless the target is a directory.
// - try_lock() takes an exclusive lock on the file, held until the handle is
//   closed or its process dies; it never waits.
// - An attribute (set_attribute, get_attribute: an extended attribute such as
//   "user.ferry.xxh3") belongs to the file, not its name: it follows the file
//   through a rename, and a file renamed over another does not inherit the
//   other's. Setting one is atomic (a reader sees the old value or the new),
//   and it is durable once the file's sync() returns after it; a crash before
//   then may keep it or not. A filesystem without them fails with ENOTSUP.

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace ferry {

/// A value or an errno: error == 0 means value holds the result.
template <typename T>
struct FsResult {
    T value{};
    int error = 0;

    bool ok() const { return error == 0; }
};

enum class FsEntryType { regular, directory, symlink, other };

struct FsStat {
    FsEntryType type = FsEntryType::regular;
    std::uint64_t size_bytes = 0;
    /// Which file this is: equal for two names (or handles) of one file.
    std::uint64_t file_id = 0;
};

/// The calls of the door, for fault plans and traces that name one.
enum class FsCall {
    open,
    write,
    read,
    sync,
    stat,
    lock,
    close,
    list,
    rename,
    unlink,
    sync_directory,
    get_attribute,
    set_attribute,
};
inline constexpr std::size_t fs_call_count = 13;

/// "open", "write", ... "sync_directory", "get_attribute", "set_attribute".
std::string_view to_string(FsCall call);
/// The call named so by to_string; none for any other text.
std::optional<FsCall> fs_call_named(std::string_view name);

/// What the door accepts as a name: one path component, so not empty, not
/// "." or "..", and without '/' or NUL. Anything else fails with EINVAL.
inline bool is_one_path_component(std::string_view name) {
    return !name.empty() && name != "." && name != ".." &&
           name.find_first_of(std::string_view("/\0", 2)) == std::string_view::npos;
}

/// How open() opens a name.
enum class FsOpenMode {
    read,        ///< an existing file, read-only; never blocks (a FIFO is not waited on)
    create_new,  ///< a new empty file, write-only; EEXIST if the name is taken
    lock,        ///< for try_lock(): read-write, created (empty) if missing
};

/// An open file. Destroying it closes it (any error is lost: call close()
/// first to see one).
class FsFile {
  public:
    virtual ~FsFile() = default;
    /// Appends bytes: how many were taken (at least one unless bytes is
    /// empty), or ENOSPC, EDQUOT, EIO, ...
    virtual FsResult<std::size_t> write(std::span<const std::byte> bytes) = 0;
    /// Up to buffer.size() bytes at offset; 0 at or past the end.
    virtual FsResult<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) = 0;
    /// fsync(2): the file's data and size are durable once it returns 0.
    virtual int sync() = 0;
    virtual FsResult<FsStat> stat() = 0;
    /// An exclusive lock, or EWOULDBLOCK if another open file holds it.
    virtual int try_lock() = 0;
    /// Closes; later calls fail with EBADF. A failure may mean written data
    /// was lost.
    virtual int close() = 0;
    /// The value of the file's attribute name: ENODATA when it has none,
    /// ENOTSUP when the filesystem keeps none (the default).
    virtual FsResult<std::string> get_attribute(std::string_view name) {
        (void)name;
        return {{}, ENOTSUP};
    }
    /// Sets the file's attribute name to value, replacing any: 0, or ENOTSUP
    /// (the default), ENOSPC, EIO, ... Works on a file opened for reading too.
    virtual int set_attribute(std::string_view name, std::string_view value) {
        (void)name;
        (void)value;
        return ENOTSUP;
    }
    /// The kernel's descriptor of the file, for sendfile(2); -1 when there is
    /// none (a simulated file) or the door must see every read (the default).
    virtual int descriptor() const { return -1; }
};

class Filesystem {
  public:
    virtual ~Filesystem() = default;
    /// Opens name, never following a symlink and never leaving the directory.
    virtual FsResult<std::unique_ptr<FsFile>> open(std::string_view name, FsOpenMode mode) = 0;
    /// The entry name, without following a symlink.
    virtual FsResult<FsStat> stat(std::string_view name) = 0;
    /// Every entry's name ("." and ".." left out), in no particular order.
    virtual FsResult<std::vector<std::string>> list() = 0;
    virtual int rename(std::string_view from, std::string_view to) = 0;
    virtual int unlink(std::string_view name) = 0;
    /// fsync(2) of the directory: its entries are durable once it returns 0.
    virtual int sync_directory() = 0;
    /// The directory, for messages ("/srv/files", "sim:disk").
    virtual std::string describe() const = 0;
    /// Whether the directory itself is gone: removed (its last name unlinked)
    /// while open. Its entries then read as none and nothing can be created.
    virtual bool removed() const { return false; }
};

}  // namespace ferry
