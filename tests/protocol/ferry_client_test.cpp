#include "ferry/protocol/ferry_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "ferry/protocol/digest.h"
#include "ferry/protocol/ferry_wire.h"
#include "tests/protocol/fake_connection.h"

namespace ferry::testing {
namespace {

using ::testing::HasSubstr;

class StringSink : public ByteSink {
  public:
    void write(std::span<const std::byte> bytes) override { text.append(as_text(bytes)); }
    std::string text;
};

/// A line as the server sends it to the client's checked requests.
std::string checked(std::string_view line) {
    return with_line_check(line) + "\n";
}

std::string ok_line(std::string_view body) {
    return checked(fmt::format("OK {} {}", body.size(), digest_hex(as_bytes(body))));
}

/// DIR's checked reply: the count and the listing's digest, then the
/// listing, of which only the first `sent` lines are sent.
std::string dir_reply(const std::vector<std::string>& lines, std::size_t sent) {
    std::string listing;
    std::string sent_part;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        listing += lines[i] + "\n";
        if (i < sent)
            sent_part += lines[i] + "\n";
    }
    return checked(fmt::format("OK {} {}", lines.size(), digest_hex(as_bytes(listing)))) +
           sent_part;
}

TEST(FerryClientPut, SendsHeaderWithDigestThenBodyAndReadsOk) {
    const std::string body = payload(1000);
    ScriptedConnection conn(ok_line(body), 1);
    conn.limit_send_bytes(7);
    FerryClient client(conn, 64);
    std::vector<std::uint64_t> progress;
    const auto result =
        client.put("a.bin", BytesReader(body),
                   [&](std::uint64_t done, std::uint64_t) { progress.push_back(done); });
    EXPECT_EQ(conn.sent(),
              checked(fmt::format("PUT a.bin 1000 {}", digest_hex(as_bytes(body)))) + body);
    EXPECT_EQ(result.size_bytes, 1000u);
    EXPECT_EQ(progress.back(), 1000u);
}

TEST(FerryClientPut, SendsTheSameBytesFromAFileThatCanOnlyBeCopiedAPieceAtATime) {
    const std::string body = payload(1000);
    ScriptedConnection conn(ok_line(body));
    FerryClient client(conn, 64);
    const CopyOnlyReader file(body, 13);
    client.put("a.bin", file);
    EXPECT_EQ(conn.sent(),
              checked(fmt::format("PUT a.bin 1000 {}", digest_hex(as_bytes(body)))) + body);
    EXPECT_GT(file.reads, 2 * 1000 / 13);  // a digest pass, then the send pass
}

TEST(FerryClientPut, FileInMemoryIsSentInPlace) {
    // A reader that can view its bytes is never asked to copy them.
    class ViewOnlyReader : public SpanReader {
      public:
        using SpanReader::SpanReader;
        std::size_t read_at(std::uint64_t, std::span<std::byte>) const override {
            ADD_FAILURE() << "read_at called on a file that can be viewed";
            return 0;
        }
    };
    const std::string body = payload(1000);
    ScriptedConnection conn(ok_line(body));
    FerryClient client(conn, 64);
    client.put("a.bin", ViewOnlyReader(as_bytes(body)));
    EXPECT_EQ(conn.sent(),
              checked(fmt::format("PUT a.bin 1000 {}", digest_hex(as_bytes(body)))) + body);
}

TEST(FerryClient, OneClientServesPutGetAndDirInTurnOnOneConnection) {
    const std::string body = payload(300);
    const std::string replies = ok_line(body) + ok_line(body) + body + dir_reply({"300 a.bin"}, 1);
    ScriptedConnection conn(replies, 7);  // replies cut anywhere
    FerryClient client(conn, 64);
    client.put("a.bin", BytesReader(body));
    StringSink sink;
    client.get("a.bin", sink);
    EXPECT_EQ(sink.text, body);
    EXPECT_EQ(client.dir(), (std::vector<FileInfo>{{"a.bin", 300}}));
    EXPECT_EQ(conn.unread_bytes(), 0u);
}

TEST(FerryClient, NameThatWouldBreakTheRequestLineIsRefusedBeforeSending) {
    ScriptedConnection conn("");
    FerryClient client(conn);
    StringSink sink;
    for (const char* name : {"", "x 0", "x\nDIR", "x\r"}) {
        EXPECT_THROW(client.put(name, BytesReader("abc")), std::invalid_argument) << name;
        EXPECT_THROW(client.get(name, sink), std::invalid_argument) << name;
    }
    EXPECT_EQ(conn.sent(), "");
}

TEST(FerryClient, OtherBadNamesAreSentForTheServerToJudge) {
    ScriptedConnection conn(checked("ERR 403 name not allowed"));
    FerryClient client(conn);
    EXPECT_THROW(client.put("../x", BytesReader("abc")), RemoteError);
    EXPECT_THAT(conn.sent(), ::testing::StartsWith("PUT ../x 3 "));
}

TEST(FerryClientPut, ZeroBytesSendsOnlyTheHeader) {
    ScriptedConnection conn(ok_line(""));
    FerryClient client(conn);
    client.put("empty", BytesReader(""));
    EXPECT_EQ(conn.sent(), checked(fmt::format("PUT empty 0 {}", digest_hex({}))));
}

TEST(FerryClientPut, ErrReplyBecomesRemoteErrorWithCodeAndLine) {
    ScriptedConnection conn(checked("ERR 403 name not allowed"));
    FerryClient client(conn);
    try {
        client.put("x", BytesReader("abc"));
        FAIL() << "expected RemoteError";
    } catch (const RemoteError& e) {
        EXPECT_EQ(e.code(), 403);
        EXPECT_STREQ(e.line(), "ERR 403 name not allowed");
    }
}

TEST(FerryClient, RefusalTextIsEscapedBeforeAnyoneCanPrintIt) {
    // A hostile server's ERR message: clear the screen, retitle the window.
    const std::string hostile = "ERR 404 \x1b[2J\x1b]0;pwned\x07 \\ \xe2\x80\xae";
    const std::string shown = "ERR 404 \\x1b[2J\\x1b]0;pwned\\x07 \\\\ \\xe2\\x80\\xae";
    {
        ScriptedConnection conn(checked(hostile));
        FerryClient client(conn);
        StringSink sink;
        try {
            client.get("x", sink);
            FAIL() << "expected RemoteError";
        } catch (const RemoteError& e) {
            EXPECT_EQ(e.code(), 404);
            EXPECT_EQ(std::string(e.line()), shown);
        }
    }
    ScriptedConnection conn(checked(hostile));
    FerryClient client(conn);
    const PutOutcome outcome = client.try_put("x", BytesReader("abc"));
    ASSERT_TRUE(std::holds_alternative<Refusal>(outcome));
    EXPECT_EQ(std::get<Refusal>(outcome).line, shown);
}

TEST(FerryClient, MalformedRepliesAreEscapedInTheirErrors) {
    ScriptedConnection conn(checked("HELLO \x1b[2J"));
    FerryClient client(conn);
    StringSink sink;
    try {
        client.get("x", sink);
        FAIL() << "expected ProtocolError";
    } catch (const ProtocolError& e) {
        EXPECT_EQ(std::string(e.what()).find('\x1b'), std::string::npos) << e.what();
        EXPECT_THAT(e.what(), ::testing::HasSubstr("\\x1b[2J"));
    }
}

TEST(FerryClientPut, ReadsTheErrLineWhenTheServerStopsReadingMidBody) {
    ScriptedConnection conn(checked("ERR 413 too large"));
    conn.fail_sends_after(100);
    FerryClient client(conn, 16);
    try {
        client.put("big", BytesReader(payload(10000)));
        FAIL() << "expected RemoteError";
    } catch (const RemoteError& e) {
        EXPECT_EQ(e.code(), 413);
    }
}

TEST(FerryClientTryPut, ReturnsTheRefusalInsteadOfThrowing) {
    ScriptedConnection conn(checked("ERR 507 disk full writing \"x\""));
    FerryClient client(conn);
    const PutOutcome outcome = client.try_put("x", BytesReader("abc"));
    const auto* refusal = std::get_if<Refusal>(&outcome);
    ASSERT_NE(refusal, nullptr);
    EXPECT_EQ(refusal->code, 507);
    EXPECT_EQ(refusal->line, "ERR 507 disk full writing \"x\"");
}

TEST(FerryClientTryPut, ReturnsTheRefusalWaitingBehindAResetMidBody) {
    ScriptedConnection conn(checked("ERR 413 too large"));
    conn.fail_sends_after(100);
    FerryClient client(conn, 16);
    const PutOutcome outcome = client.try_put("big", BytesReader(payload(10000)));
    ASSERT_TRUE(std::holds_alternative<Refusal>(outcome));
    EXPECT_EQ(std::get<Refusal>(outcome).code, 413);
}

TEST(FerryClientTryPut, ReturnsTheAcknowledgedTransfer) {
    const std::string body = payload(100);
    ScriptedConnection conn(ok_line(body));
    FerryClient client(conn, 16);
    const PutOutcome outcome = client.try_put("a.bin", BytesReader(body));
    const auto* result = std::get_if<TransferResult>(&outcome);
    ASSERT_NE(result, nullptr);
    EXPECT_EQ(result->size_bytes, 100u);
    EXPECT_EQ(result->digest, digest_hex(as_bytes(body)));
}

TEST(FerryClientTryPut, StillThrowsWhatIsNotARefusal) {
    ScriptedConnection reset("");
    reset.fail_sends_after(100);
    EXPECT_THROW(FerryClient(reset, 16).try_put("big", BytesReader(payload(10000))),
                 ConnectionError);
    ScriptedConnection malformed("HELLO\n");
    EXPECT_THROW(FerryClient(malformed).try_put("x", BytesReader("abc")), ProtocolError);
}

TEST(FerryClientPut, ResetWithNoErrLineIsAConnectionError) {
    ScriptedConnection conn("");
    conn.fail_sends_after(100);
    FerryClient client(conn, 16);
    try {
        client.put("big", BytesReader(payload(10000)));
        FAIL() << "expected ConnectionError";
    } catch (const ConnectionError& e) {
        EXPECT_EQ(e.kind(), ErrorKind::reset);
    }
}

TEST(FerryClientPut, AcknowledgementOfOtherBytesIsAnError) {
    ScriptedConnection conn(ok_line("other"));
    FerryClient client(conn);
    EXPECT_THROW(client.put("a", BytesReader("hello")), ProtocolError);
}

TEST(FerryClientPut, ServerClosingWithoutReplyIsAnError) {
    ScriptedConnection conn("");
    FerryClient client(conn);
    try {
        client.put("a", BytesReader("hello"));
        FAIL();
    } catch (const ProtocolError& e) {
        EXPECT_THAT(e.what(), HasSubstr("without replying"));
    }
}

TEST(FerryClientGet, WritesBytesToSinkAndChecksDigest) {
    const std::string body = payload(300);
    ScriptedConnection conn(ok_line(body) + body, 5);
    FerryClient client(conn, 64);
    StringSink sink;
    const auto result = client.get("a", sink);
    EXPECT_EQ(conn.sent(), checked("GET a"));
    EXPECT_EQ(sink.text, body);
    EXPECT_EQ(result.digest, digest_hex(as_bytes(body)));
}

TEST(FerryClientGet, CorruptedBytesAreDetected) {
    std::string body = payload(300);
    const std::string header = ok_line(body);
    body[100] ^= 1;
    ScriptedConnection conn(header + body);
    FerryClient client(conn);
    StringSink sink;
    try {
        client.get("a", sink);
        FAIL();
    } catch (const ProtocolError& e) {
        EXPECT_THAT(e.what(), HasSubstr("corrupted"));
    }
}

TEST(FerryClientGet, TruncatedDownloadIsDetected) {
    const std::string body = payload(300);
    ScriptedConnection conn(ok_line(body) + body.substr(0, 200));
    FerryClient client(conn);
    StringSink sink;
    try {
        client.get("a", sink);
        FAIL();
    } catch (const ProtocolError& e) {
        EXPECT_THAT(e.what(), HasSubstr("after 200 of 300"));
    }
}

TEST(FerryClientGet, NotFoundIsRemoteError404) {
    ScriptedConnection conn(checked("ERR 404 no such file"));
    FerryClient client(conn);
    StringSink sink;
    try {
        client.get("a", sink);
        FAIL();
    } catch (const RemoteError& e) {
        EXPECT_EQ(e.code(), 404);
    }
}

TEST(FerryClientDir, ReadsTheListing) {
    ScriptedConnection conn(dir_reply({"5 a", "0 b"}, 2), 1);
    FerryClient client(conn);
    EXPECT_EQ(client.dir(), (std::vector<FileInfo>{{"a", 5}, {"b", 0}}));
    EXPECT_EQ(conn.sent(), checked("DIR"));
}

TEST(FerryClientDir, MalformedLineIsAnError) {
    ScriptedConnection conn(dir_reply({"five a"}, 1));
    FerryClient client(conn);
    EXPECT_THROW(client.dir(), ProtocolError);
}

TEST(FerryClientDir, ListingCutShortIsAnError) {
    ScriptedConnection conn(dir_reply({"5 a", "0 b"}, 1));
    FerryClient client(conn);
    EXPECT_THROW(client.dir(), ProtocolError);
}

}  // namespace
}  // namespace ferry::testing
