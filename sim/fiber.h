#pragma once
// Stackful fibers for simulated processes: a per-thread pool of stacks (so a
// new simulation costs no mmap), and the AddressSanitizer annotations every
// stack switch needs in sanitizer builds.

#include <cstddef>
#include <vector>

#include <boost/context/fiber.hpp>
#include <boost/context/stack_context.hpp>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FERRY_SIM_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(FERRY_SIM_ASAN)
#define FERRY_SIM_ASAN 1
#endif
#ifndef FERRY_SIM_ASAN
#define FERRY_SIM_ASAN 0
#endif
#if FERRY_SIM_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

namespace ferry::sim {

/// Stacks of one size, each with a guard page below it, kept for reuse.
/// Stacks are mapped a slab at a time (a few at first, twice as many each
/// time, up to slab_stacks_max), with the guard pages installed by
/// MADV_GUARD_INSTALL where the kernel has it (Linux 6.13): a mapping and a
/// guard per stack made two system calls and two memory areas per process
/// spawned, 40,000 of each for 10,000 clients, against the kernel's default
/// limit of 65,530 areas. Not thread-safe: each thread has its own
/// (thread_stack_pool).
class StackPool {
  public:
    explicit StackPool(std::size_t stack_bytes);
    ~StackPool();
    StackPool(const StackPool&) = delete;
    StackPool& operator=(const StackPool&) = delete;

    boost::context::stack_context allocate();
    void deallocate(boost::context::stack_context& stack) noexcept;
    std::size_t stack_bytes() const { return stack_bytes_; }

    static constexpr std::size_t slab_stacks_min = 4;
    static constexpr std::size_t slab_stacks_max = 256;

  private:
    /// Maps the next slab and adds its stacks to free_.
    void map_slab();

    struct Slab {
        void* base;
        std::size_t bytes;
    };
    std::size_t stack_bytes_;  ///< usable bytes, without the guard page
    std::vector<void*> free_;  ///< tops of free stacks
    std::vector<Slab> slabs_;
    std::size_t next_slab_stacks_ = slab_stacks_min;
};

/// The calling thread's pool for stacks of stack_bytes (rounded up to pages).
StackPool& thread_stack_pool(std::size_t stack_bytes);

/// Boost.Context's StackAllocator concept over a StackPool.
struct PooledStack {
    StackPool* pool;
    boost::context::stack_context allocate() { return pool->allocate(); }
    void deallocate(boost::context::stack_context& stack) noexcept { pool->deallocate(stack); }
};

/// Stack bytes that suit protocol code: larger under AddressSanitizer, whose
/// redzones grow every frame.
#if FERRY_SIM_ASAN
inline constexpr std::size_t default_stack_bytes = 2 * 1024 * 1024;
#else
inline constexpr std::size_t default_stack_bytes = 512 * 1024;
#endif

// AddressSanitizer needs to know about every switch between stacks: call
// start before switching away (fake_stack_save = nullptr when the current
// fiber is finishing) and finish first thing after arriving.
inline void sanitizer_start_switch([[maybe_unused]] void** fake_stack_save,
                                   [[maybe_unused]] const void* bottom,
                                   [[maybe_unused]] std::size_t size) {
#if FERRY_SIM_ASAN
    __sanitizer_start_switch_fiber(fake_stack_save, bottom, size);
#endif
}
inline void sanitizer_finish_switch([[maybe_unused]] void* fake_stack_save,
                                    [[maybe_unused]] const void** old_bottom,
                                    [[maybe_unused]] std::size_t* old_size) {
#if FERRY_SIM_ASAN
    __sanitizer_finish_switch_fiber(fake_stack_save, old_bottom, old_size);
#endif
}

}  // namespace ferry::sim
