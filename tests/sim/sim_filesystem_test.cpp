// SimFilesystem: a page cache in front of a durable disk, crashes that keep
// what sim_filesystem.h says they keep, processes that die with their mount,
// and every fault of FsFaults.

#include "ferry/sim/sim_filesystem.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>

#include "ferry/sim/simulation.h"
#include "sim_test_support.h"

namespace ferry::sim {
namespace {

using testing::bytes_of;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

/// A simulation whose choices come from a list (then zeros: nothing unsynced
/// survives a crash).
struct Rig {
    explicit Rig(std::vector<std::uint64_t> choices = {})
        : decisions(std::move(choices)), sim({}, decisions), disk(sim) {}
    RecordedDecisions decisions;
    Simulation sim;
    SimFilesystem disk;
};

std::unique_ptr<FsFile> open_file(Filesystem& fs, std::string_view name, FsOpenMode mode) {
    auto opened = fs.open(name, mode);
    EXPECT_EQ(opened.error, 0) << name;
    return std::move(opened.value);
}

void write_text(FsFile& file, std::string_view text) {
    const auto written = file.write(as_bytes(text));
    EXPECT_EQ(written.error, 0);
    EXPECT_EQ(written.value, text.size());
}

std::string text_of(const std::optional<std::vector<std::byte>>& bytes) {
    if (!bytes)
        return "(none)";
    return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

TEST(SimFilesystem, WritesAreSeenAtOnceAndLostInACrashUnlessSynced) {
    Rig rig;
    auto fs = rig.disk.mount();
    auto file = open_file(*fs, "a", FsOpenMode::create_new);
    write_text(*file, "hello");
    EXPECT_EQ(text_of(rig.disk.file("a")), "hello");
    auto reader = open_file(*fs, "a", FsOpenMode::read);
    std::vector<std::byte> buffer(10);
    const auto got = reader->read_at(1, buffer);
    EXPECT_EQ(got.value, 4u);
    rig.disk.crash();
    EXPECT_THAT(rig.disk.names(), IsEmpty());  // neither the bytes nor the name were synced
}

TEST(SimFilesystem, AFileSyncKeepsItsBytesButNotItsName) {
    Rig rig;
    auto fs = rig.disk.mount();
    auto file = open_file(*fs, "a", FsOpenMode::create_new);
    write_text(*file, "hello");
    EXPECT_EQ(file->sync(), 0);
    rig.disk.crash();
    EXPECT_THAT(rig.disk.names(), IsEmpty());
}

TEST(SimFilesystem, ADirectorySyncKeepsTheNameButNotTheBytes) {
    Rig rig;
    auto fs = rig.disk.mount();
    auto file = open_file(*fs, "a", FsOpenMode::create_new);
    write_text(*file, "hello");
    EXPECT_EQ(fs->sync_directory(), 0);
    rig.disk.crash();
    EXPECT_EQ(text_of(rig.disk.file("a")), "");  // ext4's zero-length file
}

TEST(SimFilesystem, BothSyncsKeepTheFileWhole) {
    Rig rig;
    auto fs = rig.disk.mount();
    auto file = open_file(*fs, "a", FsOpenMode::create_new);
    write_text(*file, "hello");
    EXPECT_EQ(file->sync(), 0);
    EXPECT_EQ(fs->sync_directory(), 0);
    rig.disk.crash();
    EXPECT_EQ(text_of(rig.disk.file("a")), "hello");
}

TEST(SimFilesystem, ACrashKeepsAPrefixOfTheDirectoryChangesInOrder) {
    // Four changes since the last directory sync; a crash keeps the first k.
    const std::vector<std::vector<std::string>> expected = {
        {"old"}, {"a", "old"}, {"a", "b", "old"}, {"b", "c", "old"}, {"b", "c"}};
    for (std::uint64_t kept = 0; kept <= 4; ++kept) {
        SCOPED_TRACE("kept " + std::to_string(kept));
        Rig rig({kept});
        rig.disk.put_durable_file("old", bytes_of("x"));
        auto fs = rig.disk.mount();
        open_file(*fs, "a", FsOpenMode::create_new);
        open_file(*fs, "b", FsOpenMode::create_new);
        EXPECT_EQ(fs->rename("a", "c"), 0);
        EXPECT_EQ(fs->unlink("old"), 0);
        EXPECT_EQ(rig.disk.unsynced_changes(), 4u);
        rig.disk.crash();
        EXPECT_EQ(rig.disk.names(), expected[kept]);
        EXPECT_EQ(rig.disk.unsynced_changes(), 0u);
    }
}

TEST(SimFilesystem, ARenameOverAFileKeepsOneOfThemWhole) {
    for (std::uint64_t kept = 0; kept <= 1; ++kept) {
        Rig rig({kept});
        rig.disk.put_durable_file("f", bytes_of("old"));
        rig.disk.put_durable_file("tmp", bytes_of("new"));
        auto fs = rig.disk.mount();
        EXPECT_EQ(fs->rename("tmp", "f"), 0);
        EXPECT_THAT(rig.disk.names(), ElementsAre("f"));
        rig.disk.crash();
        EXPECT_EQ(text_of(rig.disk.file("f")), kept == 0 ? "old" : "new");
    }
}

TEST(SimFilesystem, ACrashKeepsAPrefixOfUnsyncedBytesOfWhichATailMayBeZeros) {
    // Five unsynced bytes after three durable ones: three of them survive,
    // the last of those as a zero.
    Rig rig({3, 1});
    rig.disk.put_durable_file("f", bytes_of("abc"));
    auto fs = rig.disk.mount();
    auto file = open_file(*fs, "f", FsOpenMode::lock);
    write_text(*file, "defgh");
    rig.disk.crash();
    EXPECT_EQ(text_of(rig.disk.file("f")), std::string("abcde\0", 6));
    EXPECT_EQ(rig.disk.used_bytes(), 6u);
}

TEST(SimFilesystem, AFileIsFreedOnlyWhenNoNameChangeOrOpenFileRefersToIt) {
    // Files are counted, not found by a scan of the disk at every call; these
    // are the moments a file's bytes may go.
    Rig rig;
    rig.disk.put_durable_file("f", bytes_of("old"));
    auto fs = rig.disk.mount();
    auto reader = open_file(*fs, "f", FsOpenMode::read);
    auto temp = open_file(*fs, "tmp", FsOpenMode::create_new);
    write_text(*temp, "newer");
    temp.reset();
    EXPECT_EQ(rig.disk.used_bytes(), 8u);
    EXPECT_EQ(fs->rename("tmp", "f"), 0);
    EXPECT_EQ(rig.disk.used_bytes(), 8u);  // the old one: durable, and open
    EXPECT_EQ(fs->sync_directory(), 0);
    EXPECT_EQ(rig.disk.used_bytes(), 8u);  // still open
    reader.reset();
    EXPECT_EQ(rig.disk.used_bytes(), 5u);
    EXPECT_EQ(fs->unlink("f"), 0);
    EXPECT_EQ(rig.disk.used_bytes(), 5u);  // its durable name is left
    EXPECT_EQ(fs->sync_directory(), 0);
    EXPECT_EQ(rig.disk.used_bytes(), 0u);
    EXPECT_THAT(rig.disk.names(), IsEmpty());
}

TEST(SimFilesystem, ADirectorySyncKeepsNamesPutDurableWhileChangesWait) {
    // The durable entries take the pending changes one by one, unless a name
    // was put durable in between; then they are the readers' entries whole.
    Rig rig;
    auto fs = rig.disk.mount();
    open_file(*fs, "a", FsOpenMode::create_new);
    rig.disk.put_durable_file("a", bytes_of("preloaded"));
    EXPECT_EQ(fs->rename("a", "b"), 0);
    EXPECT_EQ(fs->sync_directory(), 0);
    rig.disk.crash();
    EXPECT_THAT(rig.disk.names(), ElementsAre("b"));
    EXPECT_EQ(text_of(rig.disk.file("b")), "preloaded");
    EXPECT_EQ(rig.disk.used_bytes(), 9u);
}

TEST(SimFilesystem, RevokingAMountClosesItsFilesAndKeepsThePageCache) {
    Rig rig;
    auto fs = rig.disk.mount();
    auto file = open_file(*fs, "f", FsOpenMode::lock);
    EXPECT_EQ(file->try_lock(), 0);
    write_text(*file, "unsynced");
    rig.disk.revoke(fs->id());
    // The dead process's calls fail and do nothing.
    EXPECT_EQ(fs->unlink("f"), EIO);
    EXPECT_EQ(file->write(as_bytes("more")).error, EIO);
    EXPECT_EQ(file->close(), EIO);
    EXPECT_EQ(text_of(rig.disk.file("f")), "unsynced");
    // Its lock is gone with it.
    auto next = rig.disk.mount();
    auto again = open_file(*next, "f", FsOpenMode::lock);
    EXPECT_EQ(again->try_lock(), 0);
}

TEST(SimFilesystem, ALockExcludesOtherOpenFilesUntilClosed) {
    Rig rig;
    auto fs = rig.disk.mount();
    auto first = open_file(*fs, "lock", FsOpenMode::lock);
    auto second = open_file(*fs, "lock", FsOpenMode::lock);
    EXPECT_EQ(first->try_lock(), 0);
    EXPECT_EQ(first->try_lock(), 0);  // again: it holds it
    EXPECT_EQ(second->try_lock(), EWOULDBLOCK);
    EXPECT_EQ(first->close(), 0);
    EXPECT_EQ(second->try_lock(), 0);
    EXPECT_EQ(second->close(), 0);
    EXPECT_EQ(second->close(), EBADF);
}

TEST(SimFilesystem, NamesAndDirectoriesBehaveAsOnLinux) {
    Rig rig;
    rig.disk.put_directory("dir");
    rig.disk.put_durable_file("f", bytes_of("x"));
    auto fs = rig.disk.mount();
    EXPECT_EQ(fs->rename("f", "dir"), EISDIR);
    EXPECT_EQ(fs->unlink("dir"), EISDIR);
    EXPECT_EQ(fs->open("dir", FsOpenMode::read).error, EISDIR);
    EXPECT_EQ(fs->open("f", FsOpenMode::create_new).error, EEXIST);
    EXPECT_EQ(fs->open("missing", FsOpenMode::read).error, ENOENT);
    EXPECT_EQ(fs->rename("missing", "g"), ENOENT);
    EXPECT_EQ(fs->unlink("missing"), ENOENT);
    for (const char* bad : {"", ".", "..", "a/b"}) {
        EXPECT_EQ(fs->open(bad, FsOpenMode::lock).error, EINVAL) << bad;
        EXPECT_EQ(fs->stat(bad).error, EINVAL) << bad;
    }
    const auto dir = fs->stat("dir");
    EXPECT_EQ(dir.value.type, FsEntryType::directory);
    const auto listing = fs->list();
    EXPECT_THAT(listing.value, ElementsAre("dir", "f"));
    auto reader = open_file(*fs, "f", FsOpenMode::read);
    EXPECT_EQ(reader->write(as_bytes("no")).error, EBADF);
    EXPECT_EQ(reader->stat().value.file_id, fs->stat("f").value.file_id);
}

TEST(SimFilesystem, TheNthCallFailsOnceOrFromThenOn) {
    for (const bool persist : {false, true}) {
        Rig rig;
        FsFaults faults;
        faults.fail_call_at = 2;
        faults.fail_call_kind = FsCall::write;
        faults.fail_error = ENOSPC;
        faults.failures_persist = persist;
        rig.disk.set_faults(faults);
        auto fs = rig.disk.mount();
        auto file = open_file(*fs, "f", FsOpenMode::create_new);
        EXPECT_EQ(file->write(as_bytes("1")).error, 0);
        EXPECT_EQ(file->write(as_bytes("2")).error, ENOSPC);
        EXPECT_EQ(file->write(as_bytes("3")).error, persist ? ENOSPC : 0);
        EXPECT_EQ(file->sync(), 0);  // another kind
        EXPECT_EQ(text_of(rig.disk.file("f")), persist ? "1" : "13");
        EXPECT_EQ(rig.disk.calls(), 5u);
    }
}

TEST(SimFilesystem, TheNthCallOfAnyKindFails) {
    Rig rig;
    FsFaults faults;
    faults.fail_call_at = 3;
    rig.disk.set_faults(faults);
    auto fs = rig.disk.mount();
    auto file = open_file(*fs, "f", FsOpenMode::create_new);  // 1
    write_text(*file, "x");                                   // 2
    EXPECT_EQ(fs->rename("f", "g"), EIO);                     // 3: did nothing
    EXPECT_THAT(rig.disk.names(), ElementsAre("f"));
}

TEST(SimFilesystem, AFullDiskCutsAWriteShortThenRefusesIt) {
    Rig rig;
    FsFaults faults;
    faults.capacity_bytes = 10;
    rig.disk.set_faults(faults);
    auto fs = rig.disk.mount();
    auto file = open_file(*fs, "f", FsOpenMode::create_new);
    EXPECT_EQ(file->write(as_bytes("12345678")).value, 8u);
    const auto short_write = file->write(as_bytes("abcd"));
    EXPECT_EQ(short_write.error, 0);
    EXPECT_EQ(short_write.value, 2u);
    EXPECT_EQ(file->write(as_bytes("e")).error, ENOSPC);
    // Removing the file frees its space once nothing refers to it.
    EXPECT_EQ(file->close(), 0);
    EXPECT_EQ(fs->unlink("f"), 0);
    EXPECT_EQ(fs->sync_directory(), 0);
    EXPECT_EQ(rig.disk.used_bytes(), 0u);
}

TEST(SimFilesystem, ACrashAtTheNthCallCallsTheCrashHandler) {
    Rig rig;
    int crashes = 0;
    rig.disk.set_crash_handler([&] {
        ++crashes;
        rig.disk.crash();
    });
    FsFaults faults;
    faults.crash_at_call = 1;
    faults.crash_call_kind = FsCall::sync;
    rig.disk.set_faults(faults);
    auto fs = rig.disk.mount();
    auto file = open_file(*fs, "f", FsOpenMode::create_new);
    write_text(*file, "x");
    EXPECT_EQ(file->sync(), EIO);
    EXPECT_EQ(crashes, 1);
    EXPECT_EQ(rig.disk.crashes(), 1u);
    EXPECT_THAT(rig.disk.names(), IsEmpty());
    EXPECT_EQ(fs->list().error, EIO);  // the mount died with the machine
}

TEST(SimFilesystem, RandomFailuresFollowTheSeed) {
    auto run = [](std::uint64_t seed) {
        SimOptions options;
        options.seed = seed;
        Simulation sim(options);
        FsFaults faults;
        faults.random_failures = Ratio{1, 3};
        SimFilesystem disk(sim, faults);
        auto fs = disk.mount();
        std::string errors;
        for (int i = 0; i < 30; ++i)
            errors += std::to_string(fs->stat("x").error) + ",";
        return errors;
    };
    EXPECT_EQ(run(7), run(7));
    EXPECT_NE(run(7), run(8));
    EXPECT_THAT(run(7), ::testing::HasSubstr(std::to_string(EIO)));
}

TEST(SimFilesystem, ASyncTakesTimeAndACrashMeanwhileLosesIt) {
    Rig rig;
    FsFaults faults;
    faults.sync_latency_ms_min = 10;
    faults.sync_latency_ms_max = 10;
    rig.disk.set_faults(faults);
    int synced = -1;
    rig.sim.spawn("writer", [&] {
        auto fs = rig.disk.mount();
        auto file = open_file(*fs, "f", FsOpenMode::create_new);
        write_text(*file, "x");
        EXPECT_EQ(fs->sync_directory(), 0);
        synced = file->sync();
    });
    rig.sim.spawn("power", [&] {
        rig.sim.delay(testing::ms(15));  // in the middle of the file's sync
        rig.disk.crash();
    });
    EXPECT_EQ(rig.sim.run().status, RunStatus::completed);
    EXPECT_EQ(synced, EIO);
    EXPECT_EQ(text_of(rig.disk.file("f")), "");
}

TEST(SimFilesystem, EveryCallGoesIntoTheTrace) {
    Rig rig;
    std::ostringstream json;
    rig.sim.trace().write_json_lines_to(&json);
    auto fs = rig.disk.mount();
    auto file = open_file(*fs, "f", FsOpenMode::create_new);
    write_text(*file, "abc");
    EXPECT_EQ(file->sync(), 0);
    EXPECT_EQ(fs->rename("f", "g"), 0);
    EXPECT_EQ(fs->sync_directory(), 0);
    EXPECT_EQ(fs->unlink("missing"), ENOENT);
    rig.disk.crash();
    rig.sim.trace().write_json_lines_to(nullptr);
    const std::string text = json.str();
    for (const char* event :
         {"\"event\":\"fs_open\",\"process\":\"network\",\"name\":\"f\"", "\"event\":\"fs_write\"",
          "\"event\":\"fs_sync\"",
          "\"event\":\"fs_rename\",\"process\":\"network\",\"from\":\"f\",\"to\":\"g\"",
          "\"event\":\"fs_sync_dir\"", "\"call\":\"unlink\",\"errno\":2",
          "\"event\":\"fs_crash\""}) {
        EXPECT_NE(text.find(event), std::string::npos) << event << "\n" << text;
    }
}

}  // namespace
}  // namespace ferry::sim
