#include "ferry/protocol/printable.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry {
namespace {

TEST(PrintableText, KeepsPrintableAscii) {
    EXPECT_EQ(printable_text("ERR 404 no such file: 'a.txt' ~!\"#"),
              "ERR 404 no such file: 'a.txt' ~!\"#");
    EXPECT_EQ(printable_text(""), "");
}

TEST(PrintableText, EscapesTerminalSequencesAndControlBytes) {
    // Clear the screen, retitle the window, ring the bell.
    EXPECT_EQ(printable_text("\x1b[2J\x1b]0;pwned\x07"), "\\x1b[2J\\x1b]0;pwned\\x07");
    EXPECT_EQ(printable_text(std::string("a\0b\r\n\t\x7f", 7)), "a\\x00b\\x0d\\x0a\\x09\\x7f");
}

TEST(PrintableText, EscapesEveryByteThatIsNotAscii) {
    // C1 CSI (U+009B), a right-to-left override (U+202E), a stray byte.
    EXPECT_EQ(printable_text("\xc2\x9b\xe2\x80\xae\xff"), "\\xc2\\x9b\\xe2\\x80\\xae\\xff");
}

TEST(PrintableText, DoublesBackslashesSoTheEscapesAreUnambiguous) {
    EXPECT_EQ(printable_text("\\x1b"), "\\\\x1b");
    EXPECT_NE(printable_text("\\x1b"), printable_text("\x1b"));
}

TEST(PrintableText, NoByteOutsidePrintableAsciiEverComesOut) {
    std::string every_byte;
    for (int b = 0; b < 256; ++b)
        every_byte += static_cast<char>(b);
    for (const char c : printable_text(every_byte)) {
        const auto byte = static_cast<unsigned char>(c);
        EXPECT_TRUE(byte >= 0x20 && byte < 0x7f) << static_cast<int>(byte);
    }
}

}  // namespace
}  // namespace ferry
