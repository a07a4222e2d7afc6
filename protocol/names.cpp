#include "ferry/protocol/names.h"

namespace ferry {

namespace {
bool is_name_char(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}
}  // namespace

bool is_valid_name(std::string_view name) {
    if (name.empty() || name.size() > name_bytes_max)
        return false;
    // '.': hidden files, "." and "..". '-': `rm *` in the server's folder
    // would read "-rf" as an option.
    if (name.front() == '.' || name.front() == '-')
        return false;
    for (char c : name) {
        if (!is_name_char(c))
            return false;
    }
    return true;
}

}  // namespace ferry
