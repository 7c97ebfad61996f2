#include "progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "goinstall/base/strings.hpp"

namespace goinstall::cli {

namespace {

constexpr auto k_speed_window = std::chrono::seconds(5);

double seconds_between(ProgressMeter::Clock::time_point a, ProgressMeter::Clock::time_point b) {
    return std::chrono::duration<double>(b - a).count();
}

std::string speed_text(double bps) {
    return bps > 0 ? human_bytes(static_cast<std::uint64_t>(bps)) + "/s" : std::string("--/s");
}

} // namespace

std::string format_eta(double seconds) {
    if (!(seconds >= 0) || seconds > 99 * 3600.0) return "--";
    auto s = static_cast<long>(std::lround(seconds));
    char buf[32];
    if (s < 60) {
        std::snprintf(buf, sizeof buf, "%lds", s);
    } else if (s < 3600) {
        std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
    } else {
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, (s % 3600) / 60);
    }
    return buf;
}

void ProgressMeter::start(Clock::time_point now, std::string filename, std::string mirror, std::uint64_t offset,
                          std::uint64_t total) {
    m_active = true;
    m_filename = std::move(filename);
    m_mirror = std::move(mirror);
    m_offset = m_bytes = offset;
    m_start = now;
    m_drawn = false;
    m_quarter = total > 0 ? static_cast<int>(4 * offset / total) : 0;
    m_last_draw = now;
    m_samples.clear();
    m_samples.emplace_back(now, offset);
}

double ProgressMeter::speed(Clock::time_point now) const {
    if (m_samples.size() < 2) return 0.0;
    const auto& [t0, b0] = m_samples.front();
    double dt = seconds_between(t0, now);
    if (dt < 0.2 || m_bytes < b0) return 0.0;
    return static_cast<double>(m_bytes - b0) / dt;
}

std::optional<std::string> ProgressMeter::update(Clock::time_point now, std::uint64_t bytes, std::uint64_t total,
                                                 const std::string& mirror) {
    if (!m_active) start(now, "", mirror, 0, total);
    m_bytes = bytes;
    if (!mirror.empty()) m_mirror = mirror;
    m_samples.emplace_back(now, bytes);
    while (m_samples.size() > 2 && now - m_samples[1].first >= k_speed_window) m_samples.pop_front();
    const double bps = speed(now);

    if (m_style == Style::bar) {
        const bool complete = total > 0 && bytes >= total;
        if (m_drawn && now - m_last_draw < k_bar_interval && !complete) return std::nullopt;
        m_drawn = true;
        m_last_draw = now;
        return bar_line(bytes, total, bps);
    }
    // Plain lines: at each quarter (25, 50, 75 %; the end has its own summary) and every 5 s.
    int quarter = total > 0 ? static_cast<int>(4 * std::min(bytes, total) / total) : 0;
    bool new_quarter = quarter > m_quarter && quarter < 4;
    if (!new_quarter && now - m_last_draw < k_line_interval) return std::nullopt;
    m_quarter = std::max(m_quarter, quarter);
    m_last_draw = now;
    return plain_line(bytes, total, bps);
}

std::string ProgressMeter::bar_line(std::uint64_t bytes, std::uint64_t total, double bps) const {
    std::string head, tail;
    int fill_of = 0; // bar cells: filled per mille of total
    if (total > 0) {
        auto permille = static_cast<int>(1000 * std::min(bytes, total) / total);
        fill_of = permille;
        char pct[16];
        std::snprintf(pct, sizeof pct, "%3d%%", permille / 10);
        head = pct;
        double eta = bps > 0 ? static_cast<double>(total - std::min(bytes, total)) / bps : -1;
        // Fixed-width fields keep the line (and so the bar) the same length from frame to frame.
        char figures[96];
        std::snprintf(figures, sizeof figures, "%9s / %-9s  %11s  ETA %-5s", human_bytes(bytes).c_str(),
                      human_bytes(total).c_str(), speed_text(bps).c_str(), format_eta(eta).c_str());
        tail = figures;
    } else {
        char figures[64];
        std::snprintf(figures, sizeof figures, "%9s  %11s", human_bytes(bytes).c_str(), speed_text(bps).c_str());
        tail = figures;
    }
    if (!m_mirror.empty()) tail += "  " + m_mirror;
    const int limit = std::max(20, m_width - 1);
    // Widest first: name, bar, figures; drop the name, then shrink the bar, then cut the figures.
    auto compose = [&](bool with_name, int cells) {
        std::string line = with_name && !m_filename.empty() ? m_filename + " " : "";
        if (total > 0) {
            line += head;
            if (cells > 0) {
                int filled = cells * fill_of / 1000;
                line += " [" + std::string(static_cast<std::size_t>(filled), '#') +
                        std::string(static_cast<std::size_t>(cells - filled), '.') + "]";
            }
            line += "  ";
        }
        return line + tail;
    };
    for (bool with_name : {true, false}) {
        for (int cells = 30; cells >= 10; cells -= 5) {
            auto line = compose(with_name, cells);
            if (static_cast<int>(line.size()) <= limit) return line;
        }
    }
    auto line = compose(false, 0);
    if (static_cast<int>(line.size()) > limit) line.resize(static_cast<std::size_t>(limit));
    return line;
}

std::string ProgressMeter::plain_line(std::uint64_t bytes, std::uint64_t total, double bps) const {
    std::string line = "downloading " + (m_filename.empty() ? std::string() : m_filename + ": ");
    if (total > 0) {
        line += std::to_string(100 * std::min(bytes, total) / total) + "% of " + human_bytes(total) + " (" +
                human_bytes(bytes) + ", " + speed_text(bps) + ", ETA " +
                format_eta(bps > 0 ? static_cast<double>(total - std::min(bytes, total)) / bps : -1) + ")";
    } else {
        line += human_bytes(bytes) + " (" + speed_text(bps) + ")";
    }
    if (!m_mirror.empty()) line += " from " + m_mirror;
    return line;
}

std::optional<std::string> ProgressMeter::finish(Clock::time_point now) {
    if (!m_active) return std::nullopt;
    m_active = false;
    if (m_bytes <= m_offset) return std::nullopt;
    const double secs = std::max(0.001, seconds_between(m_start, now));
    const auto got = m_bytes - m_offset;
    char t[32];
    std::snprintf(t, sizeof t, "%.1f s", secs);
    return "downloaded " + human_bytes(got) + " in " + t + " (" + speed_text(static_cast<double>(got) / secs) + ")" +
           (m_mirror.empty() ? "" : " from " + m_mirror);
}

} // namespace goinstall::cli
