#include "ferry/sim/text_table.h"

namespace ferry::sim {

void TextTable::add(std::uint64_t id, std::string_view text) {
    if (index_of(id) != entries_.size())
        return;
    entries_.emplace_back(id, std::string(text));
    if (entries_.size() <= scan_max)
        return;
    if (2 * entries_.size() > slots_.size())
        rebuild(slots_.empty() ? 4 * scan_max : 2 * slots_.size());
    else
        insert_slot(entries_.size() - 1);
}

const std::string* TextTable::find(std::uint64_t id) const {
    const std::size_t index = index_of(id);
    return index == entries_.size() ? nullptr : &entries_[index].second;
}

std::size_t TextTable::index_of(std::uint64_t id) const {
    if (slots_.empty()) {
        for (std::size_t i = 0; i < entries_.size(); ++i) {
            if (entries_[i].first == id)
                return i;
        }
        return entries_.size();
    }
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t slot = id & mask;; slot = (slot + 1) & mask) {
        const Slot& held = slots_[slot];
        if (held.entry == empty_slot)
            return entries_.size();
        if (held.id == id)
            return held.entry - 1;
    }
}

void TextTable::rebuild(std::size_t slot_count) {
    slots_.assign(slot_count, Slot{});
    for (std::size_t i = 0; i < entries_.size(); ++i)
        insert_slot(i);
}

void TextTable::insert_slot(std::size_t entry) {
    const std::size_t mask = slots_.size() - 1;
    const std::uint64_t id = entries_[entry].first;
    std::size_t slot = id & mask;
    while (slots_[slot].entry != empty_slot)
        slot = (slot + 1) & mask;
    slots_[slot] = Slot{id, static_cast<std::uint32_t>(entry + 1)};
}

}  // namespace ferry::sim
