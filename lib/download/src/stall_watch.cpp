#include "stall_watch.hpp"

#include "goinstall/base/strings.hpp"

#include <algorithm>
#include <cstdio>

namespace goinstall {

namespace {

std::string one_decimal(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

} // namespace

std::string human_rate(double r) {
    if (r >= 1e6) return one_decimal(r / 1e6) + " MB/s";
    if (r >= 1e3) return one_decimal(r / 1e3) + " kB/s";
    return one_decimal(r) + " B/s";
}

StallWatch::StallWatch(Options options, Clock::TimePoint start) : m_opt(options), m_last_arrival(start) {
    m_opt.floor = std::min(m_opt.floor, m_opt.ceiling);
}

void StallWatch::observe(Clock::TimePoint now, std::uint64_t bytes) {
    if (bytes <= m_bytes && m_any) return; // no news: silence is measured from the last arrival
    if (bytes == 0) return;
    if (m_any) {
        const double gap = std::chrono::duration<double, std::milli>(now - m_last_arrival).count();
        m_gap_ms = m_gap_ms == 0 ? gap : 0.75 * m_gap_ms + 0.25 * gap;
    }
    m_any = true;
    m_bytes = bytes;
    m_last_arrival = now;
    m_samples.push_back({now, bytes});
    while (m_samples.size() > 2 && now - m_samples[1].at >= m_opt.rate_span) m_samples.pop_front();
}

double StallWatch::recent_rate() const {
    if (m_samples.size() < 2) return 0;
    const auto& a = m_samples.front();
    const auto& b = m_samples.back();
    const double secs = std::chrono::duration<double>(b.at - a.at).count();
    return secs > 0 ? static_cast<double>(b.bytes - a.bytes) / secs : 0;
}

std::chrono::milliseconds StallWatch::window() const {
    if (!m_any) return m_opt.first_byte.count() > 0 ? m_opt.first_byte : m_opt.ceiling;
    auto ms = static_cast<double>(m_opt.floor.count());
    ms = std::max(ms, m_opt.gap_factor * m_gap_ms);
    if (const double rate = recent_rate(); rate > 0) {
        ms = std::max(ms, 1000.0 * static_cast<double>(m_opt.quantum) / rate);
    }
    ms = std::min(ms, static_cast<double>(m_opt.ceiling.count()));
    return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

std::chrono::milliseconds StallWatch::silent_for(Clock::TimePoint now) const {
    if (now <= m_last_arrival) return std::chrono::milliseconds(0);
    return std::chrono::duration_cast<std::chrono::milliseconds>(now - m_last_arrival);
}

std::string StallWatch::describe_silence(Clock::TimePoint now) const {
    const double secs = std::chrono::duration<double>(silent_for(now)).count();
    auto text = "silent for " + one_decimal(secs) + " s after " + human_bytes(m_bytes);
    // A rate needs two arrivals; a body that came in one burst has none to show.
    if (const double rate = recent_rate(); rate > 0) text += " (its recent rate " + human_rate(rate) + ")";
    return text;
}

} // namespace goinstall
