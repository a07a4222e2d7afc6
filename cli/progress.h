#pragma once
// A progress bar for put and get on stderr: percentage, bytes and rate,
// redrawn in place at most ten times a second. It shows only when stderr is a
// terminal and the transfer is large enough to be worth watching; otherwise
// it stays silent, so scripts and logs see nothing of it.

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

namespace ferry::cli {

/// Transfers smaller than this show no progress bar.
inline constexpr std::uint64_t progress_threshold_bytes = 4 * 1024 * 1024;

/// "512 B", "1.5 KiB", "3.2 MiB", "1.0 GiB".
std::string format_bytes(double bytes);

class ProgressBar {
  public:
    /// label names the transfer ("put big.iso"). The bar shows when stream is
    /// a terminal and total_bytes >= progress_threshold_bytes.
    ProgressBar(std::string label, std::uint64_t total_bytes, std::FILE* stream = stderr);
    ~ProgressBar();  ///< ends the line if anything was drawn
    ProgressBar(const ProgressBar&) = delete;
    ProgressBar& operator=(const ProgressBar&) = delete;

    bool enabled() const { return enabled_; }
    /// Records progress; redraws if enough time passed or the transfer is done.
    void update(std::uint64_t done_bytes, std::uint64_t total_bytes);
    /// Draws the final state and ends the line.
    void finish();

  private:
    void draw(std::uint64_t done_bytes, std::uint64_t total_bytes);

    using Clock = std::chrono::steady_clock;
    std::string label_;
    std::FILE* stream_;
    bool enabled_;
    bool drawn_ = false;
    bool finished_ = false;
    std::uint64_t last_done_bytes_ = 0;
    std::uint64_t last_total_bytes_ = 0;
    Clock::time_point started_;
    Clock::time_point last_drawn_;
};

}  // namespace ferry::cli
