#include "ferry/protocol/connection.h"

#include <gtest/gtest.h>

#include "tests/protocol/fake_connection.h"

namespace ferry::testing {
namespace {

TEST(SendAll, SendsEveryByteWhenEachSendTakesOne) {
    ScriptedConnection conn("");
    conn.limit_send_bytes(1);
    send_all(conn, std::string_view("hello"));
    EXPECT_EQ(conn.sent(), "hello");
    EXPECT_EQ(conn.send_calls(), 5);
}

TEST(SendAll, SendsNothingForNoBytes) {
    ScriptedConnection conn("");
    send_all(conn, std::string_view(""));
    EXPECT_EQ(conn.send_calls(), 0);
}

TEST(RecvExact, GathersShortReads) {
    ScriptedConnection conn("abcdef", 1);
    std::vector<std::byte> buffer(4);
    EXPECT_EQ(recv_exact(conn, buffer), 4u);
    EXPECT_EQ(to_string(buffer), "abcd");
}

TEST(RecvExact, ReturnsFewerAtEndOfStream) {
    ScriptedConnection conn("ab", 1);
    std::vector<std::byte> buffer(4);
    EXPECT_EQ(recv_exact(conn, buffer), 2u);
}

TEST(RecvLine, ReturnsLineWithoutNewlineAndConsumesNothingAfterIt) {
    ScriptedConnection conn("PUT a 3\nabc");
    EXPECT_EQ(recv_line(conn, 1024), "PUT a 3");
    EXPECT_EQ(conn.unread_bytes(), 3u);
}

TEST(RecvLine, ReturnsNoneAtEndOfStreamBeforeAnyByte) {
    ScriptedConnection conn("");
    EXPECT_EQ(recv_line(conn, 1024), std::nullopt);
}

TEST(RecvLine, ThrowsWhenStreamEndsMidLine) {
    ScriptedConnection conn("PUT a");
    EXPECT_THROW(recv_line(conn, 1024), ProtocolError);
}

TEST(RecvLine, AcceptsLineOfExactlyMaxBytesWithItsNewline) {
    ScriptedConnection conn(std::string(9, 'x') + "\n");
    EXPECT_EQ(recv_line(conn, 10), std::string(9, 'x'));
}

TEST(RecvLine, RefusesLineOneByteOverMax) {
    ScriptedConnection conn(std::string(10, 'x') + "\n");
    EXPECT_THROW(recv_line(conn, 10), ProtocolError);
}

TEST(RecvLine, ReturnsEmptyLine) {
    ScriptedConnection conn("\nrest");
    EXPECT_EQ(recv_line(conn, 10), "");
}

TEST(Connection, CallDeadlineIsEarlierOfDeadlineAndTimeout) {
    class Probe : public ScriptedConnection {
      public:
        Probe() : ScriptedConnection("") {}
        Deadline deadline() const { return call_deadline(); }
    } conn;
    EXPECT_EQ(conn.deadline(), std::nullopt);
    conn.set_timeout(std::chrono::seconds(5));
    EXPECT_EQ(conn.deadline(), Instant{std::chrono::seconds(5)});
    conn.set_deadline(Instant{std::chrono::seconds(3)});
    EXPECT_EQ(conn.deadline(), Instant{std::chrono::seconds(3)});
    conn.manual_clock().advance(std::chrono::seconds(10));
    conn.set_deadline(std::nullopt);
    EXPECT_EQ(conn.deadline(), Instant{std::chrono::seconds(15)});
}

}  // namespace
}  // namespace ferry::testing
