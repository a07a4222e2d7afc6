#include "ferry/views/svg_writer.h"

#include <iterator>

#include <fmt/core.h>

namespace ferry::views {

namespace {

constexpr std::string_view style =
    "text{font-family:monospace;font-size:11px;fill:#222}"
    ".title{font-size:13px;font-weight:bold}"
    ".head{fill:#e8eefc;stroke:#3a4a7a}"
    ".lane{stroke:#8890a0;stroke-dasharray:4 3}"
    ".blocked{fill:#7a7a7a;fill-opacity:0.3}"
    ".arrow{stroke:#2a5599;stroke-width:1.2;marker-end:url(#arrowhead)}"
    ".dropped{stroke:#999;stroke-dasharray:3 2;marker-end:url(#arrowhead)}"
    ".mark{fill:#2a5599}"
    ".partial{fill:#c05a00;font-weight:bold}"
    ".fault{fill:#c00000;font-weight:bold}"
    ".faultmark{fill:#c00000}"
    ".note{fill:#5a2a99;font-style:italic}"
    ".time{fill:#666}"
    ".fold{fill:#f3f3f3;stroke:#999;stroke-dasharray:6 3}"
    ".cycle{stroke:#d00000;stroke-width:2.5;marker-end:url(#redhead)}"
    ".cycletext{fill:#d00000;font-weight:bold}"
    ".stuck{fill:#d00000;fill-opacity:0.15;stroke:#d00000}";

}  // namespace

std::string xml_escaped(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (const char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f)
                    out += c;
        }
    }
    return out;
}

SvgWriter::SvgWriter(std::uint64_t width, std::uint64_t height, std::string_view title) {
    fmt::format_to(std::back_inserter(out_),
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                   "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
                   "viewBox=\"0 0 {0} {1}\">\n<title>{2}</title>\n<style>{3}</style>\n",
                   width, height, xml_escaped(title), style);
    out_ +=
        "<defs>"
        "<marker id=\"arrowhead\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" "
        "markerHeight=\"7\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#2a5599\"/>"
        "</marker>"
        "<marker id=\"redhead\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"6\" "
        "markerHeight=\"6\" orient=\"auto\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#d00000\"/>"
        "</marker></defs>\n";
    fmt::format_to(std::back_inserter(out_),
                   "<rect x=\"0\" y=\"0\" width=\"{}\" height=\"{}\" fill=\"#ffffff\"/>\n", width,
                   height);
}

void SvgWriter::line(std::int64_t x1, std::int64_t y1, std::int64_t x2, std::int64_t y2,
                     std::string_view css_class) {
    fmt::format_to(std::back_inserter(out_),
                   "<line class=\"{}\" x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\"/>\n", css_class, x1,
                   y1, x2, y2);
}

void SvgWriter::rect(std::int64_t x, std::int64_t y, std::int64_t width, std::int64_t height,
                     std::string_view css_class, std::string_view tooltip) {
    fmt::format_to(std::back_inserter(out_),
                   "<rect class=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\"", css_class, x,
                   y, width, height);
    if (tooltip.empty()) {
        out_ += "/>\n";
        return;
    }
    fmt::format_to(std::back_inserter(out_), "><title>{}</title></rect>\n", xml_escaped(tooltip));
}

void SvgWriter::circle(std::int64_t x, std::int64_t y, std::int64_t radius,
                       std::string_view css_class) {
    fmt::format_to(std::back_inserter(out_),
                   "<circle class=\"{}\" cx=\"{}\" cy=\"{}\" r=\"{}\"/>\n", css_class, x, y,
                   radius);
}

void SvgWriter::text(std::int64_t x, std::int64_t y, std::string_view content,
                     std::string_view css_class, bool centred) {
    fmt::format_to(std::back_inserter(out_), "<text class=\"{}\" x=\"{}\" y=\"{}\"{}>{}</text>\n",
                   css_class, x, y, centred ? " text-anchor=\"middle\"" : "", xml_escaped(content));
}

std::string SvgWriter::finish() {
    out_ += "</svg>\n";
    return std::move(out_);
}

}  // namespace ferry::views
