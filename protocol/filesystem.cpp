#include "ferry/protocol/filesystem.h"

namespace ferry {

std::string_view to_string(FsCall call) {
    switch (call) {
        case FsCall::open:
            return "open";
        case FsCall::write:
            return "write";
        case FsCall::read:
            return "read";
        case FsCall::sync:
            return "sync";
        case FsCall::stat:
            return "stat";
        case FsCall::lock:
            return "lock";
        case FsCall::close:
            return "close";
        case FsCall::list:
            return "list";
        case FsCall::rename:
            return "rename";
        case FsCall::unlink:
            return "unlink";
        case FsCall::sync_directory:
            return "sync_directory";
        case FsCall::get_attribute:
            return "get_attribute";
        case FsCall::set_attribute:
            return "set_attribute";
    }
    return "?";
}

std::optional<FsCall> fs_call_named(std::string_view name) {
    for (std::size_t i = 0; i < fs_call_count; ++i) {
        const auto call = static_cast<FsCall>(i);
        if (to_string(call) == name)
            return call;
    }
    return std::nullopt;
}

}  // namespace ferry
