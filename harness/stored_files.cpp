#include "ferry/harness/stored_files.h"

namespace ferry::harness {

TextTable read_stored_files(Store& store) {
    TextTable files;
    for (const auto& info : store.list()) {
        auto reader = store.open(info.name);
        std::string content(reader->size_bytes(), '\0');
        std::uint64_t offset = 0;
        while (offset < content.size()) {
            const std::size_t got = reader->read_at(
                offset, std::span(reinterpret_cast<std::byte*>(content.data()) + offset,
                                  content.size() - offset));
            if (got == 0)
                break;
            offset += got;
        }
        content.resize(offset);
        files.emplace_back(info.name, std::move(content));
    }
    return files;
}

}  // namespace ferry::harness
