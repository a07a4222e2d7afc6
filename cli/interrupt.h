#pragma once
// What the user's signals do to long work: a download (SIGINT, SIGTERM,
// SIGHUP) removes its partial file before the process ends, with the
// shell's code for the signal (128 + its number: 130, 143, 129); an
// exploration (SIGINT, SIGTERM) stops and still reports (and saves) what it
// found.

#include <atomic>
#include <filesystem>

#include <signal.h>

namespace ferry::cli {

/// While it lives, SIGINT, SIGTERM and SIGHUP end the process with
/// 128 + the signal, first removing the file given to arm() if one is armed.
/// The handler only calls unlink, write and _exit (async-signal-safe), so it
/// acts at once, whatever the transfer is waiting for. One at a time.
class RemoveOnInterrupt {
  public:
    RemoveOnInterrupt();
    ~RemoveOnInterrupt();  ///< restores the previous handlers
    RemoveOnInterrupt(const RemoveOnInterrupt&) = delete;
    RemoveOnInterrupt& operator=(const RemoveOnInterrupt&) = delete;

    /// From now on a signal removes path (a path too long to keep is not
    /// armed: the next get of its target reclaims it).
    void arm(const std::filesystem::path& path);
    /// The file is no longer ours to remove (renamed into place, or gone).
    void disarm();

  private:
    struct sigaction old_int_ {};
    struct sigaction old_term_ {};
    struct sigaction old_hup_ {};
};

/// While it lives, the first SIGINT or SIGTERM sets requested() and says on
/// stderr that the work is stopping; the next one ends the process at once
/// with 128 + its number. SIGHUP keeps its default (with the terminal gone
/// there is nobody to report to). Signals ignored on entry stay ignored. One
/// at a time.
class StopOnInterrupt {
  public:
    StopOnInterrupt();
    ~StopOnInterrupt();  ///< restores the previous handlers
    StopOnInterrupt(const StopOnInterrupt&) = delete;
    StopOnInterrupt& operator=(const StopOnInterrupt&) = delete;

    const std::atomic<bool>& requested() const;
    /// The signal that asked to stop; 0 while none has.
    int signal_number() const;

  private:
    struct sigaction old_int_ {};
    struct sigaction old_term_ {};
};

}  // namespace ferry::cli
