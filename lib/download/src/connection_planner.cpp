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

std::vector<ConnectionPlanner::Change> ConnectionPlanner::sample(TimePoint now, const std::vector<std::uint64_t>& bytes,
                                                                 const std::vector<std::size_t>& connections,
                                                                 std::uint64_t remaining) {
    std::vector<Change> changes;
    if (now - m_window_start < window()) return changes;
    const double secs = std::chrono::duration<double>(now - m_window_start).count();
    double total_rate = 0;
    for (std::size_t m = 0; m < m_mirrors.size() && m < bytes.size(); ++m) {
        Mirror& mi = m_mirrors[m];
        mi.prev_rate = mi.rate;
        mi.rate = static_cast<double>(bytes[m] - mi.last_bytes) / secs;
        mi.last_bytes = bytes[m];
        mi.steady = mi.prev_rate > 0 && mi.rate <= mi.prev_rate * (1.0 + m_opt.min_gain);
        mi.unsettled = mi.steady ? 0 : mi.unsettled + 1;
        total_rate += mi.rate;
    }
    const TimePoint window_start = m_window_start;
    m_window_start = now;
    // A trial is judged on the first whole window after it was added: on a far link that window
    // also holds the new connections' handshakes and slow start, but those cost them a third of
    // their share at most, and a trial that pays doubles the rate or so.
    std::size_t live = std::accumulate(connections.begin(), connections.end(), std::size_t{0});
    for (std::size_t m = 0; m < m_mirrors.size(); ++m) {
        Mirror& mi = m_mirrors[m];
        if (!mi.trial || window_start < mi.trial->added) continue;
        Trial& t = *mi.trial;
        double after = mi.rate;
        if (++t.windows == 2) { // both windows together
            after = (t.first_after * t.first_seconds + mi.rate * secs) / (t.first_seconds + secs);
        }
        // A noisy link's trial is kept after two windows unless the total clearly fell: one
        // connection too many costs little, one too few halves a lossy link's rate.
        const double need = t.noisy && t.windows == 2 ? 1.0 - m_opt.min_gain : 1.0 + m_opt.min_gain;
        const bool paid = after >= t.before * need;
        if (!paid && t.noisy && t.windows == 1) { // one more window before judging
            t.first_after = mi.rate;
            t.first_seconds = secs;
            continue;
        }
        const Trial done = t;
        mi.trial.reset();
        mi.unsettled = 0;
        if (paid) {
            mi.step = 2 * done.count; // the mirror may take more, twice as many
            const bool grew = after >= done.before * (1.0 + m_opt.min_gain);
            changes.push_back(Change{m, Change::Action::keep, done.count, done.before, after,
                                     (grew ? "mirror total grew from " : "noisy link, mirror total did not fall: ") +
                                         rate_text(done.before) + (grew ? " to " : " then ") + rate_text(after)});
            continue;
        }
        mi.capped = ++mi.failed >= 2; // one more try later: a lossy link's windows are noisy
        mi.step = 1;
        mi.retry_at = now + 4 * window();
        live -= std::min(live, done.count);
        changes.push_back(Change{
            m, Change::Action::drop, done.count, done.before, after,
            std::string(done.count == 1 ? "another connection" : std::to_string(done.count) + " more connections") +
                " did not pay off: mirror total " + rate_text(done.before) + " then " + rate_text(after)});
    }
    // Worth a trial only when the download has `min_windows_left` windows to go at this rate: one
    // to judge it and the rest to gain from it. One that does not pay off still costs about a tenth
    // of a window (the new connection's slow start disturbs the stream it shares the link with, and
    // its bytes come from the end of the file, extracted after the last byte): on a short download
    // over a link one stream fills, that is what stands between it and one connection.
    if (total_rate <= 0 || static_cast<double>(remaining) < static_cast<double>(m_opt.min_windows_left) * total_rate *
                                                                std::chrono::duration<double>(window()).count()) {
        return changes;
    }
    // Each mirror on its own (a trial on one does not move another's rate), the fastest first.
    std::vector<std::size_t> order(m_mirrors.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](std::size_t a, std::size_t b) { return m_mirrors[a].rate > m_mirrors[b].rate; });
    for (std::size_t m : order) {
        Mirror& mi = m_mirrors[m];
        if (live >= m_opt.max_total) break;
        // Still climbing (its first windows hold the first request's round trip and slow start):
        // a trial now would be judged against a rate the mirror has already outgrown. A link too
        // noisy to settle is tried after three unsettled windows in a row all the same. Not in the
        // window a trial was judged: the next one's baseline is a whole window on the connections
        // kept (a new connection's slow start on a lossy link overshoots its share, and a trial
        // judged against that was dropped: profile A, 631 -> 679 KiB/s).
        const bool judged = std::any_of(changes.begin(), changes.end(), [&](const Change& c) { return c.mirror == m; });
        const bool ready = (mi.steady || mi.unsettled >= 3) && !judged;
        if (m >= connections.size() || connections[m] == 0 || mi.trial || mi.capped || now < mi.retry_at ||
            mi.rate <= 0 || !ready) {
            continue;
        }
        const std::size_t n = std::min(mi.step, m_opt.max_total - live);
        // Noisy: the rate never settled, or it fell by more than min_gain from one window to the
        // next (a rise within min_gain is a stream settling, and a good link's windows after slow
        // start differ by up to a tenth). Both windows had as many connections: the one before
        // held the last trial, which was kept.
        const bool noisy = !mi.steady || mi.rate < (1.0 - m_opt.min_gain) * mi.prev_rate;
        mi.trial = Trial{.before = mi.rate, .added = now, .count = n, .noisy = noisy};
        mi.unsettled = 0;
        live += n;
        const std::size_t have = connections[m];
        changes.push_back(Change{
            m, Change::Action::add, n, mi.rate, 0,
            "trying " +
                std::string(n == 1 ? "connection " + std::to_string(have + 1)
                                   : "connections " + std::to_string(have + 1) + "-" + std::to_string(have + n)) +
                ": mirror total " + rate_text(mi.rate) + " with " + std::to_string(have)});
    }
    return changes;
}

} // namespace goinstall
