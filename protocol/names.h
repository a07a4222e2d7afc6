#pragma once
// Which file names ferry/1 accepts: 1 to 255 bytes of [A-Za-z0-9._-], not
// starting with '.'. So no separators, no "..", no hidden files, nothing a
// file system could read as a path.

#include <cstddef>
#include <string_view>

namespace ferry {

inline constexpr std::size_t name_bytes_max = 255;

bool is_valid_name(std::string_view name);

}  // namespace ferry
