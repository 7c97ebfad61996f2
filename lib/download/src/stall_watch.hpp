#pragma once
// A transfer's own pace, for leaving it when it goes silent or proves slow (issue #15). Pure: fed
// (time, bytes so far) samples from the transfer's progress callback, on the injected Clock; it
// never reads a clock itself.
//
// Silence window: once bytes have arrived, a transfer that receives nothing for
//   clamp(max(floor, gap_factor x the typical gap between its arrivals, quantum / its recent rate),
//         floor, ceiling)
// is silent. The gap term follows how the bytes come (curl reports at most every 200 ms, and at
// least about once a second while nothing arrives), the quantum term keeps a steadily slow link
// (20 KiB/s needs 6.4 s for 128 KiB) from being judged by a fast link's standard, and the ceiling is
// the configured stall time (curl's low-speed limit stays the backstop). Before the first byte the
// window is `first_byte`, by default the ceiling: answering at all is the race's and the connect
// timeout's business. The segmented engine's ChunkScheduler watches each range with its own
// options (chunk_scheduler.hpp says why they differ).

#include <chrono>
#include <cstdint>
#include <deque>
#include <string>

#include "goinstall/base/clock.hpp"

namespace goinstall {

class StallWatch {
public:
    struct Options {
        std::chrono::milliseconds floor{2000};
        std::chrono::milliseconds ceiling{30000};
        double gap_factor = 8.0;
        std::uint64_t quantum = 128ULL << 10;
        std::chrono::milliseconds rate_span{4000}; // the "recent" in recent rate
        // The window before the first byte (0: the ceiling).
        std::chrono::milliseconds first_byte{0};
    };

    StallWatch(Options options, Clock::TimePoint start);

    // `bytes`: what the transfer has received so far (non-decreasing).
    void observe(Clock::TimePoint now, std::uint64_t bytes);

    std::chrono::milliseconds window() const;
    std::chrono::milliseconds silent_for(Clock::TimePoint now) const;
    bool silent(Clock::TimePoint now) const { return silent_for(now) > window(); }
    // Bytes per second over the last rate_span of arrivals (0 until two arrivals are known).
    double recent_rate() const;
    std::uint64_t bytes() const { return m_bytes; }
    // "silent for 2.1 s (its recent rate 9.8 MB/s)"
    std::string describe_silence(Clock::TimePoint now) const;

private:
    struct Sample {
        Clock::TimePoint at;
        std::uint64_t bytes;
    };
    Options m_opt;
    Clock::TimePoint m_last_arrival;
    std::uint64_t m_bytes = 0;
    bool m_any = false;
    double m_gap_ms = 0; // smoothed gap between arrivals
    std::deque<Sample> m_samples;
};

// "9.8 MB/s", "20.0 kB/s" (decimal units, as rates are usually quoted).
std::string human_rate(double bytes_per_second);

} // namespace goinstall
