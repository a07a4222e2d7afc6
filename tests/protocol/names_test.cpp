#include "ferry/protocol/names.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry {
namespace {

TEST(IsValidName, AcceptsOrdinaryNames) {
    for (const char* name : {"a", "a.bin", "report-2026_11.txt", "A9", "x.", "x-", "a-b", "_x"}) {
        EXPECT_TRUE(is_valid_name(name)) << name;
    }
}

TEST(IsValidName, AcceptsExactly255Bytes) {
    EXPECT_TRUE(is_valid_name(std::string(255, 'a')));
}

TEST(IsValidName, RefusesEveryTraversalAndOddName) {
    const std::string names[] = {
        "",
        ".",
        "..",
        "../x",
        "/etc/passwd",
        "a/b",
        "a\\b",
        ".hidden",
        std::string(256, 'a'),
        std::string("a\0b", 3),
        "a b",
        "caf\xc3\xa9",
        "tab\t",
        "new\nline",
        "star*",
    };
    for (const auto& name : names)
        EXPECT_FALSE(is_valid_name(name)) << name;
}

TEST(IsValidName, RefusesALeadingDashThatShellToolsWouldReadAsAnOption) {
    for (const char* name : {"-", "-dash", "-rf", "--help", "-.x", "-_"}) {
        EXPECT_FALSE(is_valid_name(name)) << name;
    }
    EXPECT_FALSE(is_valid_name("-" + std::string(254, 'a'))) << "at the length limit too";
}

}  // namespace
}  // namespace ferry
