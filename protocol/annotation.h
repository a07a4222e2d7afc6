#pragma once
// Annotations: the protocol's own words in a run's trace ("request 3
// parsed", "retrying after timeout"). Protocol code calls ferry::annotate()
// whatever it runs on: inside a simulation the note is recorded with the
// running process and the virtual time, and appears in the readable and JSON
// traces, the deadlock report's trace tail and every view; anywhere else
// (real sockets, a unit test without a simulation) it does nothing.

#include <string_view>

namespace ferry {

/// What records annotations: the simulator installs one while it runs
/// processes on a thread (ScopedAnnotationSink).
class AnnotationSink {
  public:
    virtual void annotate(std::string_view text) = 0;

  protected:
    ~AnnotationSink() = default;
};

/// Adds text to the trace of the simulation running on this thread, by its
/// running process; nothing when none runs.
void annotate(std::string_view text);

/// Makes sink where this thread's annotations go while it lives, and then
/// puts back the one before (simulations on other threads, each with its own,
/// are not disturbed: the sink is per thread).
class ScopedAnnotationSink {
  public:
    explicit ScopedAnnotationSink(AnnotationSink& sink);
    ~ScopedAnnotationSink();
    ScopedAnnotationSink(const ScopedAnnotationSink&) = delete;
    ScopedAnnotationSink& operator=(const ScopedAnnotationSink&) = delete;

  private:
    AnnotationSink* before_;
};

}  // namespace ferry
