#pragma once
// The rows of a sequence diagram: which of a recorded run's events get a row
// of their own, which long runs of routine steps (sends, receives, segments,
// writes) fold into one box with counts, and the height at which every event
// sits, so blocked intervals and arrows can be drawn between any two events.

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ferry/sim/recording.h"

namespace ferry::views {

struct SequenceRow {
    bool fold = false;
    std::size_t event = 0;       ///< an event row: the event's index
    std::size_t fold_begin = 0;  ///< a fold: the events [fold_begin, fold_end)
    std::size_t fold_end = 0;
    std::uint64_t y = 0;  ///< top, in px
    std::uint64_t height = 0;
};

struct SequenceRows {
    std::vector<SequenceRow> rows;
    /// Per event (and one past the last): the top of the row it is drawn in
    /// or folded into, or of the next row when it has none of its own.
    std::vector<std::uint64_t> event_y;
    /// Per event: the index of the row it is in; rows.size() when none.
    std::vector<std::size_t> event_row;
    std::uint64_t bottom = 0;
};

struct RowMetrics {
    std::uint64_t top = 0;  ///< where the first row starts
    std::uint64_t row_height = 18;
    std::uint64_t fold_height = 54;
    std::size_t fold_keep = 12;       ///< rows kept at each end of a folded run
    std::size_t fold_threshold = 60;  ///< routine runs longer than this fold
};

/// Whether event is drawn at all (scheduler switches are not).
bool drawn(const sim::TraceEvent& event);
/// Whether event is a routine step that may be folded away in a long run.
bool routine(const sim::TraceEvent& event);

SequenceRows lay_out_rows(const sim::Recording& recording, const RowMetrics& metrics);

}  // namespace ferry::views
