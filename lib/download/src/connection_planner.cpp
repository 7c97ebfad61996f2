#include "connection_planner.hpp"

#include <algorithm>
#include <numeric>

#include "goinstall/base/strings.hpp"

namespace goinstall {

namespace {
std::string rate_text(double bytes_per_second) {
    return human_bytes(static_cast<std::uint64_t>(bytes_per_second)) + "/s";
}
} // namespace

ConnectionPlanner::ConnectionPlanner(Options options, std::size_t mirrors, TimePoint start)
    : m_opt(options), m_mirrors(mirrors), m_window_start(start) {}

std::chrono::nanoseconds ConnectionPlanner::window() const {
    const std::chrono::nanoseconds base = m_opt.window;
    return std::clamp<std::chrono::nanoseconds>(8 * m_rtt, base,
                                                std::max<std::chrono::nanoseconds>(base, m_opt.max_window));
}

std::optional<ConnectionPlanner::Change> ConnectionPlanner::sample(TimePoint now,
                                                                   const std::vector<std::uint64_t>& bytes,
                                                                   const std::vector<std::size_t>& connections,
                                                                   std::uint64_t remaining) {
    if (now - m_window_start < window()) return std::nullopt;
    const double secs = std::chrono::duration<double>(now - m_window_start).count();
    double total_rate = 0;
    for (std::size_t m = 0; m < m_mirrors.size() && m < bytes.size(); ++m) {
        Mirror& mi = m_mirrors[m];
        mi.prev_rate = mi.rate;
        mi.rate = static_cast<double>(bytes[m] - mi.last_bytes) / secs;
        mi.last_bytes = bytes[m];
        total_rate += mi.rate;
    }
    const TimePoint window_start = m_window_start;
    m_window_start = now;
    // A trial is judged on the second window after it was added (the first also holds its first
    // request's round trip and slow start).
    if (m_trial) {
        if (window_start <= m_trial->added) return std::nullopt;
        const Trial t = *m_trial;
        m_trial.reset();
        const double after = m_mirrors[t.mirror].rate;
        if (after >= t.before * (1.0 + m_opt.min_gain)) {
            m_mirrors[t.mirror].step = 2 * t.count; // the mirror may take more, twice as many
            return Change{t.mirror, Change::Action::keep,
                          t.count,  t.before,
                          after,    "mirror total grew from " + rate_text(t.before) + " to " + rate_text(after)};
        }
        Mirror& mi = m_mirrors[t.mirror]; // one more try later: a lossy link's windows are noisy
        mi.capped = ++mi.failed >= 2;
        mi.step = 1;
        mi.retry_at = now + 4 * window();
        return Change{t.mirror,
                      Change::Action::drop,
                      t.count,
                      t.before,
                      after,
                      std::string(t.count == 1 ? "another connection" : std::to_string(t.count) + " more connections") +
                          " did not pay off: mirror total " + rate_text(t.before) + " then " + rate_text(after)};
    }
    const std::size_t live = std::accumulate(connections.begin(), connections.end(), std::size_t{0});
    if (live >= m_opt.max_total || total_rate <= 0) return std::nullopt;
    // Worth a trial only when the download has at least three more windows to go at this rate.
    if (static_cast<double>(remaining) < 3.0 * total_rate * std::chrono::duration<double>(window()).count()) {
        return std::nullopt;
    }
    std::optional<std::size_t> best;
    for (std::size_t m = 0; m < m_mirrors.size() && m < connections.size(); ++m) {
        const Mirror& mi = m_mirrors[m];
        // Still climbing (its first windows hold the first request's round trip and slow start):
        // a trial now would be judged against a rate the mirror has already outgrown.
        const bool steady = mi.prev_rate > 0 && mi.rate <= mi.prev_rate * (1.0 + m_opt.min_gain);
        if (connections[m] == 0 || mi.capped || now < mi.retry_at || mi.rate <= 0 || !steady) continue;
        if (!best || m_mirrors[m].rate > m_mirrors[*best].rate) best = m;
    }
    if (!best) return std::nullopt;
    const std::size_t n = std::min(m_mirrors[*best].step, m_opt.max_total - live);
    m_trial = Trial{*best, m_mirrors[*best].rate, now, n};
    const std::size_t have = connections[*best];
    return Change{*best,
                  Change::Action::add,
                  n,
                  m_mirrors[*best].rate,
                  0,
                  "trying " +
                      std::string(n == 1 ? "connection " + std::to_string(have + 1)
                                         : "connections " + std::to_string(have + 1) + "-" + std::to_string(have + n)) +
                      ": mirror total " + rate_text(m_mirrors[*best].rate) + " with " + std::to_string(have)};
}

} // namespace goinstall
