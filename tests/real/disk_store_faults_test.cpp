// Every filesystem call of a real PUT failing in turn, as SQLite's test VFS
// fails I/O call 1, 2, 3, ... until a run completes with no fault: a real
// client and server over loopback TCP, a DiskStore on a real directory, and
// between the store and the kernel a FaultyFilesystem that fails the Nth call
// of the PosixFilesystem door. After each, the reply and the directory must
// agree with docs/protocol.md.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <thread>

#include "ferry/protocol/digest.h"
#include "ferry/protocol/ferry_client.h"
#include "ferry/protocol/ferry_server.h"
#include "ferry/real/disk_store.h"
#include "ferry/real/faulty_filesystem.h"
#include "ferry/real/posix_filesystem.h"
#include "real_test_support.h"

namespace ferry {
namespace {

using testing::Bytes;
using testing::BytesReader;
using testing::random_bytes;
using testing::read_file;
using testing::stored_names;
using testing::TempDir;
using namespace std::chrono_literals;

constexpr std::size_t chunk = 1024;

struct FaultyPut {
    int code = 0;  ///< 0 for OK, else the ERR code; -1 when the connection failed
    std::vector<FsCall> calls;
    bool fault_injected = false;
};

/// A store on root whose door the test can fail.
struct FaultyDiskStore {
    explicit FaultyDiskStore(const std::filesystem::path& root) {
        auto posix = PosixFilesystem::open_root(root);
        EXPECT_TRUE(posix.ok());
        auto faulty_owned = std::make_unique<FaultyFilesystem>(std::move(posix.value));
        faulty = faulty_owned.get();
        store = std::make_unique<DiskStore>(std::move(faulty_owned));
    }
    FaultyFilesystem* faulty = nullptr;
    std::unique_ptr<DiskStore> store;
};

/// One PUT of bytes as "f" through a real connection, with plan armed.
FaultyPut put_with_plan(FaultyDiskStore& disk, const FsFailurePlan& plan, const Bytes& bytes) {
    auto pair = testing::connected_pair();
    FerryServerConfig config;
    config.chunk_bytes = chunk;
    config.linger_timeout = 200ms;
    std::thread server([&] { serve_ferry_connection(*pair.server, *disk.store, config); });
    disk.faulty->set_plan(plan);
    FaultyPut outcome;
    try {
        pair.client->set_timeout(testing::patience);
        const auto result = FerryClient(*pair.client, chunk).try_put("f", BytesReader(bytes));
        if (const auto* refused = std::get_if<Refusal>(&result))
            outcome.code = refused->code;
    } catch (const ConnectionError&) {
        outcome.code = -1;
    }
    pair.client->close();
    server.join();
    outcome.calls = disk.faulty->calls();
    outcome.fault_injected = disk.faulty->failed();
    disk.faulty->set_plan({});
    return outcome;
}

/// Whether a PUT whose call failed (and, with persist, every call after it)
/// still replaced the old version.
bool new_version_in_place(FsCall call, bool persist) {
    // A digest the store cannot keep costs a hash at GET, not the upload.
    return call == FsCall::sync_directory || (call == FsCall::set_attribute && !persist);
}

/// The reply docs/protocol.md promises when call fails with error (and, with
/// persist, every call after it).
int expected_code(FsCall call, int error, bool persist) {
    if (call == FsCall::set_attribute)
        return persist ? expected_code(FsCall::sync, error, persist) : 0;  // the fsync after it
    if (call == FsCall::stat || call == FsCall::sync_directory)
        return 500;  // a failed stat is not a full disk; nor is a failed directory sync
    return error == ENOSPC ? 507 : 500;
}

struct Variant {
    int error;
    bool persist;
};

void PrintTo(const Variant& variant, std::ostream* out) {
    *out << (variant.error == EIO ? "EIO" : "ENOSPC") << (variant.persist ? ", persistent" : "");
}

class EveryCallOfAPutFails : public ::testing::TestWithParam<Variant> {};

TEST_P(EveryCallOfAPutFails, AndTheReplyAndTheDirectoryAgreeWithTheProtocol) {
    const Variant variant = GetParam();
    const Bytes old_bytes = random_bytes(1500, 1);
    const Bytes new_bytes = random_bytes(3 * chunk + 5, 2);  // four writes
    std::vector<FsCall> clean_calls;
    for (std::uint64_t n = 1;; ++n) {
        SCOPED_TRACE("call " + std::to_string(n));
        TempDir dir;
        testing::write_file(dir.path() / "f", old_bytes);
        FaultyPut outcome;
        {
            FaultyDiskStore disk(dir.path());
            outcome =
                put_with_plan(disk, {n, std::nullopt, variant.error, variant.persist}, new_bytes);
            if (!outcome.fault_injected) {
                // Past the last call: the PUT ran clean.
                EXPECT_EQ(outcome.code, 0);
                EXPECT_EQ(read_file(dir.path() / "f"), new_bytes);
                EXPECT_GE(n, 8u) << "a PUT makes at least stat, open, writes, sync, close, "
                                    "rename and a directory sync";
                break;
            }
            const FsCall failed = outcome.calls[n - 1];
            SCOPED_TRACE(std::string("failing ") + std::string(to_string(failed)));
            EXPECT_EQ(outcome.code, expected_code(failed, variant.error, variant.persist));
            // The directory sync fails after the rename: the new version is
            // in place (docs/protocol.md, ERR 500); so it is when only its
            // digest could not be kept; any other failure leaves the old one.
            const Bytes& expected =
                new_version_in_place(failed, variant.persist) ? new_bytes : old_bytes;
            EXPECT_EQ(read_file(dir.path() / "f"), expected);
            if (!variant.persist) {
                EXPECT_THAT(stored_names(dir.path()), ::testing::ElementsAre("f"));
            }
        }
        // A restart removes whatever a dead disk kept the store from removing.
        DiskStore restarted(dir.path());
        EXPECT_THAT(stored_names(dir.path()), ::testing::ElementsAre("f"));
    }
}

INSTANTIATE_TEST_SUITE_P(DiskStoreFaults, EveryCallOfAPutFails,
                         ::testing::Values(Variant{EIO, false}, Variant{EIO, true},
                                           Variant{ENOSPC, false}, Variant{ENOSPC, true}),
                         [](const ::testing::TestParamInfo<Variant>& param) {
                             return std::string(param.param.error == EIO ? "Eio" : "Enospc") +
                                    (param.param.persist ? "Persistent" : "Transient");
                         });

TEST(DiskStoreFaults, ACleanPutMakesTheseCallsInThisOrder) {
    TempDir dir;
    FaultyDiskStore disk(dir.path());
    const FaultyPut outcome = put_with_plan(disk, {}, random_bytes(2 * chunk + 1, 3));
    EXPECT_EQ(outcome.code, 0);
    std::vector<std::string> names;
    for (const FsCall call : outcome.calls)
        names.emplace_back(to_string(call));
    EXPECT_THAT(names,
                ::testing::ElementsAre("stat", "open", "write", "write", "write", "set_attribute",
                                       "sync", "close", "rename", "sync_directory"));
}

TEST(DiskStoreFaults, AFailedDirectorySyncSaysTheNewVersionIsVisible) {
    TempDir dir;
    FaultyDiskStore disk(dir.path());
    disk.faulty->set_plan({1, FsCall::sync_directory, EIO, false});
    auto upload = disk.store->begin_upload("f");
    upload->write(testing::to_bytes("new"));
    const StoreStatus failed = upload->try_commit();
    ASSERT_TRUE(failed);
    EXPECT_EQ(failed->kind, StoreErrorKind::io);
    EXPECT_TRUE(failed->new_version_visible);
    EXPECT_THAT(failed->message, ::testing::HasSubstr("in place but not known to be durable"));
    EXPECT_EQ(read_file(dir.path() / "f"), testing::to_bytes("new"));
    upload.reset();  // aborting after that removes nothing
    EXPECT_THAT(stored_names(dir.path()), ::testing::ElementsAre("f"));
}

TEST(DiskStoreFaults, EveryOtherFailedCommitSaysNothingIsVisible) {
    for (const FsCall call : {FsCall::sync, FsCall::close, FsCall::rename}) {
        SCOPED_TRACE(std::string(to_string(call)));
        TempDir dir;
        FaultyDiskStore disk(dir.path());
        disk.faulty->set_plan({1, call, EIO, false});
        auto upload = disk.store->begin_upload("f");
        upload->write(testing::to_bytes("new"));
        const StoreStatus failed = upload->try_commit();
        ASSERT_TRUE(failed);
        EXPECT_FALSE(failed->new_version_visible);
        EXPECT_THAT(stored_names(dir.path()), ::testing::IsEmpty());
    }
}

}  // namespace
}  // namespace ferry
