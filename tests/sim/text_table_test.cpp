#include "ferry/sim/text_table.h"

#include <gtest/gtest.h>

#include <string>

namespace ferry::sim {
namespace {

TEST(TextTable, FindsEveryTextItKeptBeforeAndAfterItsIndexIsBuilt) {
    TextTable table;
    // Ids chosen to collide in the low bits, where the index probes first.
    for (std::uint64_t i = 1; i <= 5000; ++i)
        table.add(i << 20, "text " + std::to_string(i));
    EXPECT_EQ(table.size(), 5000u);
    for (std::uint64_t i = 1; i <= 5000; ++i) {
        const std::string* text = table.find(i << 20);
        ASSERT_NE(text, nullptr) << i;
        EXPECT_EQ(*text, "text " + std::to_string(i));
    }
    EXPECT_EQ(table.find(12345), nullptr);
}

TEST(TextTable, KeepsTheFirstTextOfAnId) {
    TextTable table;
    table.add(42, "first");
    table.add(42, "second");
    EXPECT_EQ(table.size(), 1u);
    EXPECT_EQ(*table.find(42), "first");
}

}  // namespace
}  // namespace ferry::sim
