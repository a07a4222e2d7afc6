#pragma once
// The Store interface: where a server keeps its files. The protocol streams
// through it a chunk at a time, so memory per transfer stays O(chunk).
//
// Atomicity is the Store's promise: an upload is invisible (not listed, not
// openable) until commit() succeeds, and commit() succeeds only once the data
// is durable. An upload that is aborted, or destroyed without commit, or whose
// write or commit failed, leaves nothing behind and the name's old content in
// place, with one exception a store must flag: a commit that failed after
// the new version replaced the old (new_version_visible, below).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace ferry {

enum class StoreErrorKind {
    not_found,         ///< no file of that name
    name_not_allowed,  ///< the name fails is_valid_name()
    disk_full,         ///< no space left for the data
    io,                ///< any other failure of the medium
};

std::string_view to_string(StoreErrorKind kind);

/// Why an upload's write or commit failed, returned rather than thrown: a
/// full disk is an answer the server turns into an ERR reply, and under the
/// explorer's store faults a throw would cost more than the whole transfer.
struct StoreFailure {
    StoreErrorKind kind = StoreErrorKind::io;
    std::string message;
    /// From try_commit only: the new version already replaced the old one
    /// and is visible, whole, but the store could not make that durable (the
    /// directory's fsync after the rename failed). Until a crash readers see
    /// the new version; after one, the name may hold either version. Taking
    /// the new version back out could remove a newer commit, so it stays.
    bool new_version_visible = false;
};

/// Nothing when the call succeeded, otherwise why it failed.
using StoreStatus = std::optional<StoreFailure>;

class StoreError : public std::runtime_error {
  public:
    StoreError(StoreErrorKind kind, const std::string& message)
        : std::runtime_error(message), kind_(kind) {}
    explicit StoreError(const StoreFailure& failure) : StoreError(failure.kind, failure.message) {}
    StoreErrorKind kind() const { return kind_; }

  private:
    StoreErrorKind kind_;
};

struct FileInfo {
    std::string name;
    std::uint64_t size_bytes = 0;

    friend bool operator==(const FileInfo&, const FileInfo&) = default;
};

/// A file being written. Destroying it without commit() aborts it.
///
/// Implementations provide try_write and try_commit, which return a failure
/// and never throw StoreError (the server turns what they return into an ERR
/// reply); write and commit are the same calls throwing it as a StoreError.
class Upload {
  public:
    virtual ~Upload() = default;
    /// Appends bytes; fails with disk_full or io.
    [[nodiscard]] virtual StoreStatus try_write(std::span<const std::byte> bytes) = 0;
    /// Makes the file visible under its name, replacing any file of that name,
    /// atomically and durably. On failure the old content stays and the
    /// upload is discarded, unless the failure says new_version_visible.
    [[nodiscard]] virtual StoreStatus try_commit() = 0;
    /// The digest (32 hex digits, protocol/digest.h) of every byte written,
    /// for the store to keep with the file when it commits, so a reader can
    /// give it back (FileReader::stored_digest) without hashing the file.
    /// Called after the last write, before try_commit. A store that keeps no
    /// digests ignores it (the default).
    virtual void set_digest(std::string_view hex_digits) { (void)hex_digits; }
    void write(std::span<const std::byte> bytes) { throw_if_failed(try_write(bytes)); }
    void commit() { throw_if_failed(try_commit()); }
    /// Discards what was written. Idempotent; never throws.
    virtual void abort() noexcept = 0;

  private:
    static void throw_if_failed(const StoreStatus& status) {
        if (status)
            throw StoreError(*status);
    }
};

/// A committed file opened for reading. It keeps reading the version that was
/// opened even if the name is replaced meanwhile.
class FileReader {
  public:
    virtual ~FileReader() = default;
    virtual std::uint64_t size_bytes() const = 0;
    /// Reads up to buffer.size() bytes at offset; returns how many (0 at or
    /// past the end). Throws StoreError (io).
    virtual std::size_t read_at(std::uint64_t offset, std::span<std::byte> buffer) const = 0;
    /// Up to max_bytes at offset in place, without a copy, for a reader that
    /// holds its bytes in memory; valid as long as the reader. Empty when the
    /// reader has no such view (the default) or at the end: callers then use
    /// read_at.
    virtual std::span<const std::byte> view_at(std::uint64_t offset, std::size_t max_bytes) const {
        (void)offset;
        (void)max_bytes;
        return {};
    }
    /// The digest kept with the version opened (Upload::set_digest, or
    /// keep_digest by an earlier reader), which the store promises describes
    /// its bytes; none when it keeps none for it (the default), and the
    /// caller hashes the file.
    virtual std::optional<std::string> stored_digest() const { return std::nullopt; }
    /// Keeps hex_digits, the digest of every byte of the version opened, as
    /// its stored_digest for later readers. Best effort: a store that cannot
    /// keep it says nothing, and the next reader hashes again. Never throws.
    virtual void keep_digest(std::string_view hex_digits) noexcept { (void)hex_digits; }
    /// The kernel's descriptor of the version opened, for a connection that
    /// sends straight from it (sendfile(2)); -1 when there is none (the
    /// default).
    virtual int descriptor() const { return -1; }
};

class Store {
  public:
    virtual ~Store() = default;
    /// Starts writing a new version of name. Throws StoreError
    /// (name_not_allowed, disk_full, io). It refuses, before anything is
    /// written, every name the store could never commit: one it does not
    /// allow, and one taken by something an upload cannot replace (a
    /// directory: name_not_allowed). So the server calls it before reading a
    /// PUT's body, and refuses such a PUT without reading it.
    virtual std::unique_ptr<Upload> begin_upload(std::string_view name) = 0;
    /// Opens the committed file name. Throws StoreError (not_found,
    /// name_not_allowed, io).
    virtual std::unique_ptr<FileReader> open(std::string_view name) = 0;
    /// open, with its failure returned rather than thrown: a GET of a missing
    /// file is an ordinary answer (and, under an explorer, a common one).
    /// The default calls open; a store may answer without the throw.
    virtual std::variant<std::unique_ptr<FileReader>, StoreFailure> try_open(std::string_view name);
    /// Every committed file, sorted by name.
    virtual std::vector<FileInfo> list() = 0;
};

}  // namespace ferry
