// Local file reading and atomic download writing; see local_file.h.

#include "cli/local_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <fmt/core.h>

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
        throw InputError(fmt::format("cannot send {}: not a regular file", path.string()));
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

AtomicFileSink::AtomicFileSink(std::filesystem::path target) : target_(std::move(target)) {
    std::filesystem::path directory = target_.parent_path();
    if (directory.empty())
        directory = ".";
    // Hidden, so a half-written download does not look like a finished one.
    std::string pattern =
        (directory / fmt::format(".{}.ferry-part-XXXXXX", target_.filename().string())).string();
    fd_ = ::mkostemp(pattern.data(), O_CLOEXEC);
    if (fd_ < 0) {
        throw InputError(fmt::format("cannot write {}: {}", target_.string(), errno_text(errno)));
    }
    temp_path_ = pattern;
    // mkostemp creates the file 0600; give it the mode a new file would get.
    const mode_t mask = ::umask(0);
    ::umask(mask);
    ::fchmod(fd_, 0666 & ~mask);
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
        ::unlink(temp_path_.c_str());
        temp_path_.clear();
        throw std::system_error(error, std::generic_category(), "closing " + target_.string());
    }
    if (::rename(temp_path_.c_str(), target_.c_str()) != 0) {
        const int error = errno;
        ::unlink(temp_path_.c_str());
        temp_path_.clear();
        throw std::system_error(error, std::generic_category(), "renaming to " + target_.string());
    }
    temp_path_.clear();
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
}

void FdSink::write(std::span<const std::byte> bytes) {
    write_all(fd_, bytes, "standard output");
}

}  // namespace ferry::cli
