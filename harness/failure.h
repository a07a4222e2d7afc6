#pragma once
// How a run failed, as a value: one table (FERRY_FAILURE_KINDS) declares each
// kind with its exit code and a sentence; messages and exit codes are derived
// from it here and nowhere else, and nothing ever parses a message back.

#include <optional>
#include <string>
#include <string_view>

namespace ferry::harness {

// X(kind, exit code, name, what it means)
#define FERRY_FAILURE_KINDS(X)                                                                    \
    X(deadlock, 3, "deadlock", "no process can run and nothing is in flight")                     \
    X(time_budget, 4, "time budget exceeded",                                                     \
      "the run was still going when its virtual time budget was spent")                           \
    X(wrong_data, 1, "wrong data", "an operation returned data the model does not allow")         \
    X(lost_data, 1, "lost data", "something acknowledged is missing or was replaced")             \
    X(torn_file, 1, "torn file", "the server keeps bytes that no single write of that name sent") \
    X(kept_refused, 1, "kept a refused write",                                                    \
      "the server keeps or returns something it answered with an error")                          \
    X(unexplained_error, 1, "unexplained error",                                                  \
      "an operation failed and no active fault explains it")                                      \
    X(missing_error, 1, "missing error", "an operation that must fail succeeded")                 \
    X(leaked_file, 1, "leaked file",                                                              \
      "a temporary file outlived its upload, or the cleanup of a restart")                        \
    X(limit_broken, 1, "limit broken",                                                            \
      "a server limit was exceeded, or enforced where it should not be")                          \
    X(process_failed, 1, "process failed", "a process ended with an exception nobody caught")     \
    X(nondeterministic, 1, "not deterministic", "the same run gave two different traces")         \
    X(expectation, 1, "expectation not met", "the scenario's [expect] did not hold")

enum class FailureKind {
#define FERRY_FAILURE_ENUM(kind, code, name, meaning) kind,
    FERRY_FAILURE_KINDS(FERRY_FAILURE_ENUM)
#undef FERRY_FAILURE_ENUM
};

std::string_view to_string(FailureKind kind);
std::string_view meaning(FailureKind kind);
/// The exit code of a command whose run failed this way (docs/architecture.md: 1
/// failed, 3 deadlock, 4 time budget).
int exit_code(FailureKind kind);
/// A kind from its name ("deadlock", "wrong data"); none if unknown.
std::optional<FailureKind> parse_failure_kind(std::string_view name);

struct Failure {
    FailureKind kind = FailureKind::unexplained_error;
    /// The workload's finer name for it ("truncated file", "GET of a name
    /// never put"), stable across shrinking: a shrunk case must fail with
    /// the same kind and tag.
    std::string tag;
    /// What happened, in words: which operation, what it got, what the model
    /// allowed.
    std::string detail;

    /// "kind (tag)", for a line.
    std::string signature() const;
};

/// Exit code 0 for none, else the failure's.
int exit_code(const std::optional<Failure>& failure);

}  // namespace ferry::harness
