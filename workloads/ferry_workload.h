#pragma once
// ferry/1 as a workload: sequences of PUT, GET and DIR from one to three
// concurrent clients on a small set of names (so they collide), pipelined or
// not, with dishonest and slow clients (a digest wrong in one hex digit, a
// size that disagrees with the body, a body cut short, a request line
// trickled a byte at a time, junk after a body, malformed request lines,
// names at every edge), against a server whose limits and timeouts are
// sometimes set right at the edge. Checked by ferry_model.h.

#include <memory>

#include "ferry/harness/workload.h"

namespace ferry::workloads {

std::unique_ptr<harness::Workload> make_ferry_workload();

}  // namespace ferry::workloads
