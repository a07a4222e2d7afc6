#include "real/disk_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define FERRY_HAVE_OPENAT2 1
#endif

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <limits>
#include <string>
#include <system_error>

#include <fmt/core.h>

#include "protocol/names.h"

namespace ferry {

namespace {

constexpr std::string_view temp_prefix = ".ferry-tmp-";

/// Makes each temporary name unique within this process (with the pid: on
/// this machine).
std::atomic<std::uint64_t> temp_counter{0};

#ifdef FERRY_HAVE_OPENAT2
/// Set once openat2(2) turned out to be missing (ENOSYS), so later opens go
/// straight to the openat fallback.
std::atomic<bool> openat2_missing{false};
#endif

std::string error_text(int error) {
    return std::generic_category().message(error);
}

/// A name as it may appear in a message: printable ASCII as is, anything else
/// as \xNN, so an embedded NUL or a terminal escape cannot garble a log.
std::string quote_name(std::string_view name) {
    std::string text = "'";
    for (const char c : name) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7f && c != '\\' && c != '\'') {
            text += c;
        } else {
            text += fmt::format("\\x{:02x}", byte);
        }
    }
    return text + "'";
}

StoreErrorKind write_error_kind(int error) {
    return error == ENOSPC || error == EDQUOT ? StoreErrorKind::disk_full : StoreErrorKind::io;
}

void check_name(std::string_view name) {
    if (!is_valid_name(name)) {
        throw StoreError(StoreErrorKind::name_not_allowed,
                         fmt::format("name not allowed: {} (1-{} bytes of A-Z a-z 0-9 . _ -, "
                                     "not starting with '.')",
                                     quote_name(name), name_bytes_max));
    }
}

/// A temporary file's writer is gone when its pid is not ours and no such
/// process exists. Names that do not parse are treated as stale.
bool temp_file_is_stale(std::string_view name) {
    std::string_view rest = name.substr(temp_prefix.size());
    const auto dash = rest.find('-');
    if (dash == std::string_view::npos)
        return true;
    pid_t pid = 0;
    const auto [end, error] = std::from_chars(rest.data(), rest.data() + dash, pid);
    if (error != std::errc{} || end != rest.data() + dash || pid <= 0)
        return true;
    if (pid == ::getpid())
        return false;
    return ::kill(pid, 0) != 0 && errno == ESRCH;
}

class DiskUpload : public Upload {
  public:
    DiskUpload(int root_fd, int fd, std::string temp_name, std::string name)
        : root_fd_(root_fd), fd_(fd), temp_name_(std::move(temp_name)), name_(std::move(name)) {}
    ~DiskUpload() override { abort(); }

    StoreStatus try_write(std::span<const std::byte> bytes) override {
        if (fd_ < 0)
            return upload_failure(StoreErrorKind::io, "write", "upload already finished");
        while (!bytes.empty()) {
            const ssize_t written = ::write(fd_, bytes.data(), bytes.size());
            if (written < 0) {
                if (errno == EINTR)
                    continue;
                const int failure = errno;
                return upload_failure(write_error_kind(failure), "write", error_text(failure));
            }
            bytes = bytes.subspan(static_cast<std::size_t>(written));
        }
        return std::nullopt;
    }

    StoreStatus try_commit() override {
        if (fd_ < 0)
            return upload_failure(StoreErrorKind::io, "commit", "upload already finished");
        if (::fsync(fd_) != 0)
            return fail_before_rename("fsync");
        const int fd = fd_;
        fd_ = -1;
        if (::close(fd) != 0 && errno != EINTR)
            return fail_before_rename("close");
        if (::renameat(root_fd_, temp_name_.c_str(), root_fd_, name_.c_str()) != 0) {
            return fail_before_rename("rename");
        }
        temp_name_.clear();
        // The rename is durable only once the directory is. Should this fsync
        // fail, the new version stays visible: removing it again could delete
        // a newer version committed meanwhile.
        if (::fsync(root_fd_) != 0) {
            const int failure = errno;
            return upload_failure(write_error_kind(failure), "fsync of the directory after commit",
                                  error_text(failure));
        }
        return std::nullopt;
    }

    void abort() noexcept override {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
        if (!temp_name_.empty()) {
            ::unlinkat(root_fd_, temp_name_.c_str(), 0);
            temp_name_.clear();
        }
    }

  private:
    StoreFailure upload_failure(StoreErrorKind kind, std::string_view call,
                                std::string_view reason) const {
        return StoreFailure{kind,
                            fmt::format("{} of upload {}: {}", call, quote_name(name_), reason)};
    }

    StoreFailure fail_before_rename(std::string_view call) {
        const int failure = errno;
        abort();
        return upload_failure(write_error_kind(failure), call, error_text(failure));
    }

    int root_fd_;
    int fd_;
    std::string temp_name_;  ///< empty once renamed or removed
    std::string name_;
};

class DiskReader : public FileReader {
  public:
    DiskReader(int fd, std::uint64_t size_bytes, std::string name)
        : fd_(fd), size_bytes_(size_bytes), name_(std::move(name)) {}
    ~DiskReader() override { ::close(fd_); }
    DiskReader(const DiskReader&) = delete;
    DiskReader& operator=(const DiskReader&) = delete;

    std::uint64_t size_bytes() const override { return size_bytes_; }

    std::size_t read_at(std::uint64_t offset, std::span<std::byte> buffer) const override {
        if (buffer.empty() ||
            offset >= static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
            return 0;
        }
        for (;;) {
            const ssize_t got =
                ::pread(fd_, buffer.data(), buffer.size(), static_cast<off_t>(offset));
            if (got >= 0)
                return static_cast<std::size_t>(got);
            if (errno != EINTR) {
                throw StoreError(StoreErrorKind::io, fmt::format("read of {} at offset {}: {}",
                                                                 name_, offset, error_text(errno)));
            }
        }
    }

  private:
    int fd_;
    std::uint64_t size_bytes_;
    std::string name_;
};

}  // namespace

void testing::set_disk_store_uses_openat2(bool enabled) {
#ifdef FERRY_HAVE_OPENAT2
    openat2_missing.store(!enabled);
#else
    (void)enabled;
#endif
}

DiskStore::DiskStore(const std::filesystem::path& root) : root_(root) {
    root_fd_ = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (root_fd_ < 0) {
        throw StoreError(StoreErrorKind::io, fmt::format("cannot open store directory '{}': {}",
                                                         root.string(), error_text(errno)));
    }
    try {
        remove_stale_temp_files();
    } catch (...) {
        ::close(root_fd_);
        throw;
    }
}

DiskStore::~DiskStore() {
    ::close(root_fd_);
}

int DiskStore::open_beneath(const std::string& name, int flags, unsigned mode) const {
#ifdef FERRY_HAVE_OPENAT2
    if (!openat2_missing.load(std::memory_order_relaxed)) {
        open_how how{};
        how.flags = static_cast<std::uint64_t>(flags);
        how.mode = (flags & O_CREAT) != 0 ? mode : 0;
        how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS;
        for (int attempt = 0;; ++attempt) {
            const long fd = ::syscall(SYS_openat2, root_fd_, name.c_str(), &how, sizeof how);
            if (fd >= 0)
                return static_cast<int>(fd);
            // EAGAIN: a concurrent rename made the kernel unsure; retry.
            if (errno == EINTR || (errno == EAGAIN && attempt < 16))
                continue;
            if (errno != ENOSYS)
                return -1;
            openat2_missing.store(true, std::memory_order_relaxed);
            break;
        }
    }
#endif
    // Names are single components (is_valid_name), so O_NOFOLLOW on the last
    // one is all that can be followed.
    for (;;) {
        const int fd = ::openat(root_fd_, name.c_str(), flags | O_NOFOLLOW, mode);
        if (fd >= 0 || errno != EINTR)
            return fd;
    }
}

DIR* DiskStore::open_root_listing(const char* verb) const {
    // A descriptor of its own: sharing root_fd_'s offset would race with
    // another thread's listing.
    const int dir_fd = ::openat(root_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* dir = dir_fd < 0 ? nullptr : ::fdopendir(dir_fd);
    if (dir == nullptr) {
        const int failure = errno;
        if (dir_fd >= 0)
            ::close(dir_fd);
        throw StoreError(StoreErrorKind::io, fmt::format("cannot {} store directory '{}': {}", verb,
                                                         root_.string(), error_text(failure)));
    }
    return dir;
}

void DiskStore::remove_stale_temp_files() {
    DIR* dir = open_root_listing("read");
    std::vector<std::string> stale;
    while (const dirent* entry = ::readdir(dir)) {
        const std::string_view name = entry->d_name;
        if (name.starts_with(temp_prefix) && temp_file_is_stale(name))
            stale.emplace_back(name);
    }
    ::closedir(dir);
    for (const auto& name : stale)
        ::unlinkat(root_fd_, name.c_str(), 0);
}

std::unique_ptr<Upload> DiskStore::begin_upload(std::string_view name) {
    check_name(name);
    for (;;) {
        const std::string temp_name =
            fmt::format("{}{}-{}", temp_prefix, ::getpid(), temp_counter.fetch_add(1) + 1);
        const int fd =
            open_beneath(temp_name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0) {
            return std::make_unique<DiskUpload>(root_fd_, fd, temp_name, std::string(name));
        }
        const int failure = errno;
        if (failure == EEXIST)
            continue;  // left by an earlier process with our pid
        throw StoreError(write_error_kind(failure),
                         fmt::format("cannot create a temporary file for {}: {}", quote_name(name),
                                     error_text(failure)));
    }
}

std::unique_ptr<FileReader> DiskStore::open(std::string_view name) {
    check_name(name);
    const std::string path(name);
    // O_NONBLOCK: a FIFO planted in the root must not block the open.
    const int fd = open_beneath(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0);
    if (fd < 0) {
        const int failure = errno;
        // ELOOP: a symlink, which is never followed; EXDEV: it would leave the root.
        if (failure == ENOENT || failure == ELOOP || failure == EXDEV || failure == ENOTDIR) {
            throw StoreError(StoreErrorKind::not_found,
                             fmt::format("no such file: {}", quote_name(name)));
        }
        throw StoreError(StoreErrorKind::io,
                         fmt::format("cannot open {}: {}", quote_name(name), error_text(failure)));
    }
    struct stat info {};
    if (::fstat(fd, &info) != 0) {
        const int failure = errno;
        ::close(fd);
        throw StoreError(StoreErrorKind::io,
                         fmt::format("cannot stat {}: {}", quote_name(name), error_text(failure)));
    }
    if (!S_ISREG(info.st_mode)) {
        ::close(fd);
        throw StoreError(StoreErrorKind::not_found,
                         fmt::format("no such file: {} (not a regular file)", quote_name(name)));
    }
    return std::make_unique<DiskReader>(fd, static_cast<std::uint64_t>(info.st_size),
                                        quote_name(name));
}

std::vector<FileInfo> DiskStore::list() {
    DIR* dir = open_root_listing("list");
    std::vector<FileInfo> files;
    for (;;) {
        errno = 0;
        const dirent* entry = ::readdir(dir);
        if (entry == nullptr)
            break;
        const std::string_view name = entry->d_name;
        if (!is_valid_name(name))
            continue;
        struct stat info {};
        if (::fstatat(::dirfd(dir), entry->d_name, &info, AT_SYMLINK_NOFOLLOW) != 0)
            continue;
        if (!S_ISREG(info.st_mode))
            continue;
        files.push_back(FileInfo{std::string(name), static_cast<std::uint64_t>(info.st_size)});
    }
    const int failure = errno;
    ::closedir(dir);
    if (failure != 0) {
        throw StoreError(StoreErrorKind::io, fmt::format("cannot list store directory '{}': {}",
                                                         root_.string(), error_text(failure)));
    }
    std::sort(files.begin(), files.end(),
              [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
    return files;
}

}  // namespace ferry
