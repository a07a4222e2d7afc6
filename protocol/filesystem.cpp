#include "protocol/filesystem.h"

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
    }
    return "?";
}

}  // namespace ferry
