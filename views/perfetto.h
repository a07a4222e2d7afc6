#pragma once
// A recorded run as a Chrome/Perfetto trace (the JSON trace-event format;
// opens in ui.perfetto.dev and chrome://tracing): each simulated process a
// track (the network is one too), each blocking call a slice from when it
// blocked to when it woke (to the run's end when it never did), sends,
// receives, faults and annotations as instant events, and the bytes in
// flight on each connection as a counter. Times are virtual, in µs.

#include <string>

#include "sim/recording.h"

namespace ferry::views {

/// The JSON document, one trace event per line.
std::string perfetto_json_of(const sim::Recording& recording);

}  // namespace ferry::views
