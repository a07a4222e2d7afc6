// The progress bar of put and get; see progress.h.

#include "cli/progress.h"

#include <unistd.h>

#include <algorithm>
#include <array>

#include <fmt/core.h>

namespace ferry::cli {

std::string format_bytes(double bytes) {
    static constexpr std::array<const char*, 5> units = {"B", "KiB", "MiB", "GiB", "TiB"};
    std::size_t unit = 0;
    while (bytes >= 1024.0 && unit + 1 < units.size()) {
        bytes /= 1024.0;
        ++unit;
    }
    if (unit == 0)
        return fmt::format("{:.0f} B", bytes);
    return fmt::format("{:.1f} {}", bytes, units[unit]);
}

ProgressBar::ProgressBar(std::string label, std::uint64_t total_bytes, std::FILE* stream)
    : label_(std::move(label)),
      stream_(stream),
      enabled_(total_bytes >= progress_threshold_bytes && ::isatty(::fileno(stream)) == 1),
      started_(Clock::now()),
      last_drawn_(started_) {}

ProgressBar::~ProgressBar() {
    if (drawn_ && !finished_) {
        std::fputc('\n', stream_);
        std::fflush(stream_);
    }
}

void ProgressBar::update(std::uint64_t done_bytes, std::uint64_t total_bytes) {
    last_done_bytes_ = done_bytes;
    last_total_bytes_ = total_bytes;
    if (!enabled_ || finished_)
        return;
    const auto now = Clock::now();
    if (done_bytes < total_bytes && now - last_drawn_ < std::chrono::milliseconds(100))
        return;
    last_drawn_ = now;
    draw(done_bytes, total_bytes);
}

void ProgressBar::finish() {
    if (!enabled_ || finished_)
        return;
    // The last update is drawn already when it completed the transfer.
    if (!drawn_ || last_done_bytes_ < last_total_bytes_)
        draw(last_done_bytes_, last_total_bytes_);
    finished_ = true;
    std::fputc('\n', stream_);
    std::fflush(stream_);
}

void ProgressBar::draw(std::uint64_t done_bytes, std::uint64_t total_bytes) {
    const double seconds = std::chrono::duration<double>(Clock::now() - started_).count();
    const double rate = seconds > 0 ? static_cast<double>(done_bytes) / seconds : 0.0;
    const double fraction =
        total_bytes == 0
            ? 1.0
            : std::min(1.0, static_cast<double>(done_bytes) / static_cast<double>(total_bytes));
    constexpr int bar_width = 24;
    const int filled = static_cast<int>(fraction * bar_width);
    std::string bar(static_cast<std::size_t>(filled), '#');
    bar.resize(bar_width, '.');
    // \r returns to the start of the line; \x1b[K clears what a longer
    // previous line left behind.
    fmt::print(stream_, "\r{} [{}] {:3.0f}%  {} / {}  {}/s\x1b[K", label_, bar, fraction * 100,
               format_bytes(static_cast<double>(done_bytes)),
               format_bytes(static_cast<double>(total_bytes)), format_bytes(rate));
    std::fflush(stream_);
    drawn_ = true;
}

}  // namespace ferry::cli
