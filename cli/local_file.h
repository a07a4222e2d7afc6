#pragma once
// Local files for the client commands: a FileReader over a file to upload,
// and the sinks a download writes into (a file replaced atomically, or
// standard output).

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#include "ferry/protocol/ferry_client.h"
#include "ferry/protocol/store.h"

namespace ferry::cli {

/// A local file or path the user named cannot be used: missing, a directory,
/// unreadable. The command exits with exit_usage.
class InputError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// Reads a local regular file with pread, so reads at any offset need no
/// shared file position. The size is fixed when the file is opened.
class LocalFileReader : public FileReader {
  public:
    /// Throws InputError naming the path when it cannot be opened for reading
    /// or is not a regular file.
    explicit LocalFileReader(const std::filesystem::path& path);
    ~LocalFileReader() override;
    LocalFileReader(const LocalFileReader&) = delete;
    LocalFileReader& operator=(const LocalFileReader&) = delete;

    std::uint64_t size_bytes() const override { return size_bytes_; }
    /// Throws StoreError (io) naming the path on a read error.
    std::size_t read_at(std::uint64_t offset, std::span<std::byte> buffer) const override;

  private:
    std::filesystem::path path_;
    int fd_ = -1;
    std::uint64_t size_bytes_ = 0;
};

class RemoveOnInterrupt;

/// Where a download to path goes. A regular file (new, or replaced) is
/// written through a part file and a rename (AtomicFileSink); a symbolic link
/// to one keeps the link and replaces the file it names. What cannot be
/// replaced (a device such as /dev/null, a FIFO, a socket, /dev/stdout) is
/// written straight into, as it arrives (write_through).
struct DownloadTarget {
    std::filesystem::path path;
    bool write_through = false;
};
DownloadTarget resolve_download_target(const std::filesystem::path& path);

/// Opens a target to write straight into (DownloadTarget::write_through);
/// throws InputError naming it when it cannot be opened.
int open_write_through(const std::filesystem::path& path);

/// Writes a download to a temporary file beside target (a part file,
/// ".NAME.ferry-part-XXXXXX") and renames it over target only on commit(), so
/// a failed or corrupted download leaves no file and never replaces an
/// existing one. A replaced file's permission bits carry over to the new one
/// (hard links to the old file keep the old bytes). The part file is locked
/// (flock) for as long as the sink owns it, so reclaim_abandoned_parts can
/// tell it from one whose process was killed.
class AtomicFileSink : public ByteSink {
  public:
    /// Creates the temporary file; throws InputError when target's directory
    /// is missing or not writable. With interrupt, a signal removes the part
    /// file from the moment it exists until it is committed or discarded.
    explicit AtomicFileSink(std::filesystem::path target, RemoveOnInterrupt* interrupt = nullptr);
    ~AtomicFileSink() override;  ///< removes the temporary file unless committed
    AtomicFileSink(const AtomicFileSink&) = delete;
    AtomicFileSink& operator=(const AtomicFileSink&) = delete;

    /// Throws std::system_error naming the file (disk full, I/O error).
    void write(std::span<const std::byte> bytes) override;
    /// fsyncs, closes and renames the temporary file over target.
    void commit();

    const std::filesystem::path& target() const { return target_; }

  private:
    /// One try at creating and locking a part file; false when a reclaimer
    /// removed it before it was locked.
    bool try_create(const std::filesystem::path& directory);
    void discard() noexcept;

    std::filesystem::path target_;
    std::filesystem::path temp_path_;
    RemoveOnInterrupt* interrupt_ = nullptr;
    int fd_ = -1;
    int lock_fd_ = -1;  ///< holds the flock, also across close(fd_) and the rename
};

/// Removes the part files of downloads to target that no process owns any
/// more: ".NAME.ferry-part-XXXXXX" beside target (NAME its file name, XXXXXX
/// six letters and digits), regular files, not locked. A download holds its
/// part file's lock until it is renamed or removed, and the kernel drops the
/// lock when the process dies however it dies, so this never takes a live
/// download's file and always takes a killed one's. Returns how many it
/// removed; files it cannot open or remove are left alone.
std::size_t reclaim_abandoned_parts(const std::filesystem::path& target);

/// Writes a download to a file descriptor (standard output for "-o -").
/// Reads a descriptor (standard input, a pipe) once, to its end: what
/// ferry put - uploads.
class FdSource : public ByteSource {
  public:
    FdSource(int fd, std::string what) : fd_(fd), what_(std::move(what)) {}
    /// Throws StoreError (io) naming what on a read error.
    std::span<const std::byte> next(std::span<std::byte> buffer) override;

  private:
    int fd_;
    std::string what_;
};

class FdSink : public ByteSink {
  public:
    explicit FdSink(int fd) : fd_(fd) {}
    void write(std::span<const std::byte> bytes) override;

  private:
    int fd_;
};

}  // namespace ferry::cli
