// The signal handlers of an interrupted download and of interrupted
// exploration; see interrupt.h.

#include "cli/interrupt.h"

#include <unistd.h>

#include <array>
#include <atomic>
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
volatile sig_atomic_t stop_signal = 0;
static_assert(std::atomic<bool>::is_always_lock_free, "set from a signal handler");

extern "C" void on_stop_request(int signal_number) {
    if (stop_requested.load()) {
        ::_exit(128 + signal_number);
    }
    stop_signal = signal_number;
    stop_requested.store(true);
    static constexpr char message[] =
        "\nferry: interrupted; stopping, then reporting what was found (again to quit at once)\n";
    [[maybe_unused]] const ssize_t ignored = ::write(STDERR_FILENO, message, sizeof message - 1);
}

/// Handles signal_number with handler, unless it is ignored: a signal
/// ignored on entry (nohup's SIGHUP, SIGINT of a shell's background job)
/// stays ignored, as the caller asked.
void install(int signal_number, struct sigaction& old, void (*handler)(int) = on_interrupt) {
    ::sigaction(signal_number, nullptr, &old);
    if (old.sa_handler == SIG_IGN)
        return;
    struct sigaction action {};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    // One handler at a time: a second signal waits until the first has ended
    // the process.
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
    stop_signal = 0;
    install(SIGINT, old_int_, on_stop_request);
    install(SIGTERM, old_term_, on_stop_request);
    install(SIGHUP, old_hup_, on_stop_request);
}

StopOnInterrupt::~StopOnInterrupt() {
    ::sigaction(SIGINT, &old_int_, nullptr);
    ::sigaction(SIGTERM, &old_term_, nullptr);
    ::sigaction(SIGHUP, &old_hup_, nullptr);
}

const std::atomic<bool>& StopOnInterrupt::requested() const {
    return stop_requested;
}

int StopOnInterrupt::signal_number() const {
    return stop_signal;
}

}  // namespace ferry::cli
