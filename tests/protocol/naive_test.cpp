// The chapter's protocol, bugs included: these tests pin the behaviour the
// harness exists to find.

#include "ferry/protocol/naive.h"

#include <gtest/gtest.h>

#include "ferry/protocol/memory_store.h"
#include "tests/protocol/fake_connection.h"

namespace ferry::testing {
namespace {

constexpr std::size_t chunk = 8;

TEST(NaiveServer, StoresAPayloadThatEndsWithAShortChunkAndRepliesWithTheCount) {
    MemoryStore store;
    ScriptedConnection conn(payload(chunk + 1));
    const auto result = serve_naive_upload(conn, store, "upload-1", chunk);
    EXPECT_EQ(result.stored_bytes, chunk + 1);
    EXPECT_EQ(conn.sent(), "9");  // decimal text, no newline
    EXPECT_EQ(to_string(*store.file("upload-1")), payload(chunk + 1));
}

TEST(NaiveServer, AsksForMoreAfterAFullChunk_TheDeadlockOfExactlyChunkSize) {
    // After exactly CHUNK_SIZE bytes the server recv()s again. The chapter's
    // client never shuts down sending, so on a real connection this recv waits
    // for ever while the client waits for the reply. Here the script ends the
    // stream, which shows the extra recv.
    MemoryStore store;
    ScriptedConnection conn(payload(chunk));
    serve_naive_upload(conn, store, "upload-1", chunk);
    EXPECT_EQ(conn.recv_calls(), 2);
}

TEST(NaiveServer, WaitsForDataOnAZeroBytePayload_TheDeadlockOfZeroBytes) {
    MockConnection conn;
    EXPECT_CALL(conn, do_recv(::testing::SizeIs(chunk))).WillOnce(::testing::Return(0));
    EXPECT_CALL(conn, do_send(::testing::_)).WillOnce(::testing::Return(1));
    MemoryStore store;
    const auto result = serve_naive_upload(conn, store, "upload-1", chunk);
    EXPECT_EQ(result.stored_bytes, 0u);
}

TEST(NaiveServer, TruncatesWhenARecvComesBackShort) {
    MemoryStore store;
    ScriptedConnection conn(payload(3 * chunk), chunk - 1);
    const auto result = serve_naive_upload(conn, store, "upload-1", chunk);
    EXPECT_EQ(result.stored_bytes, chunk - 1) << "the chapter's server stops at a short read";
    EXPECT_EQ(conn.sent(), "7");
}

TEST(NaiveClient, SendsEveryByteThenReadsOneReply) {
    ScriptedConnection conn("1000");
    conn.limit_send_bytes(3);
    const std::string body = payload(1000);
    const auto result = naive_put(conn, BytesReader(body), 1024);
    EXPECT_EQ(conn.sent(), body);
    EXPECT_EQ(result.sent_bytes, 1000u);
    EXPECT_EQ(result.reply, "1000");
    EXPECT_FALSE(conn.send_shut()) << "the chapter's client never half-closes";
}

TEST(NaiveClient, ReadsOnlyOneRecvOfTheReply) {
    ScriptedConnection conn("1000", 2);
    const auto result = naive_put(conn, BytesReader(payload(1000)), 1024);
    EXPECT_EQ(result.reply, "10");
}

TEST(UploadNamer, CountsUpSkippingNamesTheStoreHas) {
    MemoryStore store;
    store.put_file("upload-2", {});
    UploadNamer namer;
    EXPECT_EQ(namer.next(store), "upload-1");
    EXPECT_EQ(namer.next(store), "upload-3");
}

}  // namespace
}  // namespace ferry::testing
