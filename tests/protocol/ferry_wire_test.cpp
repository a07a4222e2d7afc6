#include "ferry/protocol/ferry_wire.h"

#include "ferry/protocol/digest.h"

#include <gtest/gtest.h>

namespace ferry {
namespace {

const std::string digest32(32, 'a');

ErrCode error_code_of(std::string_view line) {
    const auto parsed = parse_request(line);
    const auto* error = std::get_if<RequestError>(&parsed);
    if (!error)
        ADD_FAILURE() << "expected an error for " << line;
    return error ? error->code : ErrCode::internal;
}

TEST(ParseRequest, ReadsPutWithAndWithoutDigest) {
    auto parsed = parse_request("PUT a.bin 1024 " + digest32);
    const auto& put = std::get<PutRequest>(std::get<Request>(parsed));
    EXPECT_EQ(put.name, "a.bin");
    EXPECT_EQ(put.size_bytes, 1024u);
    EXPECT_EQ(put.digest, digest32);

    parsed = parse_request("PUT b 0");
    EXPECT_EQ(std::get<PutRequest>(std::get<Request>(parsed)).digest, std::nullopt);
}

TEST(ParseRequest, ReadsGetAndDir) {
    EXPECT_EQ(std::get<GetRequest>(std::get<Request>(parse_request("GET x"))).name, "x");
    EXPECT_TRUE(std::holds_alternative<DirRequest>(std::get<Request>(parse_request("DIR"))));
}

TEST(ParseRequest, ToleratesCarriageReturnFromNetcat) {
    EXPECT_TRUE(std::holds_alternative<DirRequest>(std::get<Request>(parse_request("DIR\r"))));
}

TEST(ParseRequest, RefusesMalformedLinesWith400) {
    for (const char* line : {"", "PUT", "PUT a", "PUT a -1", "PUT a 1x", "PUT a 01", "PUT  a 1",
                             "PUT a 1 ", "PUT a 99999999999999999999", "PUT a 1 XYZ", "PUT a 1 2 3",
                             "GET", "GET a b", "DIR x", "HELLO", "put a 1"}) {
        EXPECT_EQ(error_code_of(line), ErrCode::bad_request) << line;
    }
}

TEST(ParseRequest, RefusesBadNamesWith403) {
    for (const char* line : {"PUT .. 1", "PUT .hidden 1", "GET ../x", "GET a/b", "GET /etc/passwd",
                             "PUT -rf 1", "GET --help", "GET -"}) {
        EXPECT_EQ(error_code_of(line), ErrCode::name_not_allowed) << line;
    }
}

TEST(FormatRequest, RoundTripsThroughParse) {
    const Request put = PutRequest{"a", 5, digest32};
    const std::string line = format_request(put);
    ASSERT_TRUE(line.ends_with('\n'));
    const auto parsed = parse_request(std::string_view(line).substr(0, line.size() - 1));
    EXPECT_EQ(std::get<PutRequest>(std::get<Request>(parsed)).digest, digest32);
}

TEST(ParseReply, ReadsOkAndErr) {
    auto reply = parse_reply("OK 5 " + digest32);
    ASSERT_TRUE(reply);
    EXPECT_EQ(std::get<OkReply>(*reply).number, 5u);
    EXPECT_EQ(std::get<OkReply>(*reply).digest, digest32);

    reply = parse_reply("OK 3");
    ASSERT_TRUE(reply);
    EXPECT_EQ(std::get<OkReply>(*reply).digest, std::nullopt);

    reply = parse_reply("ERR 404 no such file: \"x\"");
    ASSERT_TRUE(reply);
    EXPECT_EQ(std::get<ErrReply>(*reply).code, 404);
    EXPECT_EQ(std::get<ErrReply>(*reply).message, "no such file: \"x\"");
}

TEST(ParseReply, RefusesGarbage) {
    for (const char* line : {"", "OK", "OK x", "ERR", "ERR x", "HELLO 1", "OK 1 2 3"}) {
        EXPECT_FALSE(parse_reply(line)) << line;
    }
}

TEST(ParseDirLine, ReadsSizeAndName) {
    const auto entry = parse_dir_line("12 a.txt");
    ASSERT_TRUE(entry);
    EXPECT_EQ(entry->size_bytes, 12u);
    EXPECT_EQ(entry->name, "a.txt");
    EXPECT_FALSE(parse_dir_line("12"));
    EXPECT_FALSE(parse_dir_line("x a"));
    EXPECT_FALSE(parse_dir_line("1 ../a"));
}

TEST(ParseDecimalU64, AcceptsTheWholeRangeAndNothingElse) {
    EXPECT_EQ(parse_decimal_u64("0"), 0u);
    EXPECT_EQ(parse_decimal_u64("18446744073709551615"), UINT64_MAX);
    EXPECT_FALSE(parse_decimal_u64("18446744073709551616"));
    EXPECT_FALSE(parse_decimal_u64("+1"));
    EXPECT_FALSE(parse_decimal_u64("007"));
    EXPECT_FALSE(parse_decimal_u64(""));
}

TEST(LineCheck, IsTheLowHalfOfXxh3OfTheLineAfterASpaceAndTilde) {
    const std::string line = with_line_check("GET a.bin");
    EXPECT_EQ(line, "GET a.bin ~" + line_check_hex("GET a.bin"));
    EXPECT_EQ(line_check_hex("GET a.bin").size(), line_check_hex_digits);
    std::string_view view = line;
    EXPECT_EQ(strip_line_check(view), LineCheck::valid);
    EXPECT_EQ(view, "GET a.bin");
}

TEST(LineCheck, AFlippedBitAnywhereInTheLineBreaksIt) {
    const std::string line = with_line_check("PUT a.bin 5 0123456789abcdef0123456789abcdef");
    for (std::size_t at = 0; at < line.size(); ++at) {
        for (int bit = 0; bit < 8; ++bit) {
            std::string flipped = line;
            flipped[at] = static_cast<char>(flipped[at] ^ (1 << bit));
            std::string_view view = flipped;
            const LineCheck check = strip_line_check(view);
            EXPECT_NE(check, LineCheck::valid) << "byte " << at << " bit " << bit;
            if (check == LineCheck::absent) {
                // The flip broke the " ~": what is left is no request line.
                EXPECT_TRUE(std::holds_alternative<RequestError>(parse_request(view))) << flipped;
            }
        }
    }
}

TEST(LineCheck, AnUncheckedLineIsAbsentAndUnchanged) {
    std::string_view view = "DIR";
    EXPECT_EQ(strip_line_check(view), LineCheck::absent);
    EXPECT_EQ(view, "DIR");
}

TEST(ParseCheckedReply, AcceptsOnlyReplyLinesWithAMatchingCheck) {
    EXPECT_TRUE(parse_checked_reply(with_line_check("ERR 404 no such file")).has_value());
    EXPECT_FALSE(parse_checked_reply("ERR 404 no such file").has_value());
    std::string bad = with_line_check("ERR 503 too many connections");
    bad[4] = '4';
    EXPECT_FALSE(parse_checked_reply(bad).has_value());
    std::string line = format_ok(5, "0123456789abcdef0123456789abcdef", true);
    ASSERT_TRUE(line.ends_with('\n'));
    line.pop_back();
    const auto ok = parse_checked_reply(line);
    ASSERT_TRUE(ok.has_value());
    EXPECT_EQ(std::get<OkReply>(*ok).number, 5u);
}

}  // namespace
}  // namespace ferry
