#include "ferry/views/views.h"

#include <cerrno>
#include <cstring>
#include <fstream>

#include <fmt/core.h>

#include "ferry/views/pcap.h"
#include "ferry/views/perfetto.h"
#include "ferry/views/sequence_svg.h"

namespace ferry::views {

namespace {

/// Writes a view to path through write(recording, stream).
template <typename Write>
void write_file(const std::filesystem::path& path, const sim::Recording& recording, Write write) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    if (!out) {
        throw ViewWriteError(
            fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
    }
    write(recording, out);
    out.close();
    if (!out) {
        throw ViewWriteError(
            fmt::format("cannot write {}: {}", path.string(), std::strerror(errno)));
    }
}

void write_svg(const sim::Recording& recording, std::ostream& out) {
    out << sequence_svg_of(recording);
}

bool allowed_in_stem(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
}

}  // namespace

ViewPaths view_paths_in(const std::filesystem::path& dir, std::string_view stem) {
    const std::string name(stem);
    return ViewPaths{dir / (name + ".svg"), dir / (name + ".pcap"),
                     dir / (name + ".perfetto.json")};
}

std::string file_stem(std::string_view words) {
    std::string stem;
    for (const char c : words) {
        if (allowed_in_stem(c))
            stem += c;
        else if (!stem.empty() && stem.back() != '-')
            stem += '-';
    }
    while (!stem.empty() && (stem.back() == '-' || stem.front() == '.'))
        stem.erase(stem.back() == '-' ? stem.size() - 1 : 0, 1);
    return stem.empty() ? std::string("run") : stem;
}

void prepare_recording(sim::Recording& recording, const ViewPaths& paths) {
    recording.keep_payloads(paths.pcap.has_value());
}

void write_views(const sim::Recording& recording, const ViewPaths& paths) {
    if (paths.svg)
        write_file(*paths.svg, recording, write_svg);
    if (paths.pcap)
        write_file(*paths.pcap, recording, write_pcap);
    if (paths.perfetto)
        write_file(*paths.perfetto, recording, write_perfetto_json);
}

std::string view_paths_text(const ViewPaths& paths) {
    std::string text;
    for (const auto* path : {&paths.svg, &paths.pcap, &paths.perfetto}) {
        if (*path)
            text += " " + (*path)->string();
    }
    return text.empty() ? text : "views:" + text;
}

}  // namespace ferry::views
