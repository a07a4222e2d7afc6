#pragma once
// What the clients of a run did: each operation's invocation and how it
// ended, with the runtime's times. Workloads record into it as operations
// happen (from simulated processes or real threads alike) and check it
// against their model; scenario files judge their outcome from it.

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferry/harness/workload_case.h"
#include "ferry/protocol/clock.h"

namespace ferry::harness {

/// How an operation ended, in terms every workload shares.
enum class OpStatus {
    pending,         ///< never returned: the run ended first
    ok,              ///< did what it asked (an expected error counts: see code)
    refused,         ///< the server answered with an error the step did not expect
    unexpected_ok,   ///< the step expected an error and the server said OK
    timed_out,       ///< a call waited past its timeout
    cut,             ///< the connection was reset or closed before the answer
    connect_failed,  ///< no connection: refused, or the connect timed out
    corrupted,       ///< the client's own check found the bytes changed
    protocol_error,  ///< the peer broke the protocol (a malformed answer)
    wrong,           ///< the answer contradicts the model (set by the check)
};

std::string_view to_string(OpStatus status);

struct OpRecord {
    std::size_t client = 0;  ///< 0-based
    std::size_t index = 0;   ///< in the client's list of operations
    const Operation* op = nullptr;
    Instant invoked;
    std::optional<Instant> completed;
    OpStatus status = OpStatus::pending;
    int code = 0;        ///< the server's error code, expected or not; 0 = none
    std::string detail;  ///< the error, or what came back, in words
};

/// Thread-safe: real clients record from their own threads.
class History {
  public:
    /// Records an invocation; returns its number for complete().
    std::size_t invoke(std::size_t client, std::size_t index, const Operation& op, Instant at);
    void complete(std::size_t record, Instant at, OpStatus status, int code = 0,
                  std::string detail = {});
    /// A copy of every record, in invocation order.
    std::vector<OpRecord> records() const;
    std::size_t size() const;

  private:
    mutable std::mutex mutex_;
    std::vector<OpRecord> records_;
};

/// "client 2 op 3 put(a.bin,size=1025)" — an operation in a report.
std::string describe_op(const OpRecord& record);
/// Every record as a line: who, what, when, how it ended.
std::string history_text(const std::vector<OpRecord>& records);

}  // namespace ferry::harness
