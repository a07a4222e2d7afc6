#include "ferry/real/disk_store.h"

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <system_error>

#include <fmt/core.h>

#include "ferry/protocol/names.h"
#include "ferry/real/posix_filesystem.h"

namespace ferry {

namespace {

constexpr std::string_view temp_prefix = ".ferry-tmp-";
/// The attribute that keeps a file's digest: "<32 hex digits> <size in bytes>".
constexpr std::string_view digest_attribute = "user.ferry.xxh3-128";
constexpr std::size_t digest_hex_digits = 32;
constexpr std::string_view lock_prefix = ".ferry-lock-";

/// Tries at taking an instance lock before giving up: each is one live store
/// on the directory, or a store cleaning up at that moment.
constexpr int lock_attempts_max = 1000;

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
                                     "not starting with '.' or '-')",
                                     quote_name(name), name_bytes_max));
    }
}

std::string lock_name(std::uint64_t instance) {
    return fmt::format("{}{}", lock_prefix, instance);
}

/// A positive decimal number, all of text; none otherwise.
std::optional<std::uint64_t> parse_number(std::string_view text) {
    std::uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || value == 0)
        return std::nullopt;
    return value;
}

/// The instance of a temporary file ".ferry-tmp-<instance>-<n>"; none when
/// the name does not parse.
std::optional<std::uint64_t> temp_instance(std::string_view name) {
    const std::string_view rest = name.substr(temp_prefix.size());
    const auto dash = rest.find('-');
    if (dash == std::string_view::npos || !parse_number(rest.substr(dash + 1)))
        return std::nullopt;
    return parse_number(rest.substr(0, dash));
}

std::string digest_attribute_value(std::string_view hex_digits, std::uint64_t size_bytes) {
    return fmt::format("{} {}", hex_digits, size_bytes);
}

/// The digest in an attribute's value, if it is one and describes a file of
/// size_bytes; none for anything else (a value from an older format, or a
/// file whose size changed under it).
std::optional<std::string> parse_digest_attribute(std::string_view value,
                                                  std::uint64_t size_bytes) {
    if (value.size() <= digest_hex_digits || value[digest_hex_digits] != ' ')
        return std::nullopt;
    const std::string_view hex = value.substr(0, digest_hex_digits);
    if (hex.find_first_not_of("0123456789abcdef") != std::string_view::npos)
        return std::nullopt;
    std::uint64_t size = 0;
    const std::string_view size_text = value.substr(digest_hex_digits + 1);
    const auto [end, error] =
        std::from_chars(size_text.data(), size_text.data() + size_text.size(), size);
    if (error != std::errc{} || end != size_text.data() + size_text.size() || size != size_bytes)
        return std::nullopt;
    return std::string(hex);
}

class DiskUpload final : public Upload {
  public:
    DiskUpload(Filesystem& fs, std::unique_ptr<FsFile> file, std::string temp_name,
               std::string name)
        : fs_(fs),
          file_(std::move(file)),
          temp_name_(std::move(temp_name)),
          name_(std::move(name)) {}
    ~DiskUpload() override { abort(); }

    StoreStatus try_write(std::span<const std::byte> bytes) override {
        if (!file_)
            return upload_failure(StoreErrorKind::io, "write", "upload already finished");
        while (!bytes.empty()) {
            const FsResult<std::size_t> written = file_->write(bytes);
            if (!written.ok()) {
                return upload_failure(write_error_kind(written.error), "write",
                                      error_text(written.error));
            }
            if (written.value == 0)
                return upload_failure(StoreErrorKind::io, "write", "nothing was written");
            bytes = bytes.subspan(written.value);
            written_bytes_ += written.value;
        }
        return std::nullopt;
    }

    void set_digest(std::string_view hex_digits) override { digest_ = hex_digits; }

    StoreStatus try_commit() override {
        if (!file_)
            return upload_failure(StoreErrorKind::io, "commit", "upload already finished");
        // On the temporary file, before its fsync: the digest is durable with
        // the bytes and goes with them through the rename, never on another
        // version. Should the store refuse it (ENOTSUP, a full disk), the
        // upload goes on without one: a GET then hashes the file.
        if (!digest_.empty())
            (void)file_->set_attribute(digest_attribute,
                                       digest_attribute_value(digest_, written_bytes_));
        if (const int failure = file_->sync())
            return fail_before_rename("fsync", failure);
        const int closed = file_->close();
        file_.reset();
        if (closed != 0)
            return fail_before_rename("close", closed);
        if (const int failure = fs_.rename(temp_name_, name_))
            return fail_before_rename("rename", failure);
        temp_name_.clear();
        // The rename is durable only once the directory is. Should this fsync
        // fail, the new version stays visible: removing it again could delete
        // a newer version committed meanwhile. The failure says so.
        if (const int failure = fs_.sync_directory()) {
            StoreFailure failed{StoreErrorKind::io,
                                fmt::format("upload {} is in place but not known to be durable: "
                                            "fsync of the directory failed: {}",
                                            quote_name(name_), error_text(failure))};
            failed.new_version_visible = true;
            return failed;
        }
        return std::nullopt;
    }

    void abort() noexcept override {
        file_.reset();
        if (!temp_name_.empty()) {
            // Should this fail, the file is removed when the store is next
            // opened, as a leftover of this instance.
            (void)fs_.unlink(temp_name_);
            temp_name_.clear();
        }
    }

  private:
    StoreFailure upload_failure(StoreErrorKind kind, std::string_view call,
                                std::string_view reason) const {
        return StoreFailure{kind,
                            fmt::format("{} of upload {}: {}", call, quote_name(name_), reason)};
    }

    StoreFailure fail_before_rename(std::string_view call, int failure) {
        abort();
        return upload_failure(write_error_kind(failure), call, error_text(failure));
    }

    Filesystem& fs_;
    std::unique_ptr<FsFile> file_;  ///< none once closed or aborted
    std::string temp_name_;         ///< empty once renamed or removed
    std::string name_;
    std::uint64_t written_bytes_ = 0;
    std::string digest_;  ///< of the bytes written, from set_digest; empty if none
};

class DiskReader final : public FileReader {
  public:
    DiskReader(std::unique_ptr<FsFile> file, std::uint64_t size_bytes, std::string name)
        : file_(std::move(file)), size_bytes_(size_bytes), name_(std::move(name)) {}

    std::uint64_t size_bytes() const override { return size_bytes_; }

    std::size_t read_at(std::uint64_t offset, std::span<std::byte> buffer) const override {
        const FsResult<std::size_t> got = file_->read_at(offset, buffer);
        if (!got.ok()) {
            throw StoreError(StoreErrorKind::io, fmt::format("read of {} at offset {}: {}", name_,
                                                             offset, error_text(got.error)));
        }
        return got.value;
    }

    std::optional<std::string> stored_digest() const override {
        const FsResult<std::string> value = file_->get_attribute(digest_attribute);
        if (!value.ok())
            return std::nullopt;  // none kept, none possible, or unreadable: hash
        return parse_digest_attribute(value.value, size_bytes_);
    }

    void keep_digest(std::string_view hex_digits) noexcept override {
        // On the open file, never by name: the name may hold a newer version
        // by now. The bytes hashed are durable (committed), so a crash keeps
        // either this digest or none.
        try {
            (void)file_->set_attribute(digest_attribute,
                                       digest_attribute_value(hex_digits, size_bytes_));
        } catch (const std::exception&) {
            // Out of memory formatting the value: the next GET hashes again.
        }
    }

    int descriptor() const override { return file_->descriptor(); }

  private:
    std::unique_ptr<FsFile> file_;
    std::uint64_t size_bytes_;
    std::string name_;
};

std::unique_ptr<Filesystem> open_posix_root(const std::filesystem::path& root) {
    auto opened = PosixFilesystem::open_root(root);
    if (!opened.ok()) {
        throw StoreError(StoreErrorKind::io, fmt::format("cannot open store directory '{}': {}",
                                                         root.string(), error_text(opened.error)));
    }
    return std::move(opened.value);
}

}  // namespace

bool DiskStore::is_temporary_name(std::string_view name) {
    return name.starts_with(temp_prefix);
}

bool DiskStore::is_lock_name(std::string_view name) {
    return name.starts_with(lock_prefix);
}

std::string_view DiskStore::digest_attribute_name() {
    return digest_attribute;
}

std::optional<std::string> DiskStore::kept_digest(std::string_view attribute_value,
                                                  std::uint64_t size_bytes) {
    return parse_digest_attribute(attribute_value, size_bytes);
}

DiskStore::DiskStore(const std::filesystem::path& root) : DiskStore(open_posix_root(root)) {}

DiskStore::DiskStore(std::unique_ptr<Filesystem> filesystem) : fs_(std::move(filesystem)) {
    acquire_instance();
    remove_leftovers();
}

DiskStore::~DiskStore() {
    // Removed while still locked, so a store that opened it meanwhile finds
    // the name gone once it gets the lock, and takes another.
    (void)fs_->unlink(lock_name(instance_));
    lock_.reset();
}

std::string DiskStore::where() const {
    return fmt::format("store directory '{}'", fs_->describe());
}

void DiskStore::acquire_instance() {
    std::uint64_t instance = 1;
    for (int attempt = 1; attempt <= lock_attempts_max; ++attempt) {
        const std::string name = lock_name(instance);
        auto opened = fs_->open(name, FsOpenMode::lock);
        if (!opened.ok()) {
            throw StoreError(StoreErrorKind::io,
                             fmt::format("cannot open lock file {} in {}: {}", name, where(),
                                         error_text(opened.error)));
        }
        const int locked = opened.value->try_lock();
        if (locked == EWOULDBLOCK) {
            ++instance;  // a live store's, or one being cleaned up
            continue;
        }
        if (locked != 0) {
            throw StoreError(StoreErrorKind::io, fmt::format("cannot lock {} in {}: {}", name,
                                                             where(), error_text(locked)));
        }
        if (holds_name(*opened.value, name)) {
            instance_ = instance;
            lock_ = std::move(opened.value);
            return;
        }
        // A store cleaning up a dead instance removed the name between our
        // open and our lock: the same number again, with a fresh file.
    }
    throw StoreError(StoreErrorKind::io, fmt::format("cannot take an instance lock in {} "
                                                     "after {} tries",
                                                     where(), lock_attempts_max));
}

bool DiskStore::holds_name(FsFile& file, const std::string& name) {
    const FsResult<FsStat> mine = file.stat();
    const FsResult<FsStat> named = fs_->stat(name);
    const int failure = !mine.ok() ? mine.error : named.error == ENOENT ? 0 : named.error;
    if (failure != 0) {
        throw StoreError(StoreErrorKind::io, fmt::format("cannot stat {} in {}: {}", name, where(),
                                                         error_text(failure)));
    }
    return named.ok() && named.value.file_id == mine.value.file_id;
}

void DiskStore::remove_leftovers() {
    auto listing = fs_->list();
    if (!listing.ok()) {
        throw StoreError(StoreErrorKind::io,
                         fmt::format("cannot read {}: {}", where(), error_text(listing.error)));
    }
    std::map<std::uint64_t, std::vector<std::string>> temps;  // by instance
    std::set<std::uint64_t> others;                           // instances with a lock file
    for (const std::string& name : listing.value) {
        if (is_temporary_name(name)) {
            if (const auto instance = temp_instance(name)) {
                temps[*instance].push_back(name);
            } else {
                (void)fs_->unlink(name);  // not a name we give: nobody writes it
            }
        } else if (is_lock_name(name)) {
            if (const auto instance = parse_number(name.substr(lock_prefix.size())))
                others.insert(*instance);
        }
    }
    for (const auto& [instance, names] : temps)
        others.insert(instance);
    others.erase(instance_);
    // Ours are leftovers of the store that held this number before: it is gone.
    for (const std::string& name : temps[instance_])
        (void)fs_->unlink(name);
    for (const std::uint64_t instance : others)
        remove_if_writer_gone(instance, temps[instance]);
}

void DiskStore::remove_if_writer_gone(std::uint64_t instance,
                                      const std::vector<std::string>& temps) {
    // Opening creates the lock file when a crash lost it (and the temporary
    // files survived): holding its lock keeps a new store from taking the
    // number while its files are removed.
    const std::string name = lock_name(instance);
    auto opened = fs_->open(name, FsOpenMode::lock);
    if (!opened.ok() || opened.value->try_lock() != 0)
        return;  // alive, or being cleaned up by another store, or cannot tell
    for (const std::string& temp : temps)
        (void)fs_->unlink(temp);
    (void)fs_->unlink(name);
}

void DiskStore::check_replaceable(std::string_view name) {
    const FsResult<FsStat> existing = fs_->stat(name);
    if (existing.ok()) {
        if (existing.value.type == FsEntryType::directory) {
            throw StoreError(
                StoreErrorKind::name_not_allowed,
                fmt::format("name not allowed: {} is a directory on the server", quote_name(name)));
        }
        return;
    }
    if (existing.error != ENOENT) {
        throw StoreError(StoreErrorKind::io, fmt::format("cannot stat {}: {}", quote_name(name),
                                                         error_text(existing.error)));
    }
}

std::unique_ptr<Upload> DiskStore::begin_upload(std::string_view name) {
    check_name(name);
    check_root();
    check_replaceable(name);
    for (;;) {
        const std::string temp_name =
            fmt::format("{}{}-{}", temp_prefix, instance_, temp_count_.fetch_add(1) + 1);
        auto opened = fs_->open(temp_name, FsOpenMode::create_new);
        if (opened.ok()) {
            return std::make_unique<DiskUpload>(*fs_, std::move(opened.value), temp_name,
                                                std::string(name));
        }
        if (opened.error == EEXIST)
            continue;  // planted by someone else: our instance lock keeps stores out
        throw StoreError(write_error_kind(opened.error),
                         fmt::format("cannot create a temporary file for {}: {}", quote_name(name),
                                     error_text(opened.error)));
    }
}

std::unique_ptr<FileReader> DiskStore::open(std::string_view name) {
    check_name(name);
    auto opened = fs_->open(name, FsOpenMode::read);
    if (!opened.ok()) {
        const int failure = opened.error;
        check_root();  // not "no such file" when the whole directory is gone
        // ELOOP: a symlink, which is never followed; EXDEV: it would leave the root.
        if (failure == ENOENT || failure == ELOOP || failure == EXDEV || failure == ENOTDIR ||
            failure == EISDIR) {
            throw StoreError(StoreErrorKind::not_found,
                             fmt::format("no such file: {}", quote_name(name)));
        }
        throw StoreError(StoreErrorKind::io,
                         fmt::format("cannot open {}: {}", quote_name(name), error_text(failure)));
    }
    const FsResult<FsStat> info = opened.value->stat();
    if (!info.ok()) {
        throw StoreError(StoreErrorKind::io, fmt::format("cannot stat {}: {}", quote_name(name),
                                                         error_text(info.error)));
    }
    if (info.value.type != FsEntryType::regular) {
        throw StoreError(StoreErrorKind::not_found,
                         fmt::format("no such file: {} (not a regular file)", quote_name(name)));
    }
    return std::make_unique<DiskReader>(std::move(opened.value), info.value.size_bytes,
                                        quote_name(name));
}

void DiskStore::check_root() const {
    if (fs_->removed())
        throw StoreError(StoreErrorKind::io, fmt::format("the {} was removed", where()));
}

std::vector<FileInfo> DiskStore::list() {
    check_root();  // a removed directory lists as empty
    auto listing = fs_->list();
    if (!listing.ok()) {
        throw StoreError(StoreErrorKind::io,
                         fmt::format("cannot list {}: {}", where(), error_text(listing.error)));
    }
    std::vector<FileInfo> files;
    for (std::string& name : listing.value) {
        if (!is_valid_name(name))
            continue;
        const FsResult<FsStat> info = fs_->stat(name);
        if (info.error == ENOENT)
            continue;  // removed since it was listed
        if (!info.ok()) {
            throw StoreError(StoreErrorKind::io, fmt::format("cannot stat {}: {}", quote_name(name),
                                                             error_text(info.error)));
        }
        if (info.value.type == FsEntryType::regular)
            files.push_back(FileInfo{std::move(name), info.value.size_bytes});
    }
    std::sort(files.begin(), files.end(),
              [](const FileInfo& a, const FileInfo& b) { return a.name < b.name; });
    return files;
}

}  // namespace ferry
