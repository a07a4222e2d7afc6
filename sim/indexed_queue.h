#pragma once
// A queue whose i-th element, in the order they arrived, is found and taken
// out in O(log n): the simulator's run queue. The scheduler's choice of the
// next process is an index into that order (it is what a seed or a saved
// case's choices mean), and with thousands of processes runnable at once,
// erasing the chosen one from the middle of a vector made every pick O(n).
//
// Elements sit in slots in order of arrival; a slot is emptied when its
// element is taken, and a Fenwick tree over the slots counts the live ones,
// so the i-th live element is found by descending the tree. When the slots
// run out they are compacted (or doubled, if more than half are live):
// amortised O(1) per push. Up to dense_max elements the queue is a plain
// vector, as most simulations' are: there, moving a few pointers is cheaper
// than the tree.

#include <algorithm>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <boost/container/small_vector.hpp>

namespace ferry::sim {

template <typename T>
class IndexedQueue {
  public:
    bool empty() const { return live_ == 0; }
    std::size_t size() const { return live_; }

    void push_back(T value) {
        if (!indexed_ && dense_.size() < dense_max) {
            dense_.push_back(std::move(value));
            ++live_;
            return;
        }
        if (!indexed_)
            index_dense();
        if (used_ == slots_.size())
            make_room();
        slots_[used_] = std::move(value);
        add(used_, 1);
        ++used_;
        ++live_;
    }

    /// The index-th element in order of arrival (index < size()).
    const T& operator[](std::size_t index) const {
        assert(index < live_);
        return indexed_ ? *slots_[slot_of(index)] : dense_[index];
    }

    /// Takes out the index-th element (index < size()); the ones after it
    /// move up one place.
    T take(std::size_t index) {
        assert(index < live_);
        if (!indexed_) {
            T value = std::move(dense_[index]);
            dense_.erase(dense_.begin() + static_cast<std::ptrdiff_t>(index));
            --live_;
            return value;
        }
        const std::size_t slot = slot_of(index);
        T value = std::move(*slots_[slot]);
        slots_[slot].reset();
        add(slot, -1);
        --live_;
        if (live_ == 0) {  // back to the cheap form
            indexed_ = false;
            used_ = 0;
            slots_.clear();
            tree_.clear();
        }
        return value;
    }

    /// Calls visit(const T&) on every element, in order of arrival.
    template <typename Visit>
    void for_each(Visit&& visit) const {
        if (!indexed_) {
            for (const T& value : dense_)
                visit(value);
            return;
        }
        for (std::size_t slot = 0; slot < used_; ++slot) {
            if (slots_[slot])
                visit(*slots_[slot]);
        }
    }

  private:
    /// Moves the dense elements into slots and indexes them.
    void index_dense() {
        indexed_ = true;
        slots_.assign(2 * dense_max, std::nullopt);
        used_ = 0;
        for (T& value : dense_)
            slots_[used_++] = std::move(value);
        dense_.clear();
        rebuild_tree();
    }

    /// The slot of the index-th live element: the Fenwick tree's descent to
    /// the last prefix holding no more than index live elements.
    std::size_t slot_of(std::size_t index) const {
        assert(index < live_);
        std::size_t position = 0;  // 1-based tree: the prefix [0, position)
        std::size_t remaining = index;
        for (std::size_t step = slots_.size(); step > 0; step /= 2) {
            const std::size_t next = position + step;
            if (next <= slots_.size() && tree_[next] <= remaining) {
                position = next;
                remaining -= tree_[next];
            }
        }
        assert(position < used_ && slots_[position]);
        return position;
    }

    void add(std::size_t slot, int delta) {
        for (std::size_t i = slot + 1; i <= slots_.size(); i += i & (~i + 1))
            tree_[i] = static_cast<std::uint32_t>(static_cast<int>(tree_[i]) + delta);
    }

    /// Compacts the live elements to the front (in place: this runs every
    /// few pushes in a small queue), doubling the slots first if more than
    /// half of them are live; then rebuilds the tree.
    void make_room() {
        if (live_ * 2 > slots_.size())
            slots_.resize(slots_.size() * 2);
        std::size_t next = 0;
        for (std::size_t slot = 0; slot < used_; ++slot) {
            if (!slots_[slot])
                continue;
            if (slot != next) {
                slots_[next] = std::move(slots_[slot]);
                slots_[slot].reset();
            }
            ++next;
        }
        used_ = next;
        rebuild_tree();
    }

    /// The tree over slots_ when the first used_ of them are live.
    void rebuild_tree() {
        assert(used_ == live_);
        tree_.assign(slots_.size() + 1, 0);
        for (std::size_t i = 1; i <= slots_.size(); ++i) {
            tree_[i] += i <= used_ ? 1 : 0;
            const std::size_t parent = i + (i & (~i + 1));
            if (parent <= slots_.size())
                tree_[parent] += tree_[i];
        }
    }

    /// Up to this many, the queue is a plain vector erased from the middle:
    /// cheaper than the tree at the sizes of most simulations.
    static constexpr std::size_t dense_max = 64;
    boost::container::small_vector<T, 8> dense_;
    bool indexed_ = false;  ///< the elements are in slots_, not dense_
    /// By arrival; empty once taken. A power of two long.
    std::vector<std::optional<T>> slots_;
    /// Fenwick tree of live slots, 1-based.
    std::vector<std::uint32_t> tree_;
    std::size_t used_ = 0;  ///< slots filled so far, live or taken
    std::size_t live_ = 0;
};

}  // namespace ferry::sim
