#include "ferry/harness/stored_files.h"

#include <algorithm>
#include <vector>

namespace ferry::harness {

StoredContents read_stored_contents(Store& store) {
    StoredContents files;
    std::vector<std::byte> buffer;
    for (const auto& info : store.list()) {
        auto reader = store.open(info.name);
        buffer.resize(static_cast<std::size_t>(
            std::clamp<std::uint64_t>(reader->size_bytes(), buffer.size(), 64 * 1024)));
        sim::CompactBytes content;
        for (std::uint64_t offset = 0; offset < reader->size_bytes();) {
            const std::size_t got = reader->read_at(offset, buffer);
            if (got == 0)
                break;
            content.append(std::span(buffer).first(got));
            offset += got;
        }
        files.emplace_back(info.name, std::move(content));
    }
    return files;
}

TextTable read_stored_files(Store& store) {
    TextTable files;
    for (auto& [name, content] : read_stored_contents(store))
        files.emplace_back(name, content.to_string());
    return files;
}

}  // namespace ferry::harness
