#include "ferry/protocol/buffered_reader.h"

#include <gtest/gtest.h>

#include "tests/protocol/fake_connection.h"

namespace ferry::testing {
namespace {

std::string recv_text(BufferedReader& reader, std::size_t bytes) {
    std::vector<std::byte> buffer(bytes);
    const std::size_t got = reader.recv(buffer);
    return std::string(as_text(std::span<const std::byte>(buffer.data(), got)));
}

TEST(BufferedReader, LineArrivingWholeCostsOneRecv) {
    ScriptedConnection conn("PUT a 3\nabc");
    BufferedReader reader(conn);
    EXPECT_EQ(reader.recv_line(1024), "PUT a 3");
    EXPECT_EQ(conn.recv_calls(), 1);
}

TEST(BufferedReader, BytesAfterTheLineAreReturnedFirstByTheNextRead) {
    ScriptedConnection conn("PUT a 3\nabcdef");
    BufferedReader reader(conn);
    ASSERT_EQ(reader.recv_line(1024), "PUT a 3");
    EXPECT_EQ(reader.buffered_bytes(), 6u);
    // A read may be short: buffered bytes come back before any new recv().
    EXPECT_EQ(recv_text(reader, 4), "abcd");
    EXPECT_EQ(recv_text(reader, 100), "ef");
    EXPECT_EQ(conn.recv_calls(), 1);
}

TEST(BufferedReader, ReadsStraightThroughWhenNothingIsBuffered) {
    ScriptedConnection conn("abcdef");
    BufferedReader reader(conn);
    EXPECT_EQ(recv_text(reader, 6), "abcdef");
    EXPECT_EQ(reader.buffered_bytes(), 0u);
}

TEST(BufferedReader, GathersALineFromOneByteReads) {
    ScriptedConnection conn("OK 2\nOK 3\n", 1);
    BufferedReader reader(conn);
    EXPECT_EQ(reader.recv_line(1024), "OK 2");
    EXPECT_EQ(reader.recv_line(1024), "OK 3");
    EXPECT_EQ(reader.recv_line(1024), std::nullopt);
}

TEST(BufferedReader, SeveralLinesFromOneRecv) {
    ScriptedConnection conn("3 a\n4 b\n\n5 c\n");
    BufferedReader reader(conn);
    EXPECT_EQ(reader.recv_line(1024), "3 a");
    EXPECT_EQ(reader.recv_line(1024), "4 b");
    EXPECT_EQ(reader.recv_line(1024), "");
    EXPECT_EQ(reader.recv_line(1024), "5 c");
    EXPECT_EQ(conn.recv_calls(), 1);
}

TEST(BufferedReader, NoneAtEndOfStreamBeforeAnyByte) {
    ScriptedConnection conn("");
    BufferedReader reader(conn);
    EXPECT_FALSE(reader.fill());
    EXPECT_EQ(reader.recv_line(1024), std::nullopt);
}

TEST(BufferedReader, ThrowsWhenStreamEndsMidLine) {
    ScriptedConnection conn("PUT a", 2);
    BufferedReader reader(conn);
    EXPECT_THROW(reader.recv_line(1024), ProtocolError);
}

TEST(BufferedReader, AcceptsLineOfExactlyMaxBytesWithItsNewline) {
    ScriptedConnection conn(std::string(9, 'x') + "\nrest");
    BufferedReader reader(conn);
    EXPECT_EQ(reader.recv_line(10), std::string(9, 'x'));
    EXPECT_EQ(reader.buffered_bytes(), 4u);
}

TEST(BufferedReader, RefusesLineOneByteOverMaxWithoutWaitingForItsEnd) {
    // The tenth byte is not a newline: the line cannot fit, whatever follows.
    ScriptedConnection conn(std::string(10, 'x'), SIZE_MAX, AtEndOfInput::reset);
    BufferedReader reader(conn);
    EXPECT_THROW(reader.recv_line(10), ProtocolError);
}

TEST(BufferedReader, LineSplitAcrossTheEndOfTheBufferIsMovedToItsStart) {
    // Fill the buffer so that a line starts near its end, then finish it.
    const std::size_t filler = BufferedReader::capacity_bytes - 3;
    std::string input(filler - 1, 'f');
    input += "\nabcdef\n";
    ScriptedConnection conn(input);
    BufferedReader reader(conn);
    ASSERT_EQ(reader.recv_line(BufferedReader::capacity_bytes), std::string(filler - 1, 'f'));
    EXPECT_EQ(reader.recv_line(1024), "abcdef");
    EXPECT_EQ(reader.recv_line(1024), std::nullopt);
}

TEST(BufferedReader, LineLongerThanTheBufferIsRefused) {
    ScriptedConnection conn(std::string(BufferedReader::capacity_bytes + 10, 'x') + "\n");
    BufferedReader reader(conn);
    EXPECT_THROW(reader.recv_line(BufferedReader::capacity_bytes * 2), ProtocolError);
}

}  // namespace
}  // namespace ferry::testing
