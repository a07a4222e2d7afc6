#pragma once
// Text from the network, made safe to show: a peer's ERR message or a reply
// it should not have sent may hold terminal escapes (ESC [2J clears the
// screen, ESC ]0; retitles the window), NUL or bytes that are not ASCII.
// Whatever came from a peer goes through printable_text before it reaches a
// terminal or a log.

#include <string>
#include <string_view>

namespace ferry {

/// text with printable ASCII (space to '~') as is, a backslash as "\\", and
/// every other byte (control bytes, DEL, anything not ASCII) as "\xNN", two
/// lowercase hex digits. Unambiguous: the original bytes can be read back.
std::string printable_text(std::string_view text);

}  // namespace ferry
