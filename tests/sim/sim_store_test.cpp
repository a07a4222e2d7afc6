// SimStore keeps the Store's promises (invisible until commit, nothing left
// by a failure) while its faults fire: disk full, failing write, fsync and
// rename, and a crash.

#include "sim/sim_store.h"

#include <gtest/gtest.h>

#include <sstream>

#include "sim/simulation.h"
#include "sim_test_support.h"

namespace ferry::sim {
namespace {

using testing::bytes_of;

StoreErrorKind error_kind_of(const std::function<void()>& call) {
    try {
        call();
    } catch (const StoreError& e) {
        return e.kind();
    }
    ADD_FAILURE() << "no StoreError";
    return StoreErrorKind::not_found;
}

TEST(SimStore, UploadIsInvisibleUntilCommitted) {
    Simulation sim({});
    SimStore store(sim);
    auto upload = store.begin_upload("a.txt");
    upload->write(as_bytes("hello "));
    upload->write(as_bytes("world"));
    EXPECT_TRUE(store.list().empty());
    EXPECT_EQ(error_kind_of([&] { store.open("a.txt"); }), StoreErrorKind::not_found);
    EXPECT_EQ(store.pending_bytes(), 11u);
    upload->commit();
    EXPECT_EQ(store.list(), (std::vector<FileInfo>{{"a.txt", 11}}));
    EXPECT_EQ(store.file("a.txt"), bytes_of("hello world"));
    EXPECT_EQ(store.pending_bytes(), 0u);
}

TEST(SimStore, ReaderReadsAcrossWriteBoundaries) {
    Simulation sim({});
    SimStore store(sim);
    auto upload = store.begin_upload("a.txt");
    for (const char* piece : {"ab", "cde", "f", "ghij"})
        upload->write(as_bytes(piece));
    upload->commit();
    auto reader = store.open("a.txt");
    std::vector<std::byte> buffer(4);
    ASSERT_EQ(reader->read_at(1, buffer), 4u);
    EXPECT_EQ(as_text(buffer), "bcde");
    ASSERT_EQ(reader->read_at(8, buffer), 2u);
    EXPECT_EQ(as_text(std::span(buffer).first(2)), "ij");
    EXPECT_EQ(reader->read_at(10, buffer), 0u);
}

TEST(SimStore, ManyWritesReadBackWholeAtEveryOffsetAndInPlace) {
    // Enough writes of uneven sizes to fill several of the store's growing
    // blocks; every read and view must agree with the bytes written.
    Simulation sim({});
    SimStore store(sim);
    const auto bytes = testing::random_bytes(300'000, 7);
    auto upload = store.begin_upload("big");
    for (std::size_t at = 0, n = 1; at < bytes.size(); at += n, n = n * 3 % 5003 + 1) {
        n = std::min(n, bytes.size() - at);
        upload->write(std::span(bytes).subspan(at, n));
    }
    upload->commit();
    EXPECT_EQ(store.file("big"), bytes);
    EXPECT_EQ(store.first_difference("big", bytes), std::nullopt);
    auto reader = store.open("big");
    for (std::uint64_t offset = 0; offset < bytes.size(); offset += 4093) {
        std::vector<std::byte> buffer(5000);
        const std::size_t got = reader->read_at(offset, buffer);
        ASSERT_EQ(got, std::min<std::size_t>(5000, bytes.size() - offset));
        ASSERT_TRUE(std::equal(buffer.begin(), buffer.begin() + got, bytes.begin() + offset));
        const auto view = reader->view_at(offset, 5000);
        ASSERT_FALSE(view.empty());
        ASSERT_LE(view.size(), 5000u);
        ASSERT_TRUE(std::equal(view.begin(), view.end(), bytes.begin() + offset));
    }
    EXPECT_TRUE(reader->view_at(bytes.size(), 10).empty());
}

TEST(SimStore, FirstDifferenceNamesTheFirstByteThatDiffers) {
    Simulation sim({});
    SimStore store(sim);
    auto upload = store.begin_upload("a");
    upload->write(as_bytes("hello "));
    upload->write(as_bytes("world"));
    upload->commit();
    EXPECT_EQ(store.first_difference("a", as_bytes("hello world")), std::nullopt);
    EXPECT_EQ(store.first_difference("a", as_bytes("hello World")), 6u);
    EXPECT_EQ(store.first_difference("a", as_bytes("hello")), 5u);
    EXPECT_EQ(store.first_difference("a", as_bytes("hello world!")), 11u);
}

TEST(SimStore, ReaderKeepsTheVersionItOpened) {
    Simulation sim({});
    SimStore store(sim);
    store.put_file("a.txt", bytes_of("old"));
    auto reader = store.open("a.txt");
    store.put_file("a.txt", bytes_of("newer"));
    std::vector<std::byte> buffer(10);
    EXPECT_EQ(reader->read_at(0, buffer), 3u);
}

TEST(SimStore, AbortOrDestructionLeavesNothing) {
    Simulation sim({});
    SimStore store(sim);
    {
        auto upload = store.begin_upload("a.txt");
        upload->write(as_bytes("partial"));
    }
    auto upload = store.begin_upload("b.txt");
    upload->write(as_bytes("partial"));
    upload->abort();
    upload->abort();
    EXPECT_TRUE(store.list().empty());
    EXPECT_EQ(store.pending_bytes(), 0u);
    EXPECT_EQ(store.uploads_in_progress(), 0u);
}

TEST(SimStore, RefusesNamesThatAreNotAllowed) {
    Simulation sim({});
    SimStore store(sim);
    EXPECT_EQ(error_kind_of([&] { store.begin_upload("../etc/passwd"); }),
              StoreErrorKind::name_not_allowed);
    EXPECT_EQ(error_kind_of([&] { store.open(".hidden"); }), StoreErrorKind::name_not_allowed);
}

TEST(SimStore, DiskFullWhenCapacityIsReached) {
    Simulation sim({});
    StoreFaults faults;
    faults.capacity_bytes = 10;
    SimStore store(sim, faults);
    auto upload = store.begin_upload("a.txt");
    upload->write(as_bytes("12345678"));
    EXPECT_EQ(error_kind_of([&] { upload->write(as_bytes("abc")); }), StoreErrorKind::disk_full);
    upload->abort();
    EXPECT_TRUE(store.list().empty());
}

TEST(SimStore, TheNthWriteFails) {
    for (std::uint64_t n = 1; n <= 3; ++n) {
        Simulation sim({});
        StoreFaults faults;
        faults.fail_write_at = n;
        SimStore store(sim, faults);
        auto upload = store.begin_upload("a.txt");
        std::uint64_t failed_at = 0;
        for (std::uint64_t i = 1; i <= 4; ++i) {
            try {
                upload->write(as_bytes("x"));
            } catch (const StoreError& e) {
                EXPECT_EQ(e.kind(), StoreErrorKind::io);
                if (failed_at == 0)
                    failed_at = i;
            }
        }
        EXPECT_EQ(failed_at, n);
    }
}

TEST(SimStore, PersistentFailuresKeepFailing) {
    Simulation sim({});
    StoreFaults faults;
    faults.fail_write_at = 2;
    faults.failures_persist = true;
    SimStore store(sim, faults);
    auto upload = store.begin_upload("a.txt");
    upload->write(as_bytes("x"));
    int failures = 0;
    for (int i = 0; i < 3; ++i) {
        try {
            upload->write(as_bytes("x"));
        } catch (const StoreError&) {
            ++failures;
        }
    }
    EXPECT_EQ(failures, 3);
}

TEST(SimStore, InjectedFaultsAreReturnedByTryWriteAndTryCommit) {
    Simulation sim({});
    StoreFaults faults;
    faults.fail_write_at = 2;
    faults.fail_fsync_at = 1;
    SimStore store(sim, faults);
    std::ostringstream json;
    sim.trace().write_json_lines_to(&json);
    auto upload = store.begin_upload("a.txt");
    EXPECT_EQ(upload->try_write(as_bytes("x")), std::nullopt);
    const StoreStatus write_failed = upload->try_write(as_bytes("y"));
    ASSERT_TRUE(write_failed);
    EXPECT_EQ(write_failed->kind, StoreErrorKind::io);
    EXPECT_EQ(write_failed->message, "I/O error writing \"a.txt\"");
    const StoreStatus fsync_failed = upload->try_commit();
    ASSERT_TRUE(fsync_failed);
    EXPECT_EQ(fsync_failed->message, "I/O error syncing \"a.txt\"");
    EXPECT_TRUE(store.list().empty());
    // Each fault is in the trace, where the failed call made it.
    const std::string text = json.str();
    const auto write_fault = text.find("\"event\":\"store_fault\"");
    ASSERT_NE(write_fault, std::string::npos) << text;
    EXPECT_NE(text.find("\"event\":\"store_fault\"", write_fault + 1), std::string::npos) << text;
    EXPECT_LT(text.find("\"event\":\"store_write\""), write_fault) << text;
    sim.trace().write_json_lines_to(nullptr);
}

TEST(SimStore, FailedFsyncOrRenameLeavesNothingVisible) {
    for (const bool fsync : {true, false}) {
        Simulation sim({});
        StoreFaults faults;
        (fsync ? faults.fail_fsync_at : faults.fail_rename_at) = 1;
        SimStore store(sim, faults);
        auto upload = store.begin_upload("a.txt");
        upload->write(as_bytes("data"));
        EXPECT_EQ(error_kind_of([&] { upload->commit(); }), StoreErrorKind::io);
        upload->abort();
        EXPECT_TRUE(store.list().empty());
        // The next commit succeeds.
        auto again = store.begin_upload("a.txt");
        again->write(as_bytes("data"));
        again->commit();
        EXPECT_EQ(store.file("a.txt"), bytes_of("data"));
    }
}

TEST(SimStore, CrashDropsWhatWasNotSyncedAndKeepsWhatWas) {
    Simulation sim({});
    SimStore store(sim);
    auto committed = store.begin_upload("kept.txt");
    committed->write(as_bytes("durable"));
    committed->commit();
    auto in_progress = store.begin_upload("lost.txt");
    in_progress->write(as_bytes("unsynced"));

    store.crash();

    EXPECT_EQ(store.file("kept.txt"), bytes_of("durable"));
    EXPECT_EQ(store.pending_bytes(), 0u);
    EXPECT_EQ(error_kind_of([&] { in_progress->write(as_bytes("more")); }), StoreErrorKind::io);
    EXPECT_EQ(error_kind_of([&] { in_progress->commit(); }), StoreErrorKind::io);
    in_progress.reset();
    EXPECT_EQ(store.list(), (std::vector<FileInfo>{{"kept.txt", 7}}));
}

TEST(SimStore, OperationsGoIntoTheTrace) {
    Simulation sim({});
    SimStore store(sim);
    std::ostringstream json;
    sim.trace().write_json_lines_to(&json);
    auto upload = store.begin_upload("a.txt");
    upload->write(as_bytes("abc"));
    upload->commit();
    const std::string text = json.str();
    EXPECT_NE(text.find("\"event\":\"store_begin\""), std::string::npos);
    EXPECT_NE(text.find("\"event\":\"store_write\""), std::string::npos);
    EXPECT_NE(text.find("\"event\":\"store_commit\",\"process\":\"network\",\"name\":\"a.txt\""),
              std::string::npos)
        << text;
    sim.trace().write_json_lines_to(nullptr);
}

}  // namespace
}  // namespace ferry::sim
