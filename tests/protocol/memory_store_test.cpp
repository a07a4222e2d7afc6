#include "ferry/protocol/memory_store.h"

#include <gtest/gtest.h>

#include "tests/protocol/fake_connection.h"

namespace ferry::testing {
namespace {

TEST(MemoryStore, UploadIsInvisibleUntilCommit) {
    MemoryStore store;
    auto upload = store.begin_upload("a.txt");
    upload->write(as_bytes("hello"));
    EXPECT_TRUE(store.list().empty());
    EXPECT_THROW(store.open("a.txt"), StoreError);
    upload->commit();
    EXPECT_EQ(store.list(), (std::vector<FileInfo>{{"a.txt", 5}}));
}

TEST(MemoryStore, DestroyedUploadLeavesNothing) {
    MemoryStore store;
    {
        auto upload = store.begin_upload("a.txt");
        upload->write(as_bytes("hello"));
    }
    EXPECT_TRUE(store.list().empty());
    EXPECT_EQ(store.pending_bytes(), 0u);
}

TEST(MemoryStore, ReaderKeepsTheVersionItOpened) {
    MemoryStore store;
    store.put_file("a", to_bytes("old"));
    auto reader = store.open("a");
    store.put_file("a", to_bytes("newer"));
    std::vector<std::byte> buffer(10);
    EXPECT_EQ(reader->read_at(0, buffer), 3u);
    EXPECT_EQ(reader->size_bytes(), 3u);
}

TEST(MemoryStore, ListIsSortedByName) {
    MemoryStore store;
    store.put_file("b", {});
    store.put_file("a", {});
    store.put_file("C", {});
    const auto files = store.list();
    ASSERT_EQ(files.size(), 3u);
    EXPECT_EQ(files[0].name, "C");
    EXPECT_EQ(files[1].name, "a");
    EXPECT_EQ(files[2].name, "b");
}

TEST(MemoryStore, WritePastCapacityIsDiskFullAndCountsPendingUploads) {
    MemoryStore store(10);
    store.put_file("old", to_bytes("12345"));
    auto upload = store.begin_upload("new");
    upload->write(as_bytes("1234"));
    try {
        upload->write(as_bytes("12"));
        FAIL() << "expected disk full";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreErrorKind::disk_full);
    }
}

TEST(MemoryStore, TryWriteAndTryCommitReturnTheirFailure) {
    MemoryStore store(10);
    auto upload = store.begin_upload("new");
    EXPECT_EQ(upload->try_write(as_bytes("1234")), std::nullopt);
    const StoreStatus full = upload->try_write(as_bytes("1234567"));
    ASSERT_TRUE(full);
    EXPECT_EQ(full->kind, StoreErrorKind::disk_full);
    EXPECT_EQ(full->message, "disk full writing \"new\"");
    EXPECT_EQ(store.pending_bytes(), 4u);  // the refused bytes are not counted
    EXPECT_EQ(upload->try_commit(), std::nullopt);
    EXPECT_EQ(store.file("new"), to_bytes("1234"));
    const StoreStatus again = upload->try_commit();
    ASSERT_TRUE(again);
    EXPECT_EQ(again->kind, StoreErrorKind::io);
}

TEST(MemoryStore, ReplacingAFileFreesItsSpace) {
    MemoryStore store(10);
    store.put_file("a", to_bytes("1234567890"));
    store.put_file("a", to_bytes("1"));
    auto upload = store.begin_upload("b");
    EXPECT_NO_THROW(upload->write(as_bytes("123456789")));
}

TEST(MemoryStore, RefusesBadNames) {
    MemoryStore store;
    for (const char* name : {"..", "a/b", ".x", ""}) {
        try {
            store.begin_upload(name);
            FAIL() << name;
        } catch (const StoreError& e) {
            EXPECT_EQ(e.kind(), StoreErrorKind::name_not_allowed);
        }
    }
}

}  // namespace
}  // namespace ferry::testing
