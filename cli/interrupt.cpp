// The signal handlers of an interrupted download and of interrupted
// exploration; see interrupt.h.

#include "cli/interrupt.h"

#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <climits>
#include <cstring>

namespace ferry::cli {

namespace {

/// The file to remove, written before armed is set and read only while it
/// is: the handler never sees a half-copied path.
std::array<char, PATH_MAX> armed_path{};
volatile sig_atomic_t armed = 0;

extern "C" void on_interrupt(int signal_number) {
    if (armed) {
        ::unlink(armed_path.data());
        static constexpr char message[] = "\nferry: interrupted; the partial download is removed\n";
        [[maybe_unused]] const ssize_t ignored =
            ::write(STDERR_FILENO, message, sizeof message - 1);
    }
    ::_exit(128 + signal_number);
}

std::atomic<bool> stop_requested{false};
std::atomic<int> stop_signal{0};  ///< read by the thread that reports
static_assert(std::atomic<bool>::is_always_lock_free && std::atomic<int>::is_always_lock_free,
              "set from a signal handler");

extern "C" void on_stop_request(int signal_number) {
    // The handler returns to whatever it interrupted: errno must survive it.
    const int saved_errno = errno;
    // exchange, not load then store: two threads may take a signal each.
    if (stop_requested.exchange(true))
        ::_exit(128 + signal_number);
    stop_signal.store(signal_number);
    static constexpr char message[] =
        "\nferry: interrupted; stopping, then reporting what was found (again to quit at once)\n";
    [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, message, sizeof message - 1);
    errno = saved_errno;
}

/// Handles signal_number with handler, unless it is ignored: a signal
/// ignored on entry (nohup's SIGHUP, SIGINT of a shell's background job)
/// stays ignored, as the caller asked. A handler that returns (the stop
/// request's) restarts the call it interrupted, so no write of the report
/// fails with EINTR.
void install(int signal_number, struct sigaction& old, void (*handler)(int) = on_interrupt) {
    ::sigaction(signal_number, nullptr, &old);
    if (old.sa_handler == SIG_IGN)
        return;
    struct sigaction action {};
    action.sa_handler = handler;
    if (handler != on_interrupt)
        action.sa_flags = SA_RESTART;
    sigemptyset(&action.sa_mask);
    // One handler at a time on a thread: a second signal waits until the
    // first handler has ended the process, or returned.
    sigaddset(&action.sa_mask, SIGINT);
    sigaddset(&action.sa_mask, SIGTERM);
    sigaddset(&action.sa_mask, SIGHUP);
    ::sigaction(signal_number, &action, &old);
}

}  // namespace

RemoveOnInterrupt::RemoveOnInterrupt() {
    install(SIGINT, old_int_);
    install(SIGTERM, old_term_);
    install(SIGHUP, old_hup_);
}

RemoveOnInterrupt::~RemoveOnInterrupt() {
    disarm();
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    ::sigaction(SIGHUP, &old_hup_, nullptr);
}

void RemoveOnInterrupt::arm(const std::filesystem::path& path) {
    armed = 0;
    std::atomic_signal_fence(std::memory_order_seq_cst);
    const std::string& text = path.native();
    if (text.size() >= armed_path.size())
        return;
    std::memcpy(armed_path.data(), text.c_str(), text.size() + 1);
    std::atomic_signal_fence(std::memory_order_seq_cst);  // the path, then the flag
    armed = 1;
}

void RemoveOnInterrupt::disarm() {
    armed = 0;
}

StopOnInterrupt::StopOnInterrupt() {
    stop_requested.store(false);
    stop_signal.store(0);
    install(SIGINT, old_int_, on_stop_request);
    install(SIGTERM, old_term_, on_stop_request);
}

StopOnInterrupt::~StopOnInterrupt() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
}

const std::atomic<bool>& StopOnInterrupt::requested() const {
    return stop_requested;
}

int StopOnInterrupt::signal_number() const {
    return stop_signal.load();
}

}  // namespace ferry::cli
