#pragma once
// The trace's interned texts (names, addresses, messages) by id, an id being
// the text's 64-bit XXH3 hash. A run of a few processes interns a handful,
// found by a scan of a small inline list; a run of thousands interns tens of
// thousands, found through an open-addressing hash index over the same list
// (the id is already a hash, so it is its own slot). The index is only ever
// looked up, never walked: nothing that comes out of a simulation depends on
// its layout, and the list keeps the order texts were first seen in.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/container/small_vector.hpp>

namespace ferry::sim {

class TextTable {
  public:
    /// Keeps text under id unless id is already there.
    void add(std::uint64_t id, std::string_view text);
    /// The text kept under id; null when none is.
    const std::string* find(std::uint64_t id) const;
    std::size_t size() const { return entries_.size(); }

  private:
    static constexpr std::size_t scan_max = 16;  ///< up to this many, no index
    static constexpr std::uint32_t empty_slot = 0;

    /// entries_'s index of id, or entries_.size() when it has none.
    std::size_t index_of(std::uint64_t id) const;
    /// Rebuilds slots_ with slot_count slots (a power of two) over entries_.
    void rebuild(std::size_t slot_count);
    void insert_slot(std::size_t entry);

    /// (id, text) in the order first seen: room inline for a small run's.
    boost::container::small_vector<std::pair<std::uint64_t, std::string>, 12> entries_;
    /// A slot holds the id beside the entry's index, so a probe reads one
    /// cache line: with tens of thousands of texts, going to entries_ to
    /// compare each probed id was a second miss per lookup.
    struct Slot {
        std::uint64_t id = 0;
        std::uint32_t entry = empty_slot;  ///< entries_ index + 1, or empty_slot
    };
    /// Open addressing, linear probing, at most half full. Empty while
    /// entries_ holds no more than scan_max.
    std::vector<Slot> slots_;
};

}  // namespace ferry::sim
