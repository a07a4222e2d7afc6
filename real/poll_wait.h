#pragma once
// Internal to real/: waiting on file descriptors with poll() until a Deadline
// of the runtime's Clock.

#include <poll.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstddef>
#include <span>
#include <system_error>

#include "ferry/protocol/clock.h"

namespace ferry::detail {

/// Milliseconds poll() may wait before deadline: -1 for none, rounded up so
/// that a wait never ends before the deadline and then spins; 0 once passed.
inline int poll_timeout_ms(Deadline deadline, const Clock& clock) {
    if (!deadline)
        return -1;
    const Duration remaining = *deadline - clock.now();
    if (remaining <= Duration::zero())
        return 0;
    const auto ms = std::chrono::ceil<std::chrono::milliseconds>(remaining).count();
    return ms > INT_MAX ? INT_MAX : static_cast<int>(ms);
}

inline bool deadline_passed(Deadline deadline, const Clock& clock) {
    return deadline && clock.now() >= *deadline;
}

/// Polls fds until one is ready or deadline passes; returns false on the
/// deadline. Retries EINTR. Throws std::system_error for other failures.
inline bool poll_until(std::span<pollfd> fds, Deadline deadline, const Clock& clock) {
    for (;;) {
        if (deadline_passed(deadline, clock))
            return false;
        const int ready = ::poll(fds.data(), fds.size(), poll_timeout_ms(deadline, clock));
        if (ready > 0)
            return true;
        if (ready < 0 && errno != EINTR) {
            throw std::system_error(errno, std::generic_category(), "poll");
        }
    }
}

}  // namespace ferry::detail
