#pragma once
// The status an operation ends in when protocol code throws: the one mapping
// from the Connection contract's errors to a history's statuses, shared by
// every workload.

#include <exception>
#include <string>

#include "ferry/harness/history.h"
#include "ferry/protocol/connection.h"

namespace ferry::harness {

struct OpEnd {
    OpStatus status = OpStatus::ok;
    int code = 0;
    std::string detail;
};

/// timed_out for a timeout, connect_failed for a refused connect, cut for a
/// reset or a closed connection.
OpEnd end_for(const ConnectionError& error);
/// The status for whatever protocol code threw: ConnectionError,
/// ProtocolError (corrupted for a failed integrity check), StoreError.
/// Rethrows anything else (a simulation being torn down).
OpEnd end_for_current_exception();

}  // namespace ferry::harness
