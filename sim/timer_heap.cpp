#include "ferry/sim/timer_heap.h"

#include <stdexcept>

namespace ferry::sim {

void TimerHeap::add(std::uint64_t process, Instant at, std::uint64_t sequence) {
    if (position_.size() <= process)
        position_.resize(process + 1, absent);
    if (position_[process] != absent)
        throw std::logic_error("a simulated process has two timers");
    heap_.push_back(Timer{});
    place(heap_.size() - 1, Timer{at, sequence, process});
    sift_up(heap_.size() - 1);
}

bool TimerHeap::remove(std::uint64_t process) {
    if (process >= position_.size() || position_[process] == absent)
        return false;
    const std::size_t index = position_[process];
    position_[process] = absent;
    const Timer last = heap_.back();
    heap_.pop_back();
    if (index < heap_.size()) {
        place(index, last);
        restore(index);
    }
    return true;
}

void TimerHeap::place(std::size_t index, const Timer& timer) {
    heap_[index] = timer;
    position_[timer.process] = static_cast<std::uint32_t>(index);
}

void TimerHeap::restore(std::size_t index) {
    if (index > 0 && earlier(heap_[index], heap_[(index - 1) / 2]))
        sift_up(index);
    else
        sift_down(index);
}

void TimerHeap::sift_up(std::size_t index) {
    const Timer moving = heap_[index];
    while (index > 0) {
        const std::size_t parent = (index - 1) / 2;
        if (!earlier(moving, heap_[parent]))
            break;
        place(index, heap_[parent]);
        index = parent;
    }
    place(index, moving);
}

void TimerHeap::sift_down(std::size_t index) {
    const Timer moving = heap_[index];
    const std::size_t count = heap_.size();
    while (true) {
        const std::size_t left = 2 * index + 1;
        if (left >= count)
            break;
        const std::size_t right = left + 1;
        const std::size_t child =
            right < count && earlier(heap_[right], heap_[left]) ? right : left;
        if (!earlier(heap_[child], moving))
            break;
        place(index, heap_[child]);
        index = child;
    }
    place(index, moving);
}

}  // namespace ferry::sim
