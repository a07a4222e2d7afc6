#pragma once
// The runtime's clock. Protocol code asks the Connection's clock for the time
// and never reads a wall clock, so a 30-second timeout costs nothing in the
// simulator and real time over real sockets.

#include <chrono>
#include <optional>

namespace ferry {

using Duration = std::chrono::nanoseconds;

/// A point in the runtime's time: how long after the runtime's own epoch.
/// Only differences between instants of one clock mean anything.
struct Instant {
    Duration since_epoch{0};

    friend auto operator<=>(const Instant&, const Instant&) = default;
    friend Instant operator+(Instant at, Duration d) { return Instant{at.since_epoch + d}; }
    friend Duration operator-(Instant a, Instant b) { return a.since_epoch - b.since_epoch; }
};

/// An instant after which a blocking call gives up; none means wait for ever.
using Deadline = std::optional<Instant>;

/// The earlier of two deadlines (none is later than any instant).
inline Deadline earliest(Deadline a, Deadline b) {
    if (!a)
        return b;
    if (!b)
        return a;
    return *a < *b ? a : b;
}

class Clock {
  public:
    virtual ~Clock() = default;
    virtual Instant now() const = 0;
};

}  // namespace ferry
