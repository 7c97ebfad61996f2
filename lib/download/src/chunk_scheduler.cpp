#include "chunk_scheduler.hpp"

#include <algorithm>

namespace goinstall {

ChunkScheduler::ChunkScheduler(std::uint64_t total, std::uint64_t chunk_size, std::size_t workers,
                               std::vector<bool> done, Options options)
    : m_total(total), m_chunk(chunk_size == 0 ? 1 : chunk_size), m_opt(options), m_workers(workers) {
    if (m_opt.min_span == 0) m_opt.min_span = m_chunk;
    m_opt.max_span = std::max(m_opt.max_span, m_opt.min_span);
    // chunk_scheduler.hpp: why the floor is 1 s here, and the quantum at most one piece.
    m_silence = StallWatch::Options{
        .floor = std::min<std::chrono::milliseconds>(std::chrono::seconds(1), m_opt.stall_after),
        .ceiling = std::max(m_opt.stall_ceiling, m_opt.stall_after),
        .quantum = std::min<std::uint64_t>(StallWatch::Options{}.quantum, m_chunk),
        .first_byte = m_opt.stall_after,
    };
    const std::uint64_t n = (m_total + m_chunk - 1) / m_chunk;
    for (std::uint64_t i = 0; i < n; ++i) {
        const std::uint64_t b = i * m_chunk;
        m_chunks.push_back(Chunk{b, std::min(m_total, b + m_chunk), b, 0});
    }
    m_done.assign(m_chunks.size(), false);
    for (std::size_t i = 0; i < m_done.size() && i < done.size(); ++i) {
        if (done[i]) {
            m_done[i] = true;
            m_chunks[i].filled = m_chunks[i].end;
        }
    }
}

void ChunkScheduler::prefilled(std::uint64_t bytes) {
    for (std::size_t i = 0; i < m_chunks.size(); ++i) {
        Chunk& c = m_chunks[i];
        if (m_done[i] || c.holders > 0 || bytes <= c.begin) continue;
        if (bytes >= c.end) {
            m_done[i] = true;
            c.filled = c.end;
        } else {
            c.filled = std::max(c.filled, bytes);
        }
    }
}

double ChunkScheduler::rate(const Worker& w, std::chrono::nanoseconds min_busy) const {
    auto busy = w.busy;
    if (w.chunk) busy += w.last_progress - w.assigned_at;
    return busy > min_busy ? static_cast<double>(w.total_bytes) / std::chrono::duration<double>(busy).count() : 0.0;
}

bool ChunkScheduler::silent(const Worker& w, TimePoint now) const { return w.watch && w.watch->silent(now); }

std::uint64_t ChunkScheduler::span_bytes(std::size_t worker) const {
    const Worker& w = m_workers[worker];
    // Its goodput (round trips included): a link whose round trip dominates a request shows about
    // span / rtt, so the next span grows by up to bdp_factor at once; one whose rate dominates
    // shows its rate.
    const double r = rate(w, std::chrono::nanoseconds(0));
    if (r <= 0 || w.rtt.count() == 0) return m_opt.min_span;
    const double want = r * std::chrono::duration<double>(w.rtt).count() * m_opt.bdp_factor;
    if (want >= static_cast<double>(m_opt.max_span)) return m_opt.max_span;
    return std::max(m_opt.min_span, static_cast<std::uint64_t>(want));
}

std::size_t ChunkScheduler::span_pieces(std::size_t worker) const {
    const auto n = static_cast<std::size_t>(std::max<std::uint64_t>(1, span_bytes(worker) / m_chunk));
    std::size_t free = 0;
    for (std::size_t i = 0; i < m_chunks.size(); ++i) free += pending(i) ? 1 : 0;
    const auto live = static_cast<std::size_t>(std::max<std::ptrdiff_t>(
        1, std::count_if(m_workers.begin(), m_workers.end(), [](const Worker& w) { return !w.retired; })));
    return std::min(n, std::max<std::size_t>(1, (free + live - 1) / live)); // the end: everyone gets a share
}

bool ChunkScheduler::reserved(std::size_t chunk) const {
    return std::any_of(m_workers.begin(), m_workers.end(),
                       [&](const Worker& w) { return w.chunk && !w.retired && *w.chunk < chunk && chunk < w.reach; });
}

bool ChunkScheduler::pending(std::size_t chunk) const {
    return !m_done[chunk] && m_chunks[chunk].holders == 0 && !reserved(chunk);
}

bool ChunkScheduler::slow(const Worker& w) const {
    const double mine = rate(w);
    if (mine <= 0) return false;
    double best = 0;
    for (const auto& other : m_workers) best = std::max(best, rate(other));
    return mine * 4.0 < best;
}

ChunkScheduler::Assignment ChunkScheduler::assign(std::size_t worker, std::size_t chunk, std::size_t reach,
                                                  TimePoint now, bool fresh) {
    Chunk& c = m_chunks[chunk];
    Worker& w = m_workers[worker];
    w.chunk = chunk;
    w.reach = std::clamp(reach, chunk + 1, m_chunks.size());
    w.start = c.filled;
    w.written = 0;
    w.last_progress = now;
    w.assigned_at = now;
    w.answered = false;
    w.open = false;
    if (fresh) { // a new request: its round trip and its silence are measured from now
        w.awaiting_first = true;
        w.requested_at = now;
        w.request_bytes = 0;
        w.watch.emplace(m_silence, now);
    }
    ++c.holders;
    return Assignment{chunk, c.filled, m_chunks[w.reach - 1].end, c.holders > 1, c.end};
}

std::optional<ChunkScheduler::Assignment> ChunkScheduler::next(std::size_t worker, TimePoint now) {
    Worker& me = m_workers[worker];
    if (me.retired) {
        return std::nullopt;
    }
    if (me.chunk) {
        clear(worker, now);
    }
    // 1. A chunk whose holders all went silent: the lowest first (it holds back the prefix). The
    // rest of its span comes along. All, not only one: a mirror that never answers may have taken
    // over another dead mirror's piece (both then hold it, and the file waited for their connect
    // timeouts, 30 s in profile F of issue 15).
    for (std::size_t i = 0; i < m_chunks.size(); ++i) {
        if (m_done[i] || m_chunks[i].holders == 0) continue;
        std::size_t reach = i + 1;
        bool all_silent = true;
        for (const auto& other : m_workers) {
            if (other.chunk != i) continue;
            all_silent = all_silent && &other != &me && silent(other, now);
            reach = std::max(reach, other.reach);
        }
        if (!all_silent) continue;
        for (auto& other : m_workers) {
            if (other.chunk == i) other.stalled_once = true;
        }
        return assign(worker, i, reach, now);
    }
    // 1b. A chunk whose only holder is much slower than the best worker, for a worker that is not:
    // the rest of it goes to the faster one (the first to finish it wins; the other is cancelled).
    if (!slow(me) && rate(me) > 0) {
        for (std::size_t i = 0; i < m_chunks.size(); ++i) {
            if (m_done[i] || m_chunks[i].holders != 1) continue;
            for (auto& other : m_workers) {
                if (other.chunk == i && &other != &me && slow(other)) return assign(worker, i, other.reach, now);
            }
        }
    }
    // A worker that stalled before gets no new chunks while others can take them.
    const bool others_active = std::any_of(m_workers.begin(), m_workers.end(),
                                           [&](const Worker& w) { return &w != &me && !w.retired && !w.stalled_once; });
    if (me.stalled_once && others_active) {
        return std::nullopt;
    }
    // 2. The lowest pending chunk and the pending ones after it, up to this worker's span. While
    // another worker streams from below: the same, from k_join_lead seconds of the stream ahead of
    // it, so that the stream reaches what this worker fetched a moment later and the file's prefix
    // (which is hashed and extracted as it grows) passes it while the download still runs; the
    // stream stops there (one cut: the requests after it are bounded while this worker lives). A
    // trial connection (set_from_top), before the stream's rate is known, and when nothing that far
    // ahead is left: the highest pending chunk (and those below it), which the stream reaches last.
    // Only the first piece of a span may be partly written (a span is one contiguous request).
    const Worker* stream = nullptr;
    for (const auto& w : m_workers) {
        if (&w != &me && w.open && w.chunk && (stream == nullptr || *w.chunk < *stream->chunk)) stream = &w;
    }
    const std::size_t n = span_pieces(worker);
    auto upward = [&](std::size_t i) {
        std::size_t reach = i + 1;
        while (reach < m_chunks.size() && reach - i < n && pending(reach) && untouched_piece(reach)) ++reach;
        return assign(worker, i, reach, now);
    };
    if (stream == nullptr) {
        for (std::size_t i = 0; i < m_chunks.size(); ++i) {
            if (pending(i)) return upward(i);
        }
    } else {
        const double stream_rate = rate(*stream);
        if (stream_rate > 0 && !me.from_top) {
            // Far enough that the stream gets there after this worker's first byte, not before (it
            // would take the piece over, and this worker would start again further on): two of
            // its round trips, or the first-byte allowance while it has none.
            const auto lead_time = std::max<std::chrono::nanoseconds>(
                {k_join_lead, 2 * me.rtt, me.rtt.count() > 0 ? std::chrono::nanoseconds(0) : m_opt.stall_after});
            const auto lead =
                static_cast<std::uint64_t>(stream_rate * std::chrono::duration<double>(lead_time).count());
            const std::size_t s = *stream->chunk;
            for (std::size_t i = s + 1; i < m_chunks.size(); ++i) {
                if (m_chunks[i].begin >= m_chunks[s].filled + lead && pending(i)) return upward(i);
            }
        }
        for (std::size_t k = 0; k < m_chunks.size(); ++k) {
            const std::size_t i = m_chunks.size() - 1 - k;
            if (!pending(i)) continue;
            std::size_t first = i;
            while (first > 0 && i + 1 - first < n && untouched_piece(first) && pending(first - 1)) --first;
            return assign(worker, first, i + 1, now);
        }
    }
    // 2b. Nothing pending: the unstarted top of a busy worker's span.
    if (auto a = steal_tail(worker, now)) return a;
    // 3. Endgame: duplicate the chunk (and the rest of the span) whose holder would finish last, if
    // this worker would clearly finish it sooner.
    const double my_rate = rate(me);
    std::optional<std::size_t> best;
    std::size_t best_reach = 0;
    double best_eta = 0;
    for (std::size_t i = 0; i < m_chunks.size(); ++i) {
        if (m_done[i] || m_chunks[i].holders != 1) continue;
        for (const auto& other : m_workers) {
            if (other.chunk != i) continue;
            const auto left = static_cast<double>(left_in_span(other));
            const double their = rate(other);
            if (their <= 0) continue; // no bytes yet: only the stall rule above applies
            const double their_eta = left / their;
            const double my_eta = my_rate > 0 ? left / my_rate : 0.0;
            const bool worth = their_eta > 2.0 * my_eta + 0.5; // 0.5 s: not worth a new request below that
            if (worth && (!best || their_eta > best_eta)) {
                best = i;
                best_reach = other.reach;
                best_eta = their_eta;
            }
        }
    }
    if (best) {
        return assign(worker, *best, best_reach, now);
    }
    return std::nullopt;
}

std::uint64_t ChunkScheduler::left_in_span(const Worker& w) const {
    std::uint64_t left = 0;
    for (std::size_t i = *w.chunk; i < w.reach; ++i) {
        if (!m_done[i]) left += m_chunks[i].end - m_chunks[i].filled;
    }
    return left;
}

std::optional<ChunkScheduler::Assignment> ChunkScheduler::steal_tail(std::size_t worker, TimePoint now) {
    // The victim: the busy worker that would take longest to finish its span (at least 0.5 s, or a
    // new request is not worth it) with pieces it has not reached yet.
    std::optional<std::size_t> victim;
    double victim_eta = 0.5;
    for (std::size_t k = 0; k < m_workers.size(); ++k) {
        const Worker& w = m_workers[k];
        if (k == worker || !w.chunk || w.retired || w.reach <= *w.chunk + 1 || rate(w) <= 0) continue;
        const double eta = static_cast<double>(left_in_span(w)) / rate(w);
        if (eta > victim_eta) {
            victim = k;
            victim_eta = eta;
        }
    }
    if (!victim) return std::nullopt;
    Worker& v = m_workers[*victim];
    std::size_t low = v.reach; // its unstarted top: [low, reach)
    while (low > *v.chunk + 1 && !m_done[low - 1] && m_chunks[low - 1].holders == 0 && untouched_piece(low - 1)) --low;
    // Split the span so that both finish about together, at their own rates.
    const double mine = rate(m_workers[worker]);
    const double share = mine > 0 ? mine / (mine + rate(v)) : 0.5;
    const auto take =
        std::min(v.reach - low, static_cast<std::size_t>(share * static_cast<double>(v.reach - *v.chunk)));
    if (take == 0) return std::nullopt;
    const std::size_t reach = v.reach;
    v.reach -= take;
    return assign(worker, reach - take, reach, now);
}

bool ChunkScheduler::answered_holder(std::size_t chunk) const {
    return std::any_of(m_workers.begin(), m_workers.end(),
                       [&](const Worker& w) { return w.chunk == chunk && w.answered; });
}

bool ChunkScheduler::any_answered() const {
    return std::any_of(m_workers.begin(), m_workers.end(), [](const Worker& w) { return w.ever_answered; });
}

bool ChunkScheduler::open_request(std::size_t worker) const {
    for (std::size_t k = 0; k < m_workers.size(); ++k) {
        if (k != worker && m_workers[k].ever_answered && !m_workers[k].retired) return false;
    }
    return true;
}

std::optional<ChunkScheduler::Assignment> ChunkScheduler::race(std::size_t worker, TimePoint now) {
    if (m_workers[worker].retired || any_answered()) return std::nullopt;
    if (m_workers[worker].chunk) clear(worker, now);
    for (std::size_t i = 0; i < m_chunks.size(); ++i) {
        if (!m_done[i] && m_chunks[i].holders > 0 && !answered_holder(i)) {
            std::size_t reach = i + 1;
            for (const auto& w : m_workers) {
                if (w.chunk == i) reach = std::max(reach, w.reach);
            }
            return assign(worker, i, reach, now); // the same request as the racer's
        }
    }
    return std::nullopt;
}

std::vector<std::size_t> ChunkScheduler::answered(std::size_t worker, bool open) {
    std::vector<std::size_t> lost;
    Worker& me = m_workers[worker];
    if (!me.chunk) return lost;
    me.answered = true;
    me.ever_answered = true;
    me.open = open;
    for (std::size_t k = 0; k < m_workers.size(); ++k) {
        Worker& w = m_workers[k];
        if (k != worker && w.chunk == me.chunk && !w.answered && !w.ever_answered) {
            clear(k, w.last_progress); // not retired: it joins with bounded ranges when it asks again
            lost.push_back(k);
        }
    }
    return lost;
}

std::optional<ChunkScheduler::Assignment> ChunkScheduler::extend(std::size_t worker, std::size_t chunk, TimePoint now) {
    Worker& w = m_workers[worker];
    const bool open = w.open;
    const std::size_t reach = w.reach;
    if (w.chunk) clear(worker, now);
    w.open = false;
    if (w.retired || chunk >= m_chunks.size() || m_done[chunk] || answered_holder(chunk)) return std::nullopt;
    if (chunk >= reach && (!open || reserved(chunk))) return std::nullopt; // past its span: free pieces only
    auto a = assign(worker, chunk, reach, now, /*fresh=*/false);
    w.start = m_chunks[chunk].begin; // the stream writes the chunk from its beginning
    w.answered = true;
    w.open = open;
    a.begin = m_chunks[chunk].begin;
    return a;
}

void ChunkScheduler::progress(std::size_t worker, std::uint64_t bytes, TimePoint now) {
    Worker& w = m_workers[worker];
    if (!w.chunk || bytes == 0) return;
    Chunk& c = m_chunks[*w.chunk];
    if (w.awaiting_first) { // this request's round trip
        const auto sample = now - w.requested_at;
        w.rtt = w.rtt.count() == 0 ? sample : (3 * w.rtt + sample) / 4;
        w.awaiting_first = false;
    }
    w.written += bytes;
    w.total_bytes += bytes;
    w.request_bytes += bytes;
    if (w.watch) w.watch->observe(now, w.request_bytes);
    w.last_progress = now;
    w.stalled_once = false;
    c.filled = std::max(c.filled, std::min(c.end, w.start + w.written));
}

void ChunkScheduler::clear(std::size_t worker, TimePoint now) {
    Worker& w = m_workers[worker];
    if (!w.chunk) return;
    w.busy += now - w.assigned_at;
    --m_chunks[*w.chunk].holders;
    w.chunk.reset();
    w.answered = false;
}

std::vector<std::size_t> ChunkScheduler::complete(std::size_t worker) {
    std::vector<std::size_t> others;
    Worker& w = m_workers[worker];
    if (!w.chunk) return others;
    const std::size_t i = *w.chunk;
    const TimePoint now = w.last_progress;
    m_done[i] = true;
    m_chunks[i].filled = m_chunks[i].end;
    clear(worker, now);
    for (std::size_t k = 0; k < m_workers.size(); ++k) {
        if (m_workers[k].chunk == i) {
            clear(k, m_workers[k].last_progress);
            others.push_back(k);
        }
    }
    return others;
}

void ChunkScheduler::release(std::size_t worker, bool retire) {
    Worker& w = m_workers[worker];
    clear(worker, w.last_progress);
    if (retire) w.retired = true;
}

std::uint64_t ChunkScheduler::contiguous() const {
    std::uint64_t n = 0;
    for (std::size_t i = 0; i < m_chunks.size(); ++i) {
        if (!m_done[i]) return std::max(n, m_chunks[i].filled);
        n = m_chunks[i].end;
    }
    return n;
}

std::uint64_t ChunkScheduler::written() const {
    std::uint64_t n = 0;
    for (const Chunk& c : m_chunks) n += c.filled - c.begin;
    return n;
}

bool ChunkScheduler::all_done() const {
    return std::all_of(m_done.begin(), m_done.end(), [](bool d) { return d; });
}

} // namespace goinstall
