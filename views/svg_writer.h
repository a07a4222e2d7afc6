#pragma once
// A few SVG elements written as text, with XML escaping: what the sequence
// diagram is drawn with.

#include <cstdint>
#include <string>
#include <string_view>

namespace ferry::views {

/// text with &, <, >, " and ' escaped, and control bytes dropped.
std::string xml_escaped(std::string_view text);

class SvgWriter {
  public:
    SvgWriter(std::uint64_t width, std::uint64_t height, std::string_view title);

    void line(std::int64_t x1, std::int64_t y1, std::int64_t x2, std::int64_t y2,
              std::string_view css_class);
    void rect(std::int64_t x, std::int64_t y, std::int64_t width, std::int64_t height,
              std::string_view css_class, std::string_view tooltip = "");
    void circle(std::int64_t x, std::int64_t y, std::int64_t radius, std::string_view css_class);
    void text(std::int64_t x, std::int64_t y, std::string_view content, std::string_view css_class,
              bool centred = false);
    /// Closes the document and returns it.
    std::string finish();

  private:
    std::string out_;
};

}  // namespace ferry::views
