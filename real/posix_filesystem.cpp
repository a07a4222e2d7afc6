#include "ferry/real/posix_filesystem.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#if __has_include(<linux/openat2.h>)
#include <linux/openat2.h>
#define FERRY_HAVE_OPENAT2 1
#endif

#include <atomic>
#include <cerrno>
#include <limits>
#include <string>

namespace ferry {

namespace {

#ifdef FERRY_HAVE_OPENAT2
/// Set once openat2(2) turned out to be missing (ENOSYS), so later opens go
/// straight to the openat fallback.
std::atomic<bool> openat2_missing{false};
#endif

FsStat to_fs_stat(const struct stat& info) {
    FsStat result;
    if (S_ISREG(info.st_mode)) {
        result.type = FsEntryType::regular;
    } else if (S_ISDIR(info.st_mode)) {
        result.type = FsEntryType::directory;
    } else if (S_ISLNK(info.st_mode)) {
        result.type = FsEntryType::symlink;
    } else {
        result.type = FsEntryType::other;
    }
    result.size_bytes = static_cast<std::uint64_t>(info.st_size);
    result.file_id = static_cast<std::uint64_t>(info.st_ino);
    return result;
}

class PosixFile final : public FsFile {
  public:
    explicit PosixFile(int fd) : fd_(fd) {}
    ~PosixFile() override { close(); }
    PosixFile(const PosixFile&) = delete;
    PosixFile& operator=(const PosixFile&) = delete;

    FsResult<std::size_t> write(std::span<const std::byte> bytes) override {
        if (bytes.empty())
            return {0, 0};
        for (;;) {
            const ssize_t written = ::write(fd_, bytes.data(), bytes.size());
            if (written >= 0)
                return {static_cast<std::size_t>(written), 0};
            if (errno != EINTR)
                return {0, errno};
        }
    }

    FsResult<std::size_t> read_at(std::uint64_t offset, std::span<std::byte> buffer) override {
        if (buffer.empty() ||
            offset >= static_cast<std::uint64_t>(std::numeric_limits<off_t>::max())) {
            return {0, 0};
        }
        for (;;) {
            const ssize_t got =
                ::pread(fd_, buffer.data(), buffer.size(), static_cast<off_t>(offset));
            if (got >= 0)
                return {static_cast<std::size_t>(got), 0};
            if (errno != EINTR)
                return {0, errno};
        }
    }

    int sync() override { return ::fsync(fd_) == 0 ? 0 : errno; }

    FsResult<FsStat> stat() override {
        struct stat info {};
        if (::fstat(fd_, &info) != 0)
            return {{}, errno};
        return {to_fs_stat(info), 0};
    }

    int try_lock() override {
        for (;;) {
            if (::flock(fd_, LOCK_EX | LOCK_NB) == 0)
                return 0;
            if (errno != EINTR)
                return errno == EAGAIN ? EWOULDBLOCK : errno;
        }
    }

    int close() override {
        if (fd_ < 0)
            return EBADF;
        const int fd = fd_;
        fd_ = -1;
        // EINTR: on Linux the descriptor is closed all the same.
        return ::close(fd) == 0 || errno == EINTR ? 0 : errno;
    }

    FsResult<std::string> get_attribute(std::string_view name) override {
        // Values ferry sets are short; a longer one is not ferry's (ERANGE).
        char value[256];
        const std::string key(name);
        const ssize_t got = ::fgetxattr(fd_, key.c_str(), value, sizeof value);
        if (got < 0)
            return {{}, errno};  // ENODATA: none set
        return {std::string(value, static_cast<std::size_t>(got)), 0};
    }

    int set_attribute(std::string_view name, std::string_view value) override {
        const std::string key(name);
        return ::fsetxattr(fd_, key.c_str(), value.data(), value.size(), 0) == 0 ? 0 : errno;
    }

    int descriptor() const override { return fd_; }

  private:
    int fd_;
};

}  // namespace

void testing::set_posix_filesystem_uses_openat2(bool enabled) {
#ifdef FERRY_HAVE_OPENAT2
    openat2_missing.store(!enabled);
#else
    (void)enabled;
#endif
}

FsResult<std::unique_ptr<PosixFilesystem>> PosixFilesystem::open_root(
    const std::filesystem::path& root) {
    const int fd = ::open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return {nullptr, errno};
    return {std::unique_ptr<PosixFilesystem>(new PosixFilesystem(root, fd)), 0};
}

PosixFilesystem::~PosixFilesystem() {
    ::close(root_fd_);
}

bool PosixFilesystem::removed() const {
    struct stat info {};
    return ::fstat(root_fd_, &info) == 0 && info.st_nlink == 0;
}

int PosixFilesystem::open_beneath(const std::string& name, int flags, unsigned mode) const {
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
    // Names are single components, so O_NOFOLLOW on the last one is all that
    // can be followed.
    for (;;) {
        const int fd = ::openat(root_fd_, name.c_str(), flags | O_NOFOLLOW, mode);
        if (fd >= 0 || errno != EINTR)
            return fd;
    }
}

FsResult<std::unique_ptr<FsFile>> PosixFilesystem::open(std::string_view name, FsOpenMode mode) {
    if (!is_one_path_component(name))
        return {nullptr, EINVAL};
    int flags = O_CLOEXEC | O_NOFOLLOW;
    switch (mode) {
        case FsOpenMode::read:
            // O_NONBLOCK: a FIFO planted in the root must not block the open.
            flags |= O_RDONLY | O_NONBLOCK | O_NOCTTY;
            break;
        case FsOpenMode::create_new:
            flags |= O_WRONLY | O_CREAT | O_EXCL;
            break;
        case FsOpenMode::lock:
            flags |= O_RDWR | O_CREAT | O_NONBLOCK | O_NOCTTY;
            break;
    }
    const int fd = open_beneath(std::string(name), flags, 0644);
    if (fd < 0)
        return {nullptr, errno};
    return {std::make_unique<PosixFile>(fd), 0};
}

FsResult<FsStat> PosixFilesystem::stat(std::string_view name) {
    if (!is_one_path_component(name))
        return {{}, EINVAL};
    struct stat info {};
    if (::fstatat(root_fd_, std::string(name).c_str(), &info, AT_SYMLINK_NOFOLLOW) != 0)
        return {{}, errno};
    return {to_fs_stat(info), 0};
}

FsResult<std::vector<std::string>> PosixFilesystem::list() {
    // A descriptor of its own: sharing root_fd_'s offset would race with
    // another thread's listing.
    const int dir_fd = ::openat(root_fd_, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR* dir = dir_fd < 0 ? nullptr : ::fdopendir(dir_fd);
    if (dir == nullptr) {
        const int failure = errno;
        if (dir_fd >= 0)
            ::close(dir_fd);
        return {{}, failure};
    }
    std::vector<std::string> names;
    for (;;) {
        errno = 0;
        const dirent* entry = ::readdir(dir);
        if (entry == nullptr)
            break;
        const std::string_view name = entry->d_name;
        if (name != "." && name != "..")
            names.emplace_back(name);
    }
    const int failure = errno;
    ::closedir(dir);
    if (failure != 0)
        return {{}, failure};
    return {std::move(names), 0};
}

int PosixFilesystem::rename(std::string_view from, std::string_view to) {
    if (!is_one_path_component(from) || !is_one_path_component(to))
        return EINVAL;
    return ::renameat(root_fd_, std::string(from).c_str(), root_fd_, std::string(to).c_str()) == 0
               ? 0
               : errno;
}

int PosixFilesystem::unlink(std::string_view name) {
    if (!is_one_path_component(name))
        return EINVAL;
    return ::unlinkat(root_fd_, std::string(name).c_str(), 0) == 0 ? 0 : errno;
}

int PosixFilesystem::sync_directory() {
    return ::fsync(root_fd_) == 0 ? 0 : errno;
}

}  // namespace ferry
