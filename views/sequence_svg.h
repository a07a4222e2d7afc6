#pragma once
// A recorded run as a self-contained SVG sequence diagram (no scripts, no
// external fonts): one lane per process, headed by the connection ends it
// holds; time runs down, one row per step with its virtual time; sends and
// receives marked with their byte counts (partial sends and short reads in
// orange), segments as arrows from the sender's lane to where they arrived,
// faults in red where they struck, blocked calls shaded, long runs of
// routine steps folded into a box that counts them, and a deadlock's
// wait-for cycle drawn in red at the end.

#include <string>

#include "ferry/sim/recording.h"

namespace ferry::views {

/// The SVG document.
std::string sequence_svg_of(const sim::Recording& recording);

}  // namespace ferry::views
