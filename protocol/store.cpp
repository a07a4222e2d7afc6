#include "ferry/protocol/store.h"

namespace ferry {

std::string_view to_string(StoreErrorKind kind) {
    switch (kind) {
        case StoreErrorKind::not_found:
            return "not found";
        case StoreErrorKind::name_not_allowed:
            return "name not allowed";
        case StoreErrorKind::disk_full:
            return "disk full";
        case StoreErrorKind::io:
            return "I/O error";
    }
    return "unknown";
}

std::variant<std::unique_ptr<FileReader>, StoreFailure> Store::try_open(std::string_view name) {
    try {
        return open(name);
    } catch (const StoreError& e) {
        return StoreFailure{e.kind(), e.what()};
    }
}

}  // namespace ferry
