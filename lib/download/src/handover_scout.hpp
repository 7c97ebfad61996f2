#pragma once
// Single-stream mode leaves a mirror that is clearly slower than another one has shown (issue #15).
// What the other has shown: its probe rate (--mirror auto), else a scout, a short range from the end
// of the file fetched on a thread of its own while the current transfer keeps streaming (so
// --connections 1 is one transfer plus at most a brief scout). Bounded: once the transfer has run
// 1 s and still needs more than 8 s, one check per mirror, 10 s apart; a scout is cancelled after
// 5 s on the clock, when the download is cancelled, and when the transfer ends.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/clock.hpp"
#include "goinstall/base/events.hpp"
#include "goinstall/download/downloader.hpp"
#include "goinstall/net/transport.hpp"
#include "failover.hpp"

namespace goinstall {

// A mirror shown to be at least twice as fast as the one in use: it takes the rest over.
struct Handover {
    std::size_t to = 0;
    std::string reason; // "is slow (100.0 kB/s); b showed 9.8 MB/s (a 1.0 MiB scout): handing the rest over"
    double from_rate = 0, to_rate = 0;
};

class HandoverScout {
public:
    struct Setup {
        Transport& transport;
        Clock& clock;
        EventSink& events;
        const DownloadTarget& target;
        const DownloadOptions& options;
        const CancelToken* cancel; // the download's
    };
    // k_after: 1 s; a lossy far mirror first in the list otherwise holds a good one off for 3 s
    // (issue 15, profile C with --connections 1: the hand-over came 3.5 s in).
    static constexpr std::chrono::seconds k_after{1}, k_spacing{10}, k_if_left{8}, k_deadline{5};
    static constexpr std::uint64_t k_bytes = 1ULL << 20;
    static constexpr double k_factor = 2.0;

    explicit HandoverScout(Setup setup);
    ~HandoverScout();
    HandoverScout(const HandoverScout&) = delete;
    HandoverScout& operator=(const HandoverScout&) = delete;

    // Called from the current transfer's progress callback (one caller at a time). `from`: the
    // mirror in use; `at`: the file offset it reached; `rate`: its recent rate; `running`: how long
    // it has run; `order`/`board`: the mirrors that may take over, in order of preference. Sends a
    // scout out when one is due and returns at once; returns a hand-over once a mirror has shown
    // at least k_factor x the rate the transfer had when the scout set out.
    std::optional<Handover> check(std::size_t from, std::uint64_t at, double rate, std::chrono::nanoseconds running,
                                  const std::vector<std::size_t>& order, const MirrorBoard& board);
    // Cancels the scout in flight, if any, and joins its thread: call when the transfer ends.
    void stop();

private:
    struct Flight;
    std::optional<std::size_t> pick(std::size_t from, const std::vector<std::size_t>& order,
                                    const MirrorBoard& board) const;
    std::optional<Handover> land(std::size_t from);
    std::optional<Handover> judge(double rate, std::size_t to, double seen, const std::string& how) const;
    std::string name(std::size_t i) const { return m.options.mirrors[i].name; }

    Setup m;
    std::vector<int> m_scouts; // scouts (or probe-rate checks) spent on each mirror
    std::optional<Clock::TimePoint> m_last;
    std::unique_ptr<Flight> m_flight;
};

} // namespace goinstall
