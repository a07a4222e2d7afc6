// Streamed uploads (PUTS, docs/protocol.md): the frame and trailer lines,
// the server's handling of them, and the client's stream with its fallback
// to PUT on a server from before PUTS.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ferry/protocol/digest.h"
#include "ferry/protocol/ferry_client.h"
#include "ferry/protocol/ferry_server.h"
#include "ferry/protocol/ferry_wire.h"
#include "ferry/protocol/memory_store.h"
#include "tests/protocol/fake_connection.h"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

std::string checked(std::string_view line) {
    return with_line_check(line) + "\n";
}

std::string digest_of(std::string_view body) {
    return digest_hex(as_bytes(body));
}

/// A streamed upload of body in frames of frame bytes, unchecked lines.
std::string puts_request(std::string_view name, std::string_view body, std::size_t frame) {
    std::string out = fmt::format("PUTS {}\n", name);
    for (std::size_t at = 0; at < body.size(); at += frame) {
        const std::string_view piece = body.substr(at, frame);
        out += fmt::format("{}\n{}", piece.size(), piece);
    }
    return out + fmt::format("END {} {}\n", body.size(), digest_of(body));
}

std::string ok_line(std::string_view body) {
    return fmt::format("OK {} {}\n", body.size(), digest_of(body));
}

// ---- wire ----

TEST(StreamLines, ParsesFramesAndTrailerAndFormatsThemBack) {
    const auto frame = parse_stream_line("1048576");
    ASSERT_TRUE(std::holds_alternative<StreamLine>(frame));
    EXPECT_EQ(std::get<StreamFrame>(std::get<StreamLine>(frame)).size_bytes, 1048576u);
    const std::string digest(32, 'a');
    const auto end = parse_stream_line("END 5 " + digest);
    ASSERT_TRUE(std::holds_alternative<StreamLine>(end));
    const StreamLine& line = std::get<StreamLine>(end);
    EXPECT_EQ(format_stream_line(line), "END 5 " + digest + "\n");
    EXPECT_EQ(format_stream_line(StreamFrame{7}, true), checked("7"));
}

TEST(StreamLines, RefusesEveryOtherLineWith400) {
    const std::string digest(32, 'a');
    for (const std::string& line : std::vector<std::string>{
             "0", "00", "01", "+1", "-1", "1048577", "18446744073709551616", "1 1", "x", "", " 1",
             "1 ", "END", "END 1", "END 01 " + digest, "END 1 " + std::string(32, 'A'),
             "END 1 " + digest + " x", "end 1 " + digest}) {
        const auto parsed = parse_stream_line(line);
        ASSERT_TRUE(std::holds_alternative<RequestError>(parsed)) << line;
        EXPECT_EQ(std::get<RequestError>(parsed).code, ErrCode::bad_request) << line;
    }
}

TEST(StreamLines, PutsIsARequestOnlyForAServerThatKnowsIt) {
    const auto parsed = parse_request("PUTS a.bin");
    ASSERT_TRUE(std::holds_alternative<Request>(parsed));
    EXPECT_EQ(std::get<PutStreamRequest>(std::get<Request>(parsed)).name, "a.bin");
    EXPECT_EQ(format_request(PutStreamRequest{"a.bin"}), "PUTS a.bin\n");
    const auto old = parse_request("PUTS a.bin", false);
    ASSERT_TRUE(std::holds_alternative<RequestError>(old));
    EXPECT_EQ(std::get<RequestError>(old).message, "unknown command");
    const auto bad = parse_request("PUTS ../x");
    EXPECT_EQ(std::get<RequestError>(bad).code, ErrCode::name_not_allowed);
    EXPECT_EQ(std::get<RequestError>(parse_request("PUTS a 5")).code, ErrCode::bad_request);
}

// ---- server ----

struct Served {
    std::string sent;
    bool send_shut = false;
};

Served serve(MemoryStore& store, std::string input, FerryServerConfig config = {},
             std::size_t recv_bytes_max = SIZE_MAX) {
    config.chunk_bytes = 16;
    ScriptedConnection conn(std::move(input), recv_bytes_max);
    serve_ferry_connection(conn, store, config);
    return {conn.sent(), conn.send_shut()};
}

TEST(FerryServerStream, StoresEveryFramingOfTheBytesEvenOneByteAtATime) {
    for (const std::size_t size : {0, 1, 15, 16, 17, 100, 5000}) {
        const std::string body = payload(size);
        for (const std::size_t frame : {1, 7, 16, 4096}) {
            for (const std::size_t recv_max : {std::size_t{1}, SIZE_MAX}) {
                MemoryStore store;
                const Served served =
                    serve(store, puts_request("f.bin", body, frame) + "DIR\n", {}, recv_max);
                EXPECT_EQ(served.sent, ok_line(body) + fmt::format("OK 1\n{} f.bin\n", size))
                    << size << " " << frame;
                ASSERT_TRUE(store.file("f.bin"));
                EXPECT_EQ(to_string(*store.file("f.bin")), body);
            }
        }
    }
}

TEST(FerryServerStream, ChecksCheckedLinesAndAnswersChecked) {
    MemoryStore store;
    const std::string input =
        checked("PUTS a.txt") + checked("5") + "hello" + checked("END 5 " + digest_of("hello"));
    EXPECT_EQ(serve(store, input).sent, checked("OK 5 " + digest_of("hello")));
    std::string damaged = checked("PUTS a.txt") + checked("5") + "hello";
    damaged[damaged.size() - 8] = '4';  // the frame line's "5" arrives as "4"
    MemoryStore other;
    const Served served = serve(other, damaged + checked("END 5 " + digest_of("hello")));
    EXPECT_EQ(served.sent, checked("ERR 400 frame line check mismatch"));
    EXPECT_TRUE(other.list().empty());
}

TEST(FerryServerStream, ATrailerThatDisagreesIs422NothingStoredAndTheConnectionGoesOn) {
    for (const std::string& trailer :
         std::vector<std::string>{"END 5 " + std::string(32, '0'), "END 4 " + digest_of("hello"),
                                  "END 6 " + digest_of("hello")}) {
        MemoryStore store;
        const Served served = serve(store, "PUTS a\n5\nhello" + trailer + "\nDIR\n");
        EXPECT_THAT(served.sent, StartsWith("ERR 422 ")) << trailer;
        EXPECT_THAT(served.sent, HasSubstr("\nOK 0\n")) << trailer;
        EXPECT_FALSE(store.file("a"));
        EXPECT_EQ(store.pending_bytes(), 0u);
    }
}

TEST(FerryServerStream, AMalformedFrameLineIs400NothingStoredAndTheConnectionCloses) {
    for (const std::string line : {"0", "01", "1048577", "x", "END 5"}) {
        MemoryStore store;
        const Served served = serve(store, "PUTS a\n3\nabc" + line + "\n2\nde\nDIR\n");
        EXPECT_THAT(served.sent, StartsWith("ERR 400 ")) << line;
        EXPECT_EQ(served.sent.find("OK"), std::string::npos) << line;
        EXPECT_TRUE(served.send_shut);
        EXPECT_TRUE(store.list().empty());
        EXPECT_EQ(store.pending_bytes(), 0u);
    }
}

TEST(FerryServerStream, PastTheLimitIs413AtTheFrameThatPassesIt) {
    FerryServerConfig config;
    config.max_file_bytes = 10;
    MemoryStore at_limit;
    EXPECT_EQ(serve(at_limit, puts_request("a", payload(10), 3), config).sent,
              ok_line(payload(10)));
    MemoryStore over;
    const Served served = serve(over, puts_request("a", payload(11), 3) + "DIR\n", config);
    EXPECT_THAT(served.sent, StartsWith("ERR 413 "));
    EXPECT_EQ(served.sent.find("OK"), std::string::npos);
    EXPECT_TRUE(over.list().empty());
    EXPECT_EQ(over.pending_bytes(), 0u);
}

TEST(FerryServerStream, BadNamesAre403AndCloseLikePut) {
    MemoryStore store;
    const Served served = serve(store, "PUTS ../x\n1\nx\nEND 1 " + digest_of("x") + "\nDIR\n");
    EXPECT_EQ(served.sent, "ERR 403 name not allowed\n");
    EXPECT_TRUE(served.send_shut);
}

TEST(FerryServerStream, AStreamCutBeforeItsTrailerLeavesNothing) {
    for (const std::string input : {"PUTS a\n5\nhel", "PUTS a\n5\nhello", "PUTS a\n5\nhello\nEN"}) {
        MemoryStore store;
        serve(store, input);
        EXPECT_TRUE(store.list().empty()) << input;
        EXPECT_EQ(store.pending_bytes(), 0u);
    }
}

TEST(FerryServerStream, AnOldServerAnswersPutsAsAnUnknownCommand) {
    FerryServerConfig config;
    config.streamed_put = false;
    MemoryStore store;
    const Served served = serve(store, puts_request("a", "hello", 2) + "DIR\n", config);
    EXPECT_EQ(served.sent, "ERR 400 unknown command\n");
    EXPECT_TRUE(served.send_shut);
    EXPECT_TRUE(store.list().empty());
}

// ---- client ----

TEST(FerryClientStream, SendsCheckedFramesAndTheTrailerAfterOneReadOfTheFile) {
    const std::string body = payload(1000);
    ScriptedConnection conn(checked("OK 1000 " + digest_of(body)), 1);
    conn.limit_send_bytes(7);
    FerryClient client(conn, 400);
    const BytesReader file(body);
    FileSource source(file);
    const PutOutcome outcome = client.try_put_streamed("a.bin", source);
    ASSERT_TRUE(std::holds_alternative<TransferResult>(outcome));
    EXPECT_EQ(conn.sent(), checked("PUTS a.bin") + checked("400") + body.substr(0, 400) +
                               checked("400") + body.substr(400, 400) + checked("200") +
                               body.substr(800) + checked("END 1000 " + digest_of(body)));
}

TEST(FerryClientStream, AnEmptySourceIsTheLineAndTheTrailer) {
    ScriptedConnection conn(checked("OK 0 " + digest_of("")));
    FerryClient client(conn, 64);
    const BytesReader file("");
    FileSource source(file);
    ASSERT_TRUE(std::holds_alternative<TransferResult>(client.try_put_streamed("e", source)));
    EXPECT_EQ(conn.sent(), checked("PUTS e") + checked("END 0 " + digest_of("")));
}

TEST(FerryClientStream, AnAckForOtherBytesIsACorruptedTransfer) {
    ScriptedConnection conn(checked("OK 3 " + digest_of("abd")));
    FerryClient client(conn, 64);
    const BytesReader file("abc");
    FileSource source(file);
    EXPECT_THROW((void)client.try_put_streamed("a", source), CorruptedTransfer);
}

TEST(FerryClientStream, FallsBackToPutOnAFreshConnectionAfter400) {
    const std::string body = payload(100);
    ScriptedConnection old_conn(checked("ERR 400 unknown command"));
    ScriptedConnection fresh(checked("OK 100 " + digest_of(body)));
    FerryClient first(old_conn, 64);
    std::unique_ptr<FerryClient> second;
    int reconnects = 0;
    const PutOutcome outcome = put_file(first, "a", BytesReader(body), [&]() -> FerryClient& {
        ++reconnects;
        second = std::make_unique<FerryClient>(fresh, 64);
        return *second;
    });
    ASSERT_TRUE(std::holds_alternative<TransferResult>(outcome));
    EXPECT_EQ(reconnects, 1);
    EXPECT_THAT(old_conn.sent(), StartsWith(checked("PUTS a")));
    EXPECT_EQ(fresh.sent(), checked("PUT a 100 " + digest_of(body)) + body);
}

TEST(FerryClientStream, OtherRefusalsAreNotRetried) {
    for (const std::string reply : {"ERR 403 name not allowed", "ERR 413 too large",
                                    "ERR 422 digest mismatch", "ERR 507 disk full"}) {
        ScriptedConnection conn(checked(reply));
        FerryClient client(conn, 64);
        const PutOutcome outcome = put_file(client, "a", BytesReader("abc"), []() -> FerryClient& {
            throw std::logic_error("reconnected");
        });
        ASSERT_TRUE(std::holds_alternative<Refusal>(outcome)) << reply;
        EXPECT_EQ(std::get<Refusal>(outcome).line, reply);
    }
}

}  // namespace
}  // namespace ferry::testing
