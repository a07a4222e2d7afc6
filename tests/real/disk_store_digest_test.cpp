// DiskStore keeps an upload's digest with its file, as the extended attribute
// user.ferry.xxh3-128 (docs/storage.md): set on the temporary file before its
// fsync, so it goes through the rename with the bytes it describes and never
// onto another version; a file without one gets one from its first reader.
// On a filesystem without user xattrs every test checks the fallback: no
// digest is kept, and readers hash.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sys/xattr.h>

#include <thread>

#include "ferry/protocol/digest.h"
#include "ferry/protocol/ferry_client.h"
#include "ferry/protocol/ferry_server.h"
#include "ferry/real/disk_store.h"
#include "real_test_support.h"

namespace ferry {
namespace {

using testing::Bytes;
using testing::random_bytes;
using testing::TempDir;
using testing::to_bytes;
using testing::write_file;

constexpr const char* attribute = "user.ferry.xxh3-128";

/// Whether dir's filesystem keeps user xattrs.
bool keeps_attributes(const std::filesystem::path& dir) {
    const auto probe = dir / "probe";
    write_file(probe, to_bytes("x"));
    const bool kept = ::setxattr(probe.c_str(), "user.ferry.probe", "1", 1, 0) == 0;
    std::filesystem::remove(probe);
    return kept;
}

/// The attribute's value on path, or none.
std::optional<std::string> attribute_of(const std::filesystem::path& path) {
    char value[256];
    const ssize_t got = ::getxattr(path.c_str(), attribute, value, sizeof value);
    if (got < 0)
        return std::nullopt;
    return std::string(value, static_cast<std::size_t>(got));
}

void put(Store& store, const std::string& name, const Bytes& bytes, bool with_digest = true) {
    auto upload = store.begin_upload(name);
    upload->write(bytes);
    if (with_digest)
        upload->set_digest(digest_hex(bytes));
    upload->commit();
}

/// What a reader of name says it keeps, if the directory keeps anything;
/// expected_if_kept otherwise goes unchecked and none is expected.
void expect_stored(Store& store, const std::string& name, bool kept,
                   const std::optional<std::string>& expected_if_kept) {
    const auto reader = store.open(name);
    EXPECT_EQ(reader->stored_digest(), kept ? expected_if_kept : std::nullopt);
}

TEST(DiskStoreDigest, AnUploadKeepsItsDigestWithTheFile) {
    TempDir dir;
    const bool kept = keeps_attributes(dir.path());
    DiskStore store(dir.path());
    const Bytes bytes = random_bytes(5000, 1);
    put(store, "f", bytes);
    expect_stored(store, "f", kept, digest_hex(bytes));
    if (kept) {
        EXPECT_EQ(attribute_of(dir.path() / "f"), digest_hex(bytes) + " 5000");
    }
}

TEST(DiskStoreDigest, AnOverwriteNeverCarriesTheOldDigest) {
    TempDir dir;
    const bool kept = keeps_attributes(dir.path());
    DiskStore store(dir.path());
    const Bytes old_bytes = random_bytes(100, 2);
    const Bytes new_bytes = random_bytes(100, 3);  // the same size
    put(store, "f", old_bytes);
    const auto old_reader = store.open("f");
    put(store, "f", new_bytes);
    // A reader of the old version keeps its digest; a new reader gets the new.
    EXPECT_EQ(old_reader->stored_digest(),
              kept ? std::optional(digest_hex(old_bytes)) : std::nullopt);
    expect_stored(store, "f", kept, digest_hex(new_bytes));
    // An upload that says no digest leaves none: not the old one.
    put(store, "f", old_bytes, false);
    expect_stored(store, "f", kept, std::nullopt);
    // Nor does a digest kept by the old version's reader land on the new one.
    old_reader->keep_digest(digest_hex(new_bytes));
    expect_stored(store, "f", kept, std::nullopt);
}

TEST(DiskStoreDigest, AFileWithoutADigestGetsOneFromItsFirstReader) {
    TempDir dir;
    const bool kept = keeps_attributes(dir.path());
    const Bytes bytes = random_bytes(3000, 4);
    write_file(dir.path() / "legacy", bytes);  // put there before digests were kept
    DiskStore store(dir.path());
    expect_stored(store, "legacy", kept, std::nullopt);
    store.open("legacy")->keep_digest(digest_hex(bytes));
    expect_stored(store, "legacy", kept, digest_hex(bytes));
}

TEST(DiskStoreDigest, ADigestOfAnotherSizeOrFormIsIgnored) {
    TempDir dir;
    if (!keeps_attributes(dir.path()))
        GTEST_SKIP() << "the filesystem keeps no user xattrs";
    const Bytes bytes = random_bytes(10, 5);
    write_file(dir.path() / "f", bytes);
    DiskStore store(dir.path());
    for (const std::string& value : {digest_hex(bytes) + " 11", digest_hex(bytes), std::string("x"),
                                     digest_hex(bytes) + " 10x", std::string(32, 'Z') + " 10"}) {
        SCOPED_TRACE(value);
        ASSERT_EQ(::setxattr((dir.path() / "f").c_str(), attribute, value.data(), value.size(), 0),
                  0);
        expect_stored(store, "f", true, std::nullopt);
    }
}

TEST(DiskStoreDigest, AGetOverLoopbackHashesALegacyFileOnceAndKeepsItsDigest) {
    TempDir dir;
    const bool kept = keeps_attributes(dir.path());
    const Bytes bytes = random_bytes(1 << 20, 6);
    write_file(dir.path() / "legacy", bytes);
    DiskStore store(dir.path());
    for (int get = 1; get <= 2; ++get) {
        SCOPED_TRACE(get);
        auto pair = testing::connected_pair();
        std::thread server([&] { serve_ferry_connection(*pair.server, store, {}); });
        pair.client->set_timeout(testing::patience);
        testing::BytesSink received;
        FerryClient(*pair.client, 64 * 1024).get("legacy", received);
        pair.client->close();
        server.join();
        EXPECT_EQ(received.bytes(), bytes);
        if (kept) {
            EXPECT_EQ(attribute_of(dir.path() / "legacy"), digest_hex(bytes) + " 1048576");
        }
    }
}

}  // namespace
}  // namespace ferry
