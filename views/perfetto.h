#pragma once
// A recorded run as a Chrome/Perfetto trace (the JSON trace-event format;
// opens in ui.perfetto.dev and chrome://tracing): each simulated process a
// track (the network is one too), each blocking call a slice from when it
// blocked to when it woke (to the run's end when it never did); partial
// sends, short reads, connection events, faults and annotations as instant
// events; and the bytes in flight on each connection as a counter (whole
// sends and full reads show there: as instants they would swamp a long
// transfer). Times are virtual, in µs.

#include <ostream>
#include <string>

#include "ferry/sim/recording.h"

namespace ferry::views {

/// Writes the JSON document to out, one trace event per line.
void write_perfetto_json(const sim::Recording& recording, std::ostream& out);
/// The same, as text.
std::string perfetto_json_of(const sim::Recording& recording);

}  // namespace ferry::views
