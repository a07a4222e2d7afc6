#include "ferry/sim/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <memory>
#include <new>

#if FERRY_SIM_ASAN
#include <sanitizer/asan_interface.h>
#endif

namespace ferry::sim {

namespace {

std::size_t page_bytes() {
    static const std::size_t bytes = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
    return bytes;
}

std::size_t round_up_to_pages(std::size_t bytes) {
    const std::size_t page = page_bytes();
    return (bytes + page - 1) / page * page;
}

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102  // Linux 6.13; older C libraries' headers lack it
#endif

/// Makes the page at guard fault on any access: a guard region that leaves
/// the mapping whole, or, on a kernel without them, a page of its own with
/// no access (which splits the mapping).
void install_guard(void* guard) {
    if (::madvise(guard, page_bytes(), MADV_GUARD_INSTALL) == 0)
        return;
    if (::mprotect(guard, page_bytes(), PROT_NONE) != 0)
        throw std::bad_alloc();  // no guard: an overflow would write over the next stack
}

}  // namespace

StackPool::StackPool(std::size_t stack_bytes) : stack_bytes_(round_up_to_pages(stack_bytes)) {}

StackPool::~StackPool() {
    for (const Slab& slab : slabs_)
        ::munmap(slab.base, slab.bytes);
}

void StackPool::map_slab() {
    const std::size_t stride = stack_bytes_ + page_bytes();  // a guard page, then a stack
    const std::size_t count = next_slab_stacks_;
    const std::size_t bytes = stride * count;
    void* base = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (base == MAP_FAILED)
        throw std::bad_alloc();
    slabs_.push_back(Slab{base, bytes});
    next_slab_stacks_ = std::min(2 * count, slab_stacks_max);
    // Handed out from the slab's start: free_ is a stack, so push the last first.
    for (std::size_t i = count; i-- > 0;) {
        char* guard = static_cast<char*>(base) + i * stride;
        install_guard(guard);
        free_.push_back(guard + stride);
    }
}

boost::context::stack_context StackPool::allocate() {
    if (free_.empty())
        map_slab();
    boost::context::stack_context stack;
    stack.size = stack_bytes_;
    stack.sp = free_.back();
    free_.pop_back();
#if FERRY_SIM_ASAN
    // Frames of the fiber that used this stack last may have left poisoned
    // redzones behind.
    ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(stack.sp) - stack_bytes_, stack_bytes_);
#endif
    return stack;
}

void StackPool::deallocate(boost::context::stack_context& stack) noexcept {
    free_.push_back(stack.sp);
}

StackPool& thread_stack_pool(std::size_t stack_bytes) {
    thread_local std::map<std::size_t, std::unique_ptr<StackPool>> pools;
    const std::size_t rounded = round_up_to_pages(stack_bytes);
    auto it = pools.find(rounded);
    if (it == pools.end())
        it = pools.emplace(rounded, std::make_unique<StackPool>(rounded)).first;
    return *it->second;
}

}  // namespace ferry::sim
