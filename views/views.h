#pragma once
// views/ — pictures of a simulated run, drawn from its sim::Recording:
//
//   views.h          ViewPaths and write_views: the three files of a run (this file)
//   sequence_svg.h   a self-contained SVG sequence diagram
//   sequence_rows.h  its rows: which steps are drawn, which long runs fold
//   svg_writer.h     the SVG elements it is drawn with
//   pcap.h           the run's TCP traffic as a pcap file tshark and Wireshark read
//   tcp_frame.h      one synthesized Ethernet/IPv4/TCP frame, checksummed
//   perfetto.h       a Chrome/Perfetto trace-event JSON timeline
//
// Depends on sim/ only. Deterministic like sim/: the same recording gives
// byte-identical files (no wall clock, no unordered iteration).

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ferry/sim/recording.h"

namespace ferry::views {

/// Where to write each view; an absent one is not drawn.
struct ViewPaths {
    std::optional<std::filesystem::path> svg;
    std::optional<std::filesystem::path> pcap;
    std::optional<std::filesystem::path> perfetto;

    bool any() const { return svg || pcap || perfetto; }
};

/// A view file that cannot be written; its message names the file.
class ViewWriteError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

/// DIR/STEM.svg, DIR/STEM.pcap and DIR/STEM.perfetto.json.
ViewPaths view_paths_in(const std::filesystem::path& dir, std::string_view stem);

/// A file-name stem from words: each run of characters other than
/// A-Z a-z 0-9 . _ - becomes one '-'.
std::string file_stem(std::string_view words);

/// Sets recording up for the views paths asks for: it keeps segments'
/// payloads only when a pcap is.
void prepare_recording(sim::Recording& recording, const ViewPaths& paths);

/// Draws and writes each view asked for; throws ViewWriteError.
void write_views(const sim::Recording& recording, const ViewPaths& paths);

/// "views: a.svg a.pcap a.perfetto.json", or "" when none is asked for.
std::string view_paths_text(const ViewPaths& paths);

}  // namespace ferry::views
