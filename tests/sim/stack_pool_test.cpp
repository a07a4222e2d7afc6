// StackPool: stacks mapped a slab at a time, each with a guard page below it,
// handed out again once returned.

#include "ferry/sim/fiber.h"

#include <gtest/gtest.h>

#include <cstring>
#include <set>
#include <vector>

namespace ferry::sim {
namespace {

constexpr std::size_t stack_bytes = 64 * 1024;

TEST(StackPool, StacksFromManySlabsAreDistinctWholeAndReused) {
    StackPool pool(stack_bytes);
    std::vector<boost::context::stack_context> stacks;
    std::set<void*> tops;
    // Past several slabs' worth.
    for (std::size_t i = 0; i < 3 * StackPool::slab_stacks_min + 1; ++i) {
        stacks.push_back(pool.allocate());
        const auto& stack = stacks.back();
        ASSERT_EQ(stack.size, stack_bytes);
        EXPECT_TRUE(tops.insert(stack.sp).second);
        // Every byte is writable and no two stacks overlap.
        std::memset(static_cast<char*>(stack.sp) - stack.size, static_cast<int>(i), stack.size);
    }
    for (std::size_t i = 0; i < stacks.size(); ++i) {
        const auto* low = static_cast<const unsigned char*>(stacks[i].sp) - stack_bytes;
        EXPECT_EQ(low[0], static_cast<unsigned char>(i));
        EXPECT_EQ(low[stack_bytes - 1], static_cast<unsigned char>(i));
    }
    void* returned = stacks[5].sp;
    pool.deallocate(stacks[5]);
    EXPECT_EQ(pool.allocate().sp, returned);
}

TEST(StackPoolDeathTest, TheGuardPageBelowAStackFaults) {
    StackPool pool(stack_bytes);
    pool.allocate();
    const auto second = pool.allocate();  // one with a stack mapped right below it
    volatile char* below = static_cast<char*>(second.sp) - second.size - 1;
    EXPECT_DEATH(*below = 1, "");
}

}  // namespace
}  // namespace ferry::sim
