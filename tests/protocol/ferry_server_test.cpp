// The ferry/1 server's request handling, driven through scripted and mocked
// connections (the chapter's MockRequest, grown up).

#include "ferry/protocol/ferry_server.h"

#include <algorithm>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ferry/protocol/buffered_reader.h"
#include "ferry/protocol/digest.h"
#include "ferry/protocol/ferry_wire.h"
#include "ferry/protocol/memory_store.h"
#include "tests/protocol/fake_connection.h"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr std::size_t chunk = 16;

FerryServerConfig small_chunks() {
    FerryServerConfig config;
    config.chunk_bytes = chunk;
    return config;
}

std::string put_request(std::string_view name, std::string_view body) {
    return fmt::format("PUT {} {} {}\n{}", name, body.size(), digest_hex(as_bytes(body)), body);
}

std::string ok_line(std::string_view body) {
    return fmt::format("OK {} {}\n", body.size(), digest_hex(as_bytes(body)));
}

struct Served {
    std::string sent;
    bool closed = false;
    bool send_shut = false;
    Instant ended_at;
};

Served serve(MemoryStore& store, std::string input, std::size_t recv_bytes_max = SIZE_MAX,
             AtEndOfInput at_end = AtEndOfInput::end_of_stream,
             FerryServerConfig config = small_chunks()) {
    ScriptedConnection conn(std::move(input), recv_bytes_max, at_end);
    serve_ferry_connection(conn, store, config);
    return {conn.sent(), conn.closed(), conn.send_shut(), conn.manual_clock().now()};
}

class FerryServerSizes : public ::testing::TestWithParam<std::size_t> {};

TEST_P(FerryServerSizes, PutStoresExactBytesEvenOneByteAtATime) {
    const std::string body = payload(GetParam());
    for (std::size_t recv_max : {std::size_t{1}, std::size_t{7}, SIZE_MAX}) {
        MemoryStore store;
        const Served served = serve(store, put_request("f.bin", body), recv_max);
        EXPECT_EQ(served.sent, ok_line(body)) << "recv_max " << recv_max;
        ASSERT_TRUE(store.file("f.bin"));
        EXPECT_EQ(to_string(*store.file("f.bin")), body);
        EXPECT_TRUE(served.closed);
    }
}

INSTANTIATE_TEST_SUITE_P(ChapterExerciseSizes, FerryServerSizes,
                         ::testing::Values(0, 1, chunk - 1, chunk, chunk + 1, 3 * chunk + 7,
                                           100000));

TEST(FerryServer, ServesSeveralRequestsOnOneConnection) {
    MemoryStore store;
    store.put_file("b.txt", to_bytes("bee"));
    const Served served = serve(store, put_request("a.txt", "hello") + "GET a.txt\nDIR\n");
    EXPECT_EQ(served.sent,
              ok_line("hello") + ok_line("hello") + "hello" + "OK 2\n5 a.txt\n3 b.txt\n");
}

/// line with its check and '\n', as the ferry client sends and the server
/// answers checked requests.
std::string checked(std::string_view line) {
    return with_line_check(line) + "\n";
}

TEST(FerryServer, ChecksCheckedRequestsAndChecksItsRepliesToThem) {
    MemoryStore store;
    const std::string digest = digest_hex(as_bytes(std::string_view("hello")));
    const Served served = serve(store, checked(fmt::format("PUT a.txt 5 {}", digest)) + "hello" +
                                           checked("GET a.txt") + checked("DIR") + "DIR\n");
    // A DIR's checked OK line carries the digest of the listing after it;
    // an unchecked DIR is answered as before.
    EXPECT_EQ(
        served.sent,
        checked(fmt::format("OK 5 {}", digest)) + checked(fmt::format("OK 5 {}", digest)) +
            "hello" +
            checked(fmt::format("OK 1 {}", digest_hex(as_bytes(std::string_view("5 a.txt\n"))))) +
            "5 a.txt\n" + "OK 1\n5 a.txt\n");
}

TEST(FerryServer, ARequestLineFailingItsCheckIsRefusedWith400AndTheConnectionClosed) {
    MemoryStore store;
    std::string line =
        checked(fmt::format("PUT a.txt 5 {}", digest_hex(as_bytes(std::string_view("hello")))));
    line[4] = 'b';  // damaged in flight: "a.txt" arrives as "b.txt"
    const Served served = serve(store, line + "hello" + checked("DIR"));
    EXPECT_THAT(served.sent, StartsWith("ERR 400 "));
    EXPECT_EQ(served.sent, checked("ERR 400 header line check mismatch"));
    EXPECT_TRUE(served.closed);
    EXPECT_TRUE(store.list().empty());
}

TEST(FerryServer, PutWithoutDigestIsAcceptedAndAnsweredWithOne) {
    MemoryStore store;
    const Served served = serve(store, "PUT a 2\nhi");
    EXPECT_EQ(served.sent, ok_line("hi"));
}

TEST(FerryServer, DigestMismatchStoresNothingAndKeepsConnection) {
    MemoryStore store;
    const Served served =
        serve(store, fmt::format("PUT a 5 {}\nhello", std::string(32, '0')) + "DIR\n");
    EXPECT_THAT(served.sent, StartsWith("ERR 422 "));
    EXPECT_THAT(served.sent, HasSubstr("\nOK 0\n"));
    EXPECT_FALSE(store.file("a"));
    EXPECT_EQ(store.pending_bytes(), 0u);
}

TEST(FerryServer, ClientVanishingMidBodyLeavesNothing) {
    MemoryStore store;
    const std::string request = put_request("a", payload(100));
    const Served served = serve(store, request.substr(0, request.size() - 30));
    EXPECT_EQ(served.sent, "");
    EXPECT_TRUE(store.list().empty());
    EXPECT_EQ(store.pending_bytes(), 0u);
    EXPECT_TRUE(served.closed);
}

TEST(FerryServer, ClientResetMidBodyLeavesNothing) {
    MemoryStore store;
    const std::string request = put_request("a", payload(100));
    serve(store, request.substr(0, request.size() - 30), SIZE_MAX, AtEndOfInput::reset);
    EXPECT_TRUE(store.list().empty());
    EXPECT_EQ(store.pending_bytes(), 0u);
}

TEST(FerryServer, PutOverLimitIsRefusedBeforeAnyByteIsStoredAndConnectionEnds) {
    MemoryStore store;
    FerryServerConfig config = small_chunks();
    config.max_file_bytes = 10;
    const Served served = serve(store, put_request("a", payload(11)) + "DIR\n", SIZE_MAX,
                                AtEndOfInput::end_of_stream, config);
    EXPECT_THAT(served.sent, StartsWith("ERR 413 "));
    EXPECT_EQ(served.sent.find("OK"), std::string::npos) << "DIR after a refused PUT was served";
    EXPECT_TRUE(served.send_shut);
    EXPECT_TRUE(store.list().empty());
}

TEST(FerryServer, PutAtLimitIsAccepted) {
    MemoryStore store;
    FerryServerConfig config = small_chunks();
    config.max_file_bytes = 10;
    const Served served =
        serve(store, put_request("a", payload(10)), SIZE_MAX, AtEndOfInput::end_of_stream, config);
    EXPECT_THAT(served.sent, StartsWith("OK 10 "));
}

TEST(FerryServer, BadNamesAreRefusedWith403AndNothingStored) {
    const std::string names[] = {"..",          "../x",    "/etc/passwd",
                                 "a/b",         ".hidden", std::string(256, 'a'),
                                 "caf\xc3\xa9", "-rf",     "--help"};
    for (const auto& name : names) {
        MemoryStore store;
        const Served served = serve(store, put_request(name, "x"));
        EXPECT_THAT(served.sent, StartsWith("ERR 403 ")) << name;
        EXPECT_TRUE(store.list().empty());
    }
}

TEST(FerryServer, DiskFullGives507AndLeavesNothing) {
    MemoryStore store(50);
    const Served served = serve(store, put_request("big", payload(100)));
    EXPECT_THAT(served.sent, StartsWith("ERR 507 "));
    EXPECT_TRUE(store.list().empty());
    EXPECT_EQ(store.pending_bytes(), 0u);
}

TEST(FerryServer, GetMissingFileIs404AndConnectionGoesOn) {
    MemoryStore store;
    const Served served = serve(store, "GET nope\nDIR\n");
    EXPECT_THAT(served.sent, StartsWith("ERR 404 "));
    EXPECT_THAT(served.sent, HasSubstr("\nOK 0\n"));
}

TEST(FerryServer, DirListsSortedSizesAndNames) {
    MemoryStore store;
    store.put_file("zeta", to_bytes("1"));
    store.put_file("alpha", to_bytes("12345"));
    store.put_file("empty", {});
    EXPECT_EQ(serve(store, "DIR\n").sent, "OK 3\n5 alpha\n0 empty\n1 zeta\n");
}

TEST(FerryServer, UnknownCommandIs400AndTheConnectionCloses) {
    MemoryStore store;
    const Served served = serve(store, "HELLO\nDIR\n");
    EXPECT_EQ(served.sent, "ERR 400 unknown command\n");
    EXPECT_TRUE(served.send_shut);
    EXPECT_TRUE(served.closed);
}

TEST(FerryServer, MalformedLinesAre400AndTheConnectionCloses) {
    for (const std::string line : {"", "GET", "GET  a", "DIR x", "PUT a", " DIR", "GET a b"}) {
        MemoryStore store;
        const Served served = serve(store, line + "\nDIR\n");
        EXPECT_THAT(served.sent, StartsWith("ERR 400 ")) << line;
        EXPECT_EQ(served.sent.find("OK"), std::string::npos) << line;
    }
}

TEST(FerryServer, AMebibyteOfGarbageGetsOneReplyAndAFewLogLines) {
    for (const char garbage : {'\n', 'x', '\0'}) {
        MemoryStore store;
        FerryServerConfig config = small_chunks();
        std::vector<std::string> lines;
        config.log = [&](std::string_view line) { lines.emplace_back(line); };
        const Served served = serve(store, std::string(1024 * 1024, garbage), SIZE_MAX,
                                    AtEndOfInput::end_of_stream, config);
        EXPECT_THAT(served.sent, StartsWith("ERR 400 "));
        EXPECT_EQ(std::count(served.sent.begin(), served.sent.end(), '\n'), 1);
        EXPECT_LE(lines.size(), 2u);
    }
}

TEST(FerryServer, RepeatedErrorsAreCountedNotLoggedOneByOne) {
    MemoryStore store;
    FerryServerConfig config = small_chunks();
    std::vector<std::string> lines;
    config.log = [&](std::string_view line) { lines.emplace_back(line); };
    std::string input;
    for (int i = 0; i < 1000; ++i)
        input += "GET nope\n";
    const Served served =
        serve(store, input + "DIR\n", SIZE_MAX, AtEndOfInput::end_of_stream, config);
    // Every request is still answered...
    EXPECT_EQ(std::count(served.sent.begin(), served.sent.end(), '\n'), 1001);
    EXPECT_THAT(served.sent, HasSubstr("\nOK 0\n"));
    // ...but the log holds the first ten errors, the DIR and a summary.
    ASSERT_EQ(lines.size(), 12u);
    EXPECT_THAT(lines[9], HasSubstr("ERR 404"));
    EXPECT_THAT(lines[10], HasSubstr("DIR -> OK 0"));
    EXPECT_THAT(lines[11], HasSubstr("990 more errors not logged one by one: 990 x ERR 404"));
}

TEST(FerryServer, HeaderLineOfExactly1KiBIsReadAndOneByteMoreIsRefused) {
    MemoryStore store;
    const Served fits = serve(store, std::string(header_line_bytes_max - 1, 'X') + "\nDIR\n");
    EXPECT_EQ(fits.sent, "ERR 400 unknown command\n");

    const Served too_long = serve(store, std::string(header_line_bytes_max, 'X') + "\nDIR\n");
    EXPECT_THAT(too_long.sent, StartsWith("ERR 400 "));
    EXPECT_THAT(too_long.sent, HasSubstr("longer than"));
    EXPECT_EQ(too_long.sent.find("OK"), std::string::npos);
}

TEST(FerryServer, HalfAHeaderLineTimesOutAfterTheHeaderTimeoutWith408) {
    MemoryStore store;
    const Served served = serve(store, "PUT a", SIZE_MAX, AtEndOfInput::stall);
    EXPECT_THAT(served.sent, StartsWith("ERR 408 "));
    EXPECT_EQ(served.ended_at, Instant{std::chrono::seconds(10)});
}

TEST(FerryServer, StalledBodyTimesOutAfterTheIdleTimeoutAndStoresNothing) {
    MemoryStore store;
    const std::string request = put_request("a", payload(100));
    const Served served =
        serve(store, request.substr(0, request.size() - 1), SIZE_MAX, AtEndOfInput::stall);
    EXPECT_THAT(served.sent, StartsWith("ERR 408 "));
    EXPECT_EQ(served.ended_at, Instant{std::chrono::seconds(30)});
    EXPECT_TRUE(store.list().empty());
    EXPECT_EQ(store.pending_bytes(), 0u);
}

TEST(FerryServer, IdleClientIsDisconnectedAfterTheIdleTimeout) {
    MemoryStore store;
    const Served served = serve(store, "DIR\n", SIZE_MAX, AtEndOfInput::stall);
    // The request was unchecked, so its reply is; the 408 comes between
    // requests, where the server cannot know, so it is checked.
    EXPECT_EQ(served.sent, "OK 0\n" + with_line_check("ERR 408 timed out") + "\n");
    EXPECT_EQ(served.ended_at, Instant{std::chrono::seconds(30)});
}

TEST(FerryServer, NeverAsksForMoreThanOneChunkOrHeaderBufferAndClosesOnce) {
    // GoogleMock, as the chapter's MockRequest: the server must read the body
    // in chunk-sized pieces (memory O(chunk), plus the fixed buffer header
    // lines are read through) and close exactly once.
    MockConnection conn;
    const std::string input = put_request("a", payload(5 * chunk + 3));
    std::size_t offset = 0;
    std::string sent;
    EXPECT_CALL(conn, do_recv(::testing::_))
        .WillRepeatedly([&](std::span<std::byte> buffer) -> std::size_t {
            EXPECT_LE(buffer.size(), std::max(chunk, BufferedReader::capacity_bytes));
            const std::size_t n = std::min(buffer.size(), input.size() - offset);
            std::memcpy(buffer.data(), input.data() + offset, n);
            offset += n;
            return n;
        });
    EXPECT_CALL(conn, do_send(::testing::_)).WillRepeatedly([&](std::span<const std::byte> bytes) {
        sent.append(as_text(bytes));
        return bytes.size();
    });
    EXPECT_CALL(conn, peer_name()).WillRepeatedly(::testing::Return("mock"));
    EXPECT_CALL(conn, close()).Times(1);
    MemoryStore store;
    serve_ferry_connection(conn, store, small_chunks());
    EXPECT_THAT(sent, StartsWith("OK 83 "));
}

TEST(FerryServer, LogsOneLinePerRequest) {
    MemoryStore store;
    FerryServerConfig config = small_chunks();
    std::vector<std::string> lines;
    config.log = [&](std::string_view line) { lines.emplace_back(line); };
    serve(store, put_request("a", "x") + "GET a\nDIR\n", SIZE_MAX, AtEndOfInput::end_of_stream,
          config);
    ASSERT_EQ(lines.size(), 3u);
    EXPECT_THAT(lines[0], HasSubstr("PUT a 1 -> OK"));
}

TEST(FerryServer, LogsClientTextEscaped) {
    MemoryStore store;
    FerryServerConfig config = small_chunks();
    std::vector<std::string> lines;
    config.log = [&](std::string_view line) { lines.emplace_back(line); };
    // Garbage, a bad name and an unknown verb, each with terminal escapes
    // (clear the screen, retitle the window) and bytes that are not ASCII;
    // each on a connection of its own, since a malformed line ends one.
    for (const char* input : {"\x1b[2J\x1b]0;pwned\x07\n", "GET \x1b[2J\xe2\x80\xae\n",
                              "DIR\x1b[2J x\n", "PUT \x1b]0;x 1\nz"})
        serve(store, input, SIZE_MAX, AtEndOfInput::end_of_stream, config);
    ASSERT_EQ(lines.size(), 4u);
    for (const std::string& line : lines) {
        for (const char c : line) {
            const auto byte = static_cast<unsigned char>(c);
            EXPECT_TRUE(byte >= 0x20 && byte < 0x7f) << "raw byte " << int(byte) << " in " << line;
        }
    }
    EXPECT_THAT(lines[0], HasSubstr("\\x1b[2J\\x1b]0;pwned\\x07"));
}

TEST(RefuseBusy, SendsErr503AndCloses) {
    ScriptedConnection conn("");
    refuse_busy(conn);
    EXPECT_EQ(conn.sent(), with_line_check("ERR 503 too many connections") + "\n");
    EXPECT_TRUE(conn.closed());
}

}  // namespace
}  // namespace ferry::testing
