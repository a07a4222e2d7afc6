#pragma once
// Which file names ferry/1 accepts: 1 to 255 bytes of [A-Za-z0-9._-], not
// starting with '.' or '-'. So no separators, no "..", no hidden files,
// nothing a file system could read as a path, and nothing a shell tool that
// later touches the folder (rm *, tar, grep) could read as an option.

#include <cstddef>
#include <string_view>

namespace ferry {

inline constexpr std::size_t name_bytes_max = 255;

bool is_valid_name(std::string_view name);

}  // namespace ferry
