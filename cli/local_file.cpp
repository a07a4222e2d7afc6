// Local file reading and atomic download writing; see local_file.h.

#include "cli/local_file.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <string_view>
#include <system_error>

#include <fmt/core.h>

#include "cli/interrupt.h"

namespace ferry::cli {

namespace {

std::string errno_text(int error) {
    return std::generic_category().message(error);
}

/// Writes all of bytes to fd, retrying short writes and EINTR.
void write_all(int fd, std::span<const std::byte> bytes, const std::string& what) {
    while (!bytes.empty()) {
        const ssize_t n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw std::system_error(errno, std::generic_category(), "writing " + what);
        }
        bytes = bytes.subspan(static_cast<std::size_t>(n));
    }
}

}  // namespace

LocalFileReader::LocalFileReader(const std::filesystem::path& path) : path_(path) {
    fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) {
        throw InputError(fmt::format("cannot read {}: {}", path.string(), errno_text(errno)));
    }
    struct stat info {};
    if (::fstat(fd_, &info) != 0) {
        const int error = errno;
        ::close(fd_);
        throw InputError(fmt::format("cannot read {}: {}", path.string(), errno_text(error)));
    }
    if (!S_ISREG(info.st_mode)) {
        ::close(fd_);
        const bool stream =
            S_ISFIFO(info.st_mode) || S_ISCHR(info.st_mode) || S_ISSOCK(info.st_mode);
        throw InputError(fmt::format("cannot send {}: not a regular file{}", path.string(),
                                     stream ? "; to upload a pipe or a device, read it from "
                                              "standard input: ferry put - --as NAME < ..."
                                            : ""));
    }
    size_bytes_ = static_cast<std::uint64_t>(info.st_size);
    // The file is read once from start to end (twice for ferry/1: digest,
    // then body); tell the kernel to read ahead generously.
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
}

LocalFileReader::~LocalFileReader() {
    if (fd_ >= 0)
        ::close(fd_);
}

std::size_t LocalFileReader::read_at(std::uint64_t offset, std::span<std::byte> buffer) const {
    std::size_t done = 0;
    while (done < buffer.size() && offset + done < size_bytes_) {
        const ssize_t n = ::pread(fd_, buffer.data() + done, buffer.size() - done,
                                  static_cast<off_t>(offset + done));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw StoreError(StoreErrorKind::io,
                             fmt::format("reading {}: {}", path_.string(), errno_text(errno)));
        }
        if (n == 0)
            break;  // the file shrank under us; the digest will tell
        done += static_cast<std::size_t>(n);
    }
    return done;
}

namespace {

std::string part_file_prefix(const std::filesystem::path& target) {
    return fmt::format(".{}.ferry-part-", target.filename().string());
}

constexpr std::size_t part_file_suffix_chars = 6;  // mkostemp's XXXXXX

bool is_part_file_of(std::string_view entry, std::string_view prefix) {
    if (!entry.starts_with(prefix) || entry.size() != prefix.size() + part_file_suffix_chars)
        return false;
    return std::all_of(entry.begin() + static_cast<std::ptrdiff_t>(prefix.size()), entry.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; });
}

/// Whether fd is still the file at path (not removed or replaced).
bool still_at(int fd, const std::filesystem::path& path) {
    struct stat open_file {};
    struct stat named {};
    return ::fstat(fd, &open_file) == 0 && ::lstat(path.c_str(), &named) == 0 &&
           open_file.st_dev == named.st_dev && open_file.st_ino == named.st_ino;
}

/// Takes the part file at path when no process holds its lock.
bool reclaim_if_abandoned(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return false;
    struct stat info {};
    bool removed = false;
    if (::fstat(fd, &info) == 0 && S_ISREG(info.st_mode) && ::flock(fd, LOCK_EX | LOCK_NB) == 0 &&
        still_at(fd, path)) {
        removed = ::unlink(path.c_str()) == 0;
    }
    ::close(fd);
    return removed;
}

}  // namespace

std::size_t reclaim_abandoned_parts(const std::filesystem::path& target) {
    std::filesystem::path directory = target.parent_path();
    if (directory.empty())
        directory = ".";
    const std::string prefix = part_file_prefix(target);
    std::error_code error;
    std::filesystem::directory_iterator entries(directory, error);
    std::size_t removed = 0;
    for (; !error && entries != std::filesystem::directory_iterator(); entries.increment(error)) {
        const std::string entry = entries->path().filename().string();
        if (is_part_file_of(entry, prefix) && reclaim_if_abandoned(directory / entry))
            ++removed;
    }
    return removed;
}

DownloadTarget resolve_download_target(const std::filesystem::path& path) {
    struct stat followed {};
    if (::stat(path.c_str(), &followed) != 0)
        return DownloadTarget{path, false};  // nothing there yet: a new file
    if (!S_ISREG(followed.st_mode) && !S_ISDIR(followed.st_mode))
        return DownloadTarget{path, true};
    struct stat named {};
    if (::lstat(path.c_str(), &named) == 0 && S_ISLNK(named.st_mode)) {
        std::error_code error;
        const std::filesystem::path resolved = std::filesystem::canonical(path, error);
        if (!error)
            return DownloadTarget{resolved, false};
    }
    return DownloadTarget{path, false};
}

int open_write_through(const std::filesystem::path& path) {
    const int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        throw InputError(fmt::format("cannot write {}: {}", path.string(), errno_text(errno)));
    return fd;
}

AtomicFileSink::AtomicFileSink(std::filesystem::path target, RemoveOnInterrupt* interrupt)
    : target_(std::move(target)), interrupt_(interrupt) {
    std::filesystem::path directory = target_.parent_path();
    if (directory.empty())
        directory = ".";
    // A reclaimer can take the file between its creation and its lock;
    // then make another. It only takes unlocked files, so this ends.
    for (int attempt = 0; attempt < 16; ++attempt) {
        if (try_create(directory))
            break;
    }
    if (fd_ < 0) {
        throw InputError(
            fmt::format("cannot write {}: its part file keeps disappearing", target_.string()));
    }
    // mkostemp creates the file 0600; give it the mode of the file it
    // replaces, or the one a new file would get.
    struct stat replaced {};
    if (::stat(target_.c_str(), &replaced) == 0 && S_ISREG(replaced.st_mode)) {
        ::fchmod(fd_, replaced.st_mode & 07777);
    } else {
        const mode_t mask = ::umask(0);
        ::umask(mask);
        ::fchmod(fd_, 0666 & ~mask);
    }
}

bool AtomicFileSink::try_create(const std::filesystem::path& directory) {
    // Hidden, so a half-written download does not look like a finished one.
    std::string pattern = (directory / (part_file_prefix(target_) + "XXXXXX")).string();
    const int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd < 0) {
        throw InputError(fmt::format("cannot write {}: {}", target_.string(), errno_text(errno)));
    }
    if (interrupt_)
        interrupt_->arm(pattern);
    // The lock lives on a descriptor of its own, so commit can close the
    // data descriptor (and see its errors) before the rename.
    const int lock_fd = ::open(pattern.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    int locked = -1;
    if (lock_fd >= 0) {
        do {
            locked = ::flock(lock_fd, LOCK_EX);
        } while (locked != 0 && errno == EINTR);
    }
    // Where flock is not supported, there is no lock and nothing reclaims.
    if (lock_fd < 0 || (locked == 0 && !still_at(lock_fd, pattern))) {
        if (interrupt_)
            interrupt_->disarm();
        ::close(fd);
        if (lock_fd >= 0)
            ::close(lock_fd);
        return false;
    }
    fd_ = fd;
    lock_fd_ = lock_fd;
    temp_path_ = pattern;
    return true;
}

AtomicFileSink::~AtomicFileSink() {
    discard();
}

void AtomicFileSink::write(std::span<const std::byte> bytes) {
    write_all(fd_, bytes, temp_path_.string());
}

void AtomicFileSink::commit() {
    if (::fsync(fd_) != 0) {
        throw std::system_error(errno, std::generic_category(), "syncing " + temp_path_.string());
    }
    const int fd = fd_;
    fd_ = -1;
    if (::close(fd) != 0) {
        const int error = errno;
        discard();
        throw std::system_error(error, std::generic_category(), "closing " + target_.string());
    }
    if (::rename(temp_path_.c_str(), target_.c_str()) != 0) {
        const int error = errno;
        discard();
        throw std::system_error(error, std::generic_category(), "renaming to " + target_.string());
    }
    temp_path_.clear();
    if (interrupt_)
        interrupt_->disarm();
    ::close(lock_fd_);
    lock_fd_ = -1;
}

void AtomicFileSink::discard() noexcept {
    if (fd_ >= 0) {
        ::close(fd_);
        fd_ = -1;
    }
    if (!temp_path_.empty()) {
        ::unlink(temp_path_.c_str());
        temp_path_.clear();
    }
    if (interrupt_)
        interrupt_->disarm();
    if (lock_fd_ >= 0) {
        ::close(lock_fd_);
        lock_fd_ = -1;
    }
}

std::span<const std::byte> FdSource::next(std::span<std::byte> buffer) {
    // A pipe hands over what its writer wrote so far: read until the buffer
    // is full or the input ends, so frames are whole chunks.
    std::size_t filled = 0;
    while (filled < buffer.size()) {
        const ssize_t got = ::read(fd_, buffer.data() + filled, buffer.size() - filled);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            throw StoreError(StoreErrorKind::io,
                             fmt::format("cannot read {}: {}", what_, std::strerror(errno)));
        }
        if (got == 0)
            break;
        filled += static_cast<std::size_t>(got);
    }
    return buffer.first(filled);
}

void FdSink::write(std::span<const std::byte> bytes) {
    write_all(fd_, bytes, "standard output");
}

}  // namespace ferry::cli
