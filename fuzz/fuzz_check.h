#pragma once
// What every fuzz target shares: require(), which turns a broken invariant
// into a crash libFuzzer reports (assert would vanish under NDEBUG), and a
// view of the input as text (input_text).

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace ferry::fuzz {

/// Aborts with what when ok is false: a finding, with the input libFuzzer saves.
inline void require(bool ok, const char* what) {
    if (ok)
        return;
    std::fprintf(stderr, "fuzz invariant broken: %s\n", what);
    std::abort();
}

inline std::string_view input_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

}  // namespace ferry::fuzz
