#pragma once
// Download progress for people: on a terminal a one-line bar redrawn at most 10 times a second
// (bytes, percent, speed, ETA, mirror); elsewhere (a pipe, a log, TERM=dumb) a plain line at each
// quarter and at least every 5 s. Pure: the caller passes the time and prints what it gets.

#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>

namespace goinstall::cli {

class ProgressMeter {
public:
    using Clock = std::chrono::steady_clock;
    enum class Style { bar, lines };

    static constexpr auto k_bar_interval = std::chrono::milliseconds(100); // ≤ 10 redraws a second
    static constexpr auto k_line_interval = std::chrono::seconds(5);

    // `width`: the terminal's columns (the bar line never exceeds width - 1).
    explicit ProgressMeter(Style style, int width = 80) : m_style(style), m_width(width) {}

    // A transfer begins: `offset` bytes are already there (a resume); `total` is 0 when unknown.
    void start(Clock::time_point now, std::string filename, std::string mirror, std::uint64_t offset,
               std::uint64_t total);

    // The text to show for this update, or nullopt when nothing should be drawn yet.
    std::optional<std::string> update(Clock::time_point now, std::uint64_t bytes, std::uint64_t total,
                                      const std::string& mirror);

    // "downloaded 66.5 MiB in 12.0 s (5.5 MiB/s) from aliyun"; nullopt when nothing was transferred.
    std::optional<std::string> finish(Clock::time_point now);

    bool active() const { return m_active; }

private:
    double speed(Clock::time_point now) const; // bytes per second over the last few seconds
    std::string bar_line(std::uint64_t bytes, std::uint64_t total, double bps) const;
    std::string plain_line(std::uint64_t bytes, std::uint64_t total, double bps) const;

    Style m_style;
    int m_width;
    bool m_active = false;
    std::string m_filename, m_mirror;
    std::uint64_t m_offset = 0, m_bytes = 0;
    Clock::time_point m_start{}, m_last_draw{};
    bool m_drawn = false;
    int m_quarter = 0; // the last quarter a plain line was printed for
    std::deque<std::pair<Clock::time_point, std::uint64_t>> m_samples;
};

// "17s", "2m05s", "1h02m"; "--" when unknown.
std::string format_eta(double seconds);

} // namespace goinstall::cli
