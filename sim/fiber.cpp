#include "ferry/sim/fiber.h"

#include <sys/mman.h>
#include <unistd.h>

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

}  // namespace

StackPool::StackPool(std::size_t stack_bytes) : stack_bytes_(round_up_to_pages(stack_bytes)) {}

StackPool::~StackPool() {
    for (void* top : free_) {
        auto* base = static_cast<char*>(top) - stack_bytes_ - page_bytes();
        ::munmap(base, stack_bytes_ + page_bytes());
    }
}

boost::context::stack_context StackPool::allocate() {
    boost::context::stack_context stack;
    stack.size = stack_bytes_;
    if (!free_.empty()) {
        stack.sp = free_.back();
        free_.pop_back();
#if FERRY_SIM_ASAN
        // Frames of the fiber that used this stack last may have left
        // poisoned redzones behind.
        ASAN_UNPOISON_MEMORY_REGION(static_cast<char*>(stack.sp) - stack_bytes_, stack_bytes_);
#endif
        return stack;
    }
    const std::size_t mapped = stack_bytes_ + page_bytes();
    void* base =
        ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (base == MAP_FAILED)
        throw std::bad_alloc();
    ::mprotect(base, page_bytes(), PROT_NONE);  // the guard page, below the stack
    stack.sp = static_cast<char*>(base) + mapped;
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
