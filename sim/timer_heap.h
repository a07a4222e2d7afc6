#pragma once
// The timers of blocked processes (a deadline on recv, a delay): at most one
// per process, earliest first. A binary heap ordered by (time, sequence) that
// knows where each process's timer sits, so adding, cancelling and finding
// the earliest are O(log n) however many processes wait: the scheduler asks
// for the earliest at every step, and a process that is woken cancels its
// timer. Sequence numbers are unique, so the order is total and the same as
// a scan for the least (time, sequence) would give.

#include <cstdint>
#include <limits>

#include <boost/container/small_vector.hpp>

#include "ferry/protocol/clock.h"

namespace ferry::sim {

class TimerHeap {
  public:
    struct Timer {
        Instant at;
        std::uint64_t sequence = 0;  ///< the order timers and events were made in
        std::uint64_t process = 0;   ///< a ProcessId (ids start at 1)
    };

    /// Adds process's timer; it must have none.
    void add(std::uint64_t process, Instant at, std::uint64_t sequence);
    /// Cancels process's timer; false when it has none.
    bool remove(std::uint64_t process);
    /// The timer due first (least time, then least sequence); null when none.
    const Timer* earliest() const { return heap_.empty() ? nullptr : &heap_.front(); }
    bool empty() const { return heap_.empty(); }
    std::size_t size() const { return heap_.size(); }

  private:
    static constexpr std::uint32_t absent = std::numeric_limits<std::uint32_t>::max();

    static bool earlier(const Timer& a, const Timer& b) {
        if (a.at != b.at)
            return a.at < b.at;
        return a.sequence < b.sequence;
    }
    /// Puts timer at index and records where it is.
    void place(std::size_t index, const Timer& timer);
    /// Moves the timer at index up or down until the heap is in order again.
    void restore(std::size_t index);
    void sift_up(std::size_t index);
    void sift_down(std::size_t index);

    /// Inline room for a small simulation's few timers: no allocation.
    boost::container::small_vector<Timer, 4> heap_;
    /// Where each process's timer is in heap_, by process id; absent if none.
    boost::container::small_vector<std::uint32_t, 8> position_;
};

}  // namespace ferry::sim
