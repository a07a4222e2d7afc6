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

#include "protocol/ferry_client.h"
#include "protocol/store.h"

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

/// Writes a download to a temporary file beside target and renames it over
/// target only on commit(), so a failed or corrupted download leaves no file
/// and never replaces an existing one.
class AtomicFileSink : public ByteSink {
  public:
    /// Creates the temporary file; throws InputError when target's directory
    /// is missing or not writable.
    explicit AtomicFileSink(std::filesystem::path target);
    ~AtomicFileSink() override;  ///< removes the temporary file unless committed
    AtomicFileSink(const AtomicFileSink&) = delete;
    AtomicFileSink& operator=(const AtomicFileSink&) = delete;

    /// Throws std::system_error naming the file (disk full, I/O error).
    void write(std::span<const std::byte> bytes) override;
    /// fsyncs, closes and renames the temporary file over target.
    void commit();

    const std::filesystem::path& target() const { return target_; }

  private:
    void discard() noexcept;

    std::filesystem::path target_;
    std::filesystem::path temp_path_;
    int fd_ = -1;
};

/// Writes a download to a file descriptor (standard output for "-o -").
class FdSink : public ByteSink {
  public:
    explicit FdSink(int fd) : fd_(fd) {}
    void write(std::span<const std::byte> bytes) override;

  private:
    int fd_;
};

}  // namespace ferry::cli
