// The quota decorator the real backend uses to play a full disk: what it
// refuses, what it gives back, and that its failures are returned, never
// thrown, so the server can still answer them.

#include "ferry/harness/quota_store.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ferry/protocol/digest.h"
#include "ferry/protocol/ferry_server.h"
#include "ferry/protocol/memory_store.h"
#include "tests/protocol/fake_connection.h"

namespace ferry::harness {
namespace {

using ferry::testing::payload;
using ferry::testing::ScriptedConnection;
using ferry::testing::to_bytes;
using ::testing::HasSubstr;
using ::testing::StartsWith;

TEST(QuotaStore, AWritePastTheQuotaIsDiskFullAndNothingIsCounted) {
    MemoryStore inner;
    QuotaStore store(inner, 10);
    auto upload = store.begin_upload("a");
    EXPECT_EQ(upload->try_write(as_bytes("12345678")), std::nullopt);
    const StoreStatus full = upload->try_write(as_bytes("abc"));
    ASSERT_TRUE(full);
    EXPECT_EQ(full->kind, StoreErrorKind::disk_full);
    EXPECT_EQ(full->message, "disk full writing \"a\" (quota 10 bytes)");
    // What fits is still taken, and write() throws the same failure.
    EXPECT_EQ(upload->try_write(as_bytes("12")), std::nullopt);
    try {
        upload->write(as_bytes("x"));
        FAIL() << "expected disk full";
    } catch (const StoreError& e) {
        EXPECT_EQ(e.kind(), StoreErrorKind::disk_full);
    }
}

/// A store whose commits all fail after the new version is in place, as a
/// DiskStore's does when the directory's fsync fails after the rename.
class NotDurableStore : public Store {
  public:
    std::unique_ptr<Upload> begin_upload(std::string_view name) override {
        class NotDurableUpload : public Upload {
          public:
            explicit NotDurableUpload(std::unique_ptr<Upload> inner) : inner_(std::move(inner)) {}
            StoreStatus try_write(std::span<const std::byte> bytes) override {
                return inner_->try_write(bytes);
            }
            StoreStatus try_commit() override {
                if (StoreStatus failed = inner_->try_commit())
                    return failed;
                StoreFailure failed{StoreErrorKind::io, "in place but not known to be durable"};
                failed.new_version_visible = true;
                return failed;
            }
            void abort() noexcept override { inner_->abort(); }

          private:
            std::unique_ptr<Upload> inner_;
        };
        return std::make_unique<NotDurableUpload>(inner.begin_upload(name));
    }
    std::unique_ptr<FileReader> open(std::string_view name) override { return inner.open(name); }
    std::vector<FileInfo> list() override { return inner.list(); }

    MemoryStore inner;
};

TEST(QuotaStore, ACommitThatFailedWithItsVersionInPlaceIsCountedOnce) {
    NotDurableStore inner;
    QuotaStore store(inner, 10);
    auto upload = store.begin_upload("a");
    EXPECT_EQ(upload->try_write(as_bytes("123456")), std::nullopt);
    const StoreStatus failed = upload->try_commit();
    ASSERT_TRUE(failed);
    EXPECT_TRUE(failed->new_version_visible);
    // "a" is listed now; its reservation is gone, so 4 more bytes fit.
    auto next = store.begin_upload("b");
    EXPECT_EQ(next->try_write(as_bytes("1234")), std::nullopt);
    EXPECT_TRUE(next->try_write(as_bytes("1")));
}

TEST(QuotaStore, CommittedFilesCountAndAnAbortedUploadGivesItsBytesBack) {
    MemoryStore inner;
    inner.put_file("old", to_bytes("123456"));
    QuotaStore store(inner, 10);
    {
        auto upload = store.begin_upload("a");
        EXPECT_TRUE(upload->try_write(as_bytes("12345")));  // 6 + 5 > 10
        EXPECT_EQ(upload->try_write(as_bytes("1234")), std::nullopt);
        upload->abort();
    }
    auto again = store.begin_upload("b");
    EXPECT_EQ(again->try_write(as_bytes("1234")), std::nullopt);
    EXPECT_EQ(again->try_commit(), std::nullopt);
    EXPECT_EQ(inner.file("b"), to_bytes("1234"));
    // b is committed now, and still counts: the quota is full.
    EXPECT_TRUE(store.begin_upload("c")->try_write(as_bytes("1")));
}

/// A store whose directory cannot be listed, as when it runs out of file
/// descriptors.
class UnlistableStore : public MemoryStore {
  public:
    std::vector<FileInfo> list() override {
        throw StoreError(StoreErrorKind::io, "cannot list the store: too many open files");
    }
};

TEST(QuotaStore, AStoreThatCannotBeListedIsAReturnedFailure) {
    UnlistableStore inner;
    QuotaStore store(inner, 10);
    auto upload = store.begin_upload("a");
    StoreStatus failed;
    EXPECT_NO_THROW(failed = upload->try_write(as_bytes("abc")));
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->kind, StoreErrorKind::io);
    EXPECT_THAT(failed->message, HasSubstr("too many open files"));
}

TEST(QuotaStore, TheServerAnswersAFailureToListWithAnErrLine) {
    UnlistableStore inner;
    QuotaStore store(inner, 1000);
    const std::string body = payload(100);
    ScriptedConnection conn(fmt::format("PUT a.bin 100 {}\n{}", digest_hex(as_bytes(body)), body));
    serve_ferry_connection(conn, store, FerryServerConfig{});
    EXPECT_THAT(conn.sent(), StartsWith("ERR 500 cannot list the store"));
    EXPECT_FALSE(inner.file("a.bin"));
}

}  // namespace
}  // namespace ferry::harness
