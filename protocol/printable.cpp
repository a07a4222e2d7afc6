#include "ferry/protocol/printable.h"

namespace ferry {

std::string printable_text(std::string_view text) {
    static constexpr char hex_digits[] = "0123456789abcdef";
    std::string shown;
    shown.reserve(text.size());
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (c == '\\') {
            shown += "\\\\";
        } else if (byte >= 0x20 && byte < 0x7f) {
            shown += c;
        } else {
            shown += "\\x";
            shown += hex_digits[byte >> 4];
            shown += hex_digits[byte & 0xf];
        }
    }
    return shown;
}

}  // namespace ferry
