#pragma once
// Where protocol code called send or recv ("kv_protocol.cpp:42"), noted for
// deadlock reports. It is std::source_location's file and line: libstdc++
// offers std::source_location only to compilers with
// __builtin_source_location (GCC 11, Clang 15 and later), while
// __builtin_FILE and __builtin_LINE, which give the caller's place when used
// as default arguments, are in every GCC and Clang ferry builds with
// (Clang 14 builds the fuzz targets).

namespace ferry {

class CallSite {
  public:
    /// Line 0: unknown.
    constexpr CallSite() = default;

    /// The caller's place, when used as a default argument.
    static constexpr CallSite current(const char* file = __builtin_FILE(),
                                      unsigned line = __builtin_LINE()) noexcept {
        return CallSite(file, line);
    }

    constexpr const char* file_name() const noexcept { return file_; }
    constexpr unsigned line() const noexcept { return line_; }

  private:
    constexpr CallSite(const char* file, unsigned line) : file_(file), line_(line) {}

    const char* file_ = "";
    unsigned line_ = 0;
};

}  // namespace ferry
