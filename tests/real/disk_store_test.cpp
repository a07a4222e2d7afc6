// DiskStore: atomic, durable uploads confined to one directory.

#include "ferry/real/disk_store.h"
#include "ferry/real/posix_filesystem.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "real_test_support.h"

namespace ferry {
namespace {

namespace fs = std::filesystem;
using testing::Bytes;
using ::testing::ElementsAre;
using testing::entry_names;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing::random_bytes;
using testing::read_all;
using testing::read_file;
using testing::stored_names;
using testing::TempDir;
using testing::to_bytes;
using testing::write_file;

/// Makes DiskStore use its openat fallback for the lifetime of this object.
class OpenatFallback {
  public:
    OpenatFallback() { testing::set_posix_filesystem_uses_openat2(false); }
    ~OpenatFallback() { testing::set_posix_filesystem_uses_openat2(true); }
    OpenatFallback(const OpenatFallback&) = delete;
    OpenatFallback& operator=(const OpenatFallback&) = delete;
};

/// Defines a test that runs twice: as DiskStore.name with openat2 (where the
/// kernel has it) and as DiskStoreWithoutOpenat2.name with the fallback that
/// older kernels get.
#define DISK_STORE_TEST(name)             \
    void name##Body();                    \
    TEST(DiskStore, name) {               \
        name##Body();                     \
    }                                     \
    TEST(DiskStoreWithoutOpenat2, name) { \
        OpenatFallback fallback;          \
        name##Body();                     \
    }                                     \
    void name##Body()

void put(Store& store, std::string_view name, const Bytes& bytes) {
    auto upload = store.begin_upload(name);
    upload->write(bytes);
    upload->commit();
}

std::optional<StoreErrorKind> store_error_kind(const std::function<void()>& call) {
    try {
        call();
    } catch (const StoreError& e) {
        return e.kind();
    }
    return std::nullopt;
}

/// Every name the store must refuse: each is a path, hidden, empty, too long,
/// starts with a dash, or holds a byte outside [A-Za-z0-9._-].
std::vector<std::string> bad_names() {
    return {"..",
            ".",
            "../x",
            "/etc/passwd",
            "a/b",
            ".hidden",
            "",
            std::string(256, 'a'),
            std::string("nul\0byte", 8),
            "has space",
            "caf\xc3\xa9",
            "tab\there",
            "new\nline",
            "back\\slash",
            ".ferry-tmp-1-1",
            "-rf",
            "--help"};
}

DISK_STORE_TEST(CommittedUploadCanBeOpenedAndRead) {
    TempDir dir;
    DiskStore store(dir.path());
    const Bytes bytes = random_bytes(100000, 1);
    auto upload = store.begin_upload("data.bin");
    // Written in uneven pieces.
    std::span<const std::byte> rest(bytes);
    for (std::size_t piece = 1; !rest.empty(); piece = piece * 3 + 1) {
        const std::size_t n = std::min(piece, rest.size());
        upload->write(rest.first(n));
        rest = rest.subspan(n);
    }
    upload->commit();

    auto reader = store.open("data.bin");
    EXPECT_EQ(reader->size_bytes(), bytes.size());
    EXPECT_EQ(read_all(*reader), bytes);
    EXPECT_EQ(read_file(dir.path() / "data.bin"), bytes);
    EXPECT_THAT(stored_names(dir.path()), ElementsAre("data.bin"));
}

// rm -r of the served directory: every call that needs it says so, instead
// of an empty listing, a "no such file" or a temporary file in a dead
// directory.
DISK_STORE_TEST(ARemovedDirectoryIsReportedNotListedAsEmpty) {
    TempDir parent;
    const fs::path root = parent.path() / "served";
    fs::create_directory(root);
    DiskStore store(root);
    put(store, "a.txt", random_bytes(10, 3));
    EXPECT_FALSE(store.filesystem().removed());
    fs::remove_all(root);
    EXPECT_TRUE(store.filesystem().removed());
    const auto fails_saying_removed = [&](auto call) {
        try {
            call();
            ADD_FAILURE() << "no error once the directory is gone";
        } catch (const StoreError& e) {
            EXPECT_EQ(e.kind(), StoreErrorKind::io);
            EXPECT_THAT(e.what(), HasSubstr("was removed"));
        }
    };
    fails_saying_removed([&] { (void)store.list(); });
    fails_saying_removed([&] { (void)store.open("a.txt"); });
    fails_saying_removed([&] { (void)store.begin_upload("b.txt"); });
}

DISK_STORE_TEST(EmptyFileCanBeStored) {
    TempDir dir;
    DiskStore store(dir.path());
    put(store, "empty", {});
    auto reader = store.open("empty");
    EXPECT_EQ(reader->size_bytes(), 0u);
    std::byte buffer[4];
    EXPECT_EQ(reader->read_at(0, buffer), 0u);
}

DISK_STORE_TEST(ReadAtReadsFromAnyOffsetAndReturnsZeroAtTheEnd) {
    TempDir dir;
    DiskStore store(dir.path());
    put(store, "f", to_bytes("0123456789"));
    auto reader = store.open("f");
    std::byte buffer[4];
    ASSERT_EQ(reader->read_at(3, buffer), 4u);
    EXPECT_EQ(as_text(buffer), "3456");
    ASSERT_EQ(reader->read_at(8, buffer), 2u);
    EXPECT_EQ(as_text(std::span(buffer, 2)), "89");
    EXPECT_EQ(reader->read_at(10, buffer), 0u);
    EXPECT_EQ(reader->read_at(1u << 31, buffer), 0u);
    EXPECT_EQ(reader->read_at(UINT64_MAX, buffer), 0u);
}

DISK_STORE_TEST(NothingIsVisibleBeforeCommit) {
    TempDir dir;
    DiskStore store(dir.path());
    auto upload = store.begin_upload("pending");
    upload->write(to_bytes("not yet"));
    EXPECT_THAT(store.list(), IsEmpty());
    EXPECT_EQ(store_error_kind([&] { store.open("pending"); }), StoreErrorKind::not_found);
    EXPECT_FALSE(fs::exists(dir.path() / "pending"));
    // Only a temporary file, named so no listing can show it.
    const auto names = stored_names(dir.path());
    ASSERT_EQ(names.size(), 1u);
    EXPECT_EQ(names[0], ".ferry-tmp-1-1");  // instance 1, its first upload

    upload->commit();
    EXPECT_THAT(store.list(), ElementsAre(FileInfo{"pending", 7}));
    EXPECT_THAT(stored_names(dir.path()), ElementsAre("pending"));
}

DISK_STORE_TEST(AbortLeavesNothing) {
    TempDir dir;
    DiskStore store(dir.path());
    auto upload = store.begin_upload("dropped");
    upload->write(random_bytes(5000, 2));
    upload->abort();
    upload->abort();  // idempotent
    EXPECT_THAT(stored_names(dir.path()), IsEmpty());
    EXPECT_THAT(store.list(), IsEmpty());
    EXPECT_EQ(store_error_kind([&] { upload->write(to_bytes("more")); }), StoreErrorKind::io);
    EXPECT_EQ(store_error_kind([&] { upload->commit(); }), StoreErrorKind::io);
    const StoreStatus finished = upload->try_write(to_bytes("more"));
    ASSERT_TRUE(finished);
    EXPECT_THAT(finished->message, HasSubstr("upload already finished"));
    EXPECT_THAT(stored_names(dir.path()), IsEmpty());
}

DISK_STORE_TEST(DestroyingAnUploadWithoutCommitLeavesNothing) {
    TempDir dir;
    DiskStore store(dir.path());
    {
        auto upload = store.begin_upload("dropped");
        upload->write(random_bytes(5000, 3));
    }
    EXPECT_THAT(stored_names(dir.path()), IsEmpty());
}

DISK_STORE_TEST(AbortedReplacementKeepsTheOldVersion) {
    TempDir dir;
    DiskStore store(dir.path());
    put(store, "f", to_bytes("old"));
    {
        auto upload = store.begin_upload("f");
        upload->write(to_bytes("new and longer"));
    }
    EXPECT_EQ(read_all(*store.open("f")), to_bytes("old"));
    EXPECT_THAT(stored_names(dir.path()), ElementsAre("f"));
}

DISK_STORE_TEST(CommitReplacesAndOpenReadersKeepTheirVersion) {
    TempDir dir;
    DiskStore store(dir.path());
    put(store, "f", to_bytes("version one"));
    auto old_reader = store.open("f");
    put(store, "f", to_bytes("v2"));
    EXPECT_EQ(read_all(*old_reader), to_bytes("version one"));
    EXPECT_EQ(read_all(*store.open("f")), to_bytes("v2"));
    EXPECT_THAT(store.list(), ElementsAre(FileInfo{"f", 2}));
    EXPECT_THAT(stored_names(dir.path()), ElementsAre("f"));
}

DISK_STORE_TEST(ReplaceIsAtomicForConcurrentReaders) {
    TempDir dir;
    DiskStore store(dir.path());
    const Bytes a = random_bytes(200000, 10);
    const Bytes b = random_bytes(300000, 11);
    put(store, "f", a);
    std::atomic<bool> done{false};
    std::atomic<int> torn{0};
    std::atomic<int> reads{0};
    std::thread reader([&] {
        while (!done.load()) {
            const Bytes seen = read_all(*store.open("f"));
            if (seen != a && seen != b)
                ++torn;
            ++reads;
        }
    });
    for (int i = 0; i < 40; ++i)
        put(store, "f", i % 2 == 0 ? b : a);
    done = true;
    reader.join();
    EXPECT_EQ(torn.load(), 0) << "of " << reads.load() << " reads";
}

DISK_STORE_TEST(ListShowsRegularFilesSortedByNameWithSizes) {
    TempDir dir;
    DiskStore store(dir.path());
    put(store, "b", to_bytes("22"));
    put(store, "a", to_bytes("1"));
    put(store, "Z", to_bytes("333"));
    put(store, "a-1", {});
    put(store, "a.txt", to_bytes("4444"));
    EXPECT_THAT(store.list(), ElementsAre(FileInfo{"Z", 3}, FileInfo{"a", 1}, FileInfo{"a-1", 0},
                                          FileInfo{"a.txt", 4}, FileInfo{"b", 2}));
}

DISK_STORE_TEST(ListSkipsNamesThatAreNotValid) {
    TempDir dir;
    write_file(dir.path() / ".hidden", to_bytes("h"));
    write_file(dir.path() / "has space", to_bytes("s"));
    write_file(dir.path() / "-rf", to_bytes("put there by hand"));
    write_file(dir.path() / "ok", to_bytes("o"));
    DiskStore store(dir.path());
    EXPECT_THAT(store.list(), ElementsAre(FileInfo{"ok", 1}));
}

DISK_STORE_TEST(SymlinkInRootIsNeitherListedNorOpened) {
    TempDir outside;
    const Bytes secret = to_bytes("secret outside the root");
    write_file(outside.path() / "secret", secret);
    TempDir dir;
    fs::create_symlink(outside.path() / "secret", dir.path() / "evil");
    fs::create_symlink("/etc/passwd", dir.path() / "passwd");
    write_file(dir.path() / "target", to_bytes("inside"));
    fs::create_symlink("target", dir.path() / "inner");
    DiskStore store(dir.path());

    EXPECT_THAT(store.list(), ElementsAre(FileInfo{"target", 6}));
    for (const char* name : {"evil", "passwd", "inner"}) {
        EXPECT_EQ(store_error_kind([&] { store.open(name); }), StoreErrorKind::not_found) << name;
    }
}

DISK_STORE_TEST(UploadOverASymlinkReplacesTheLinkNotItsTarget) {
    TempDir outside;
    const Bytes secret = to_bytes("secret outside the root");
    write_file(outside.path() / "secret", secret);
    TempDir dir;
    fs::create_symlink(outside.path() / "secret", dir.path() / "evil");
    DiskStore store(dir.path());

    put(store, "evil", to_bytes("replaced"));
    EXPECT_EQ(read_file(outside.path() / "secret"), secret);
    EXPECT_FALSE(fs::is_symlink(fs::symlink_status(dir.path() / "evil")));
    EXPECT_EQ(read_all(*store.open("evil")), to_bytes("replaced"));
}

DISK_STORE_TEST(DirectoriesAndFifosAreNeitherListedNorOpened) {
    TempDir dir;
    fs::create_directory(dir.path() / "subdir");
    ASSERT_EQ(::mkfifo((dir.path() / "pipe").c_str(), 0600), 0);
    DiskStore store(dir.path());
    EXPECT_THAT(store.list(), IsEmpty());
    // Opening the FIFO must neither block nor succeed.
    EXPECT_EQ(store_error_kind([&] { store.open("pipe"); }), StoreErrorKind::not_found);
    EXPECT_EQ(store_error_kind([&] { store.open("subdir"); }), StoreErrorKind::not_found);
}

DISK_STORE_TEST(EveryBadNameIsRefusedAndNothingIsTouched) {
    TempDir parent;
    const fs::path root = parent.path() / "root";
    fs::create_directory(root);
    write_file(root / "x", to_bytes("x"));
    DiskStore store(root);
    const auto before = testing::snapshot(parent.path());
    for (const std::string& name : bad_names()) {
        EXPECT_EQ(store_error_kind([&] { store.begin_upload(name); }),
                  StoreErrorKind::name_not_allowed)
            << name;
        EXPECT_EQ(store_error_kind([&] { store.open(name); }), StoreErrorKind::name_not_allowed)
            << name;
    }
    EXPECT_EQ(testing::snapshot(parent.path()), before);
}

DISK_STORE_TEST(RefusalMessageShowsTheNameSafely) {
    TempDir dir;
    DiskStore store(dir.path());
    try {
        store.begin_upload(std::string("a/\0\n", 4));
        FAIL() << "accepted";
    } catch (const StoreError& e) {
        EXPECT_THAT(e.what(), HasSubstr("'a/\\x00\\x0a'"));
    }
}

DISK_STORE_TEST(OpenOfAMissingFileIsNotFoundNamingIt) {
    TempDir dir;
    DiskStore store(dir.path());
    try {
        store.open("missing");
        FAIL() << "opened";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreErrorKind::not_found);
        EXPECT_THAT(e.what(), HasSubstr("missing"));
    }
}

DISK_STORE_TEST(ConstructorRemovesStaleTemporaryFiles) {
    TempDir dir;
    write_file(dir.path() / ".ferry-tmp-99999999-1", to_bytes("left by a crash"));
    write_file(dir.path() / ".ferry-tmp-garbage", to_bytes("unparseable"));
    write_file(dir.path() / "kept", to_bytes("k"));
    write_file(dir.path() / ".other-hidden", to_bytes("not ours"));
    DiskStore store(dir.path());
    EXPECT_THAT(entry_names(dir.path()), ElementsAre(".ferry-lock-1", ".other-hidden", "kept"));
}

DISK_STORE_TEST(LeftoversAreRemovedWhateverPidIsAlive) {
    // Temporary files used to carry their writer's pid and were kept while a
    // process of that pid lived: a server restarted as pid 1 in a container
    // leaked them for ever. Now only a held instance lock keeps them.
    TempDir dir;
    const std::string live_pid = std::to_string(::getpid());
    write_file(dir.path() / (".ferry-tmp-" + live_pid + "-1"), to_bytes("old scheme, our pid"));
    write_file(dir.path() / ".ferry-tmp-1-7", to_bytes("instance 1, lock lost"));
    write_file(dir.path() / ".ferry-lock-3", {});  // a dead instance without files
    write_file(dir.path() / ".ferry-tmp-3-1", to_bytes("instance 3, dead"));
    DiskStore store(dir.path());
    EXPECT_EQ(store.instance(), 1u);
    EXPECT_THAT(entry_names(dir.path()), ElementsAre(".ferry-lock-1"));
}

DISK_STORE_TEST(ConstructorKeepsTemporaryFilesOfLiveUploads) {
    TempDir dir;
    DiskStore first(dir.path());
    auto upload = first.begin_upload("f");
    upload->write(to_bytes("in progress"));
    DiskStore second(dir.path());  // the first holds its lock: its uploads are alive
    EXPECT_EQ(first.instance(), 1u);
    EXPECT_EQ(second.instance(), 2u);
    upload->commit();
    EXPECT_EQ(read_all(*second.open("f")), to_bytes("in progress"));
}

DISK_STORE_TEST(AClosedStoreLeavesNoLockFileAndItsNumberIsTakenAgain) {
    TempDir dir;
    {
        DiskStore first(dir.path());
        DiskStore second(dir.path());
        EXPECT_THAT(entry_names(dir.path()), ElementsAre(".ferry-lock-1", ".ferry-lock-2"));
    }
    EXPECT_THAT(entry_names(dir.path()), IsEmpty());
    DiskStore again(dir.path());
    EXPECT_EQ(again.instance(), 1u);
}

DISK_STORE_TEST(LeftoversOfAKilledProcessAreRemovedAtTheNextStart) {
    TempDir dir;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        // An upload in progress, and then kill -9: no destructor runs.
        DiskStore store(dir.path());
        auto upload = store.begin_upload("f");
        (void)upload->try_write(to_bytes("half an upload"));
        ::raise(SIGKILL);
        ::_exit(1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status));
    EXPECT_THAT(entry_names(dir.path()), ElementsAre(".ferry-lock-1", ".ferry-tmp-1-1"));
    DiskStore store(dir.path());  // the kernel dropped the child's lock
    EXPECT_EQ(store.instance(), 1u);
    EXPECT_THAT(entry_names(dir.path()), ElementsAre(".ferry-lock-1"));
}

DISK_STORE_TEST(PutOverADirectoryIsRefusedBeforeAnythingIsWritten) {
    TempDir dir;
    fs::create_directory(dir.path() / "subdir");
    DiskStore store(dir.path());
    try {
        store.begin_upload("subdir");
        FAIL() << "began an upload that can never be committed";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreErrorKind::name_not_allowed);
        EXPECT_THAT(e.what(), HasSubstr("'subdir' is a directory"));
    }
    EXPECT_THAT(stored_names(dir.path()), ElementsAre("subdir"));
    EXPECT_TRUE(fs::is_empty(dir.path() / "subdir"));
}

DISK_STORE_TEST(ConcurrentUploadsOfTheSameNameLeaveOneWholeVersion) {
    TempDir dir;
    DiskStore store(dir.path());
    std::vector<Bytes> versions;
    for (int i = 0; i < 8; ++i)
        versions.push_back(random_bytes(50000 + i, 100 + i));
    std::vector<std::thread> writers;
    for (const Bytes& version : versions) {
        writers.emplace_back([&store, &version] { put(store, "same", version); });
    }
    for (auto& writer : writers)
        writer.join();
    const Bytes result = read_all(*store.open("same"));
    EXPECT_NE(std::find(versions.begin(), versions.end(), result), versions.end());
    EXPECT_THAT(stored_names(dir.path()), ElementsAre("same"));
}

/// What the disk-full child reports through its exit status.
enum DiskFullOutcome : int {
    disk_full_reported = 0,
    cannot_mount = 77,
    no_error = 1,
    wrong_kind = 2,
    left_temp_file = 3,
    other_failure = 4,
};

/// In a child process with its own mount namespace: mounts a 64 KiB tmpfs on
/// dir, writes more than fits, and reports how the store failed.
int disk_full_child(const fs::path& dir) {
    if (::unshare(CLONE_NEWNS) != 0)
        return cannot_mount;
    if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
        return cannot_mount;
    if (::mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=64k") != 0)
        return cannot_mount;
    try {
        DiskStore store(dir);
        int outcome = no_error;
        try {
            auto upload = store.begin_upload("big");
            const Bytes piece(16 * 1024);
            for (int i = 0; i < 64; ++i)
                upload->write(piece);
            upload->commit();
        } catch (const StoreError& e) {
            outcome = e.kind() == StoreErrorKind::disk_full ? disk_full_reported : wrong_kind;
        }
        if (!stored_names(dir).empty())
            return left_temp_file;
        return outcome;
    } catch (...) {
        return other_failure;
    }
}

DISK_STORE_TEST(RunningOutOfSpaceIsDiskFullAndLeavesNothing) {
    TempDir dir;
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0)
        ::_exit(disk_full_child(dir.path()));
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status)) << "child died, status " << status;
    const int outcome = WEXITSTATUS(status);
    if (outcome == cannot_mount) {
        GTEST_SKIP() << "cannot mount a small tmpfs here (needs CAP_SYS_ADMIN)";
    }
    EXPECT_EQ(outcome, disk_full_reported)
        << "1 no error, 2 another error kind, 3 a file left behind, 4 other failure";
}

DISK_STORE_TEST(MissingRootThrowsNamingIt) {
    TempDir dir;
    const fs::path missing = dir.path() / "no-such-dir";
    try {
        DiskStore store(missing);
        FAIL() << "opened " << missing;
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreErrorKind::io);
        EXPECT_THAT(e.what(), HasSubstr(missing.string()));
    }
}

DISK_STORE_TEST(RootThatIsAFileIsRefused) {
    TempDir dir;
    write_file(dir.path() / "file", to_bytes("x"));
    EXPECT_THROW(DiskStore(dir.path() / "file"), StoreError);
}

DISK_STORE_TEST(CommittedFilesAreReadableByOthers) {
    TempDir dir;
    DiskStore store(dir.path());
    put(store, "f", to_bytes("x"));
    const auto permissions = fs::status(dir.path() / "f").permissions();
    EXPECT_NE(permissions & fs::perms::owner_read, fs::perms::none);
    EXPECT_NE(permissions & fs::perms::owner_write, fs::perms::none);
}

}  // namespace
}  // namespace ferry
