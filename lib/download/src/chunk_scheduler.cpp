#include "chunk_scheduler.hpp"

#include <algorithm>

namespace goinstall {

ChunkScheduler::ChunkScheduler(std::uint64_t total, std::uint64_t chunk_size, std::size_t workers,
                               std::vector<bool> done, std::chrono::milliseconds stall_after)
    : m_total(total), m_chunk(chunk_size == 0 ? 1 : chunk_size), m_stall_after(stall_after), m_workers(workers) {
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

double ChunkScheduler::rate(const Worker& w) const {
    auto busy = w.busy;
    if (w.chunk) busy += w.last_progress - w.assigned_at;
    const double secs = std::chrono::duration<double>(busy).count();
    return secs > 0.05 ? static_cast<double>(w.total_bytes) / secs : 0.0;
}

std::chrono::nanoseconds ChunkScheduler::silence_allowed(const Worker& w) const {
    if (w.gap.count() == 0) return m_stall_after;
    const std::chrono::nanoseconds floor = std::min<std::chrono::nanoseconds>(std::chrono::seconds(1), m_stall_after);
    return std::max(floor, 8 * w.gap);
}

bool ChunkScheduler::slow(const Worker& w) const {
    const double mine = rate(w);
    if (mine <= 0) return false;
    double best = 0;
    for (const auto& other : m_workers) best = std::max(best, rate(other));
    return mine * 4.0 < best;
}

ChunkScheduler::Assignment ChunkScheduler::assign(std::size_t worker, std::size_t chunk, TimePoint now) {
    Chunk& c = m_chunks[chunk];
    Worker& w = m_workers[worker];
    w.chunk = chunk;
    w.start = c.filled;
    w.written = 0;
    w.last_progress = now;
    w.assigned_at = now;
    w.answered = false;
    w.open = false;
    ++c.holders;
    return Assignment{chunk, c.filled, c.end, c.holders > 1};
}

std::optional<ChunkScheduler::Assignment> ChunkScheduler::next(std::size_t worker, TimePoint now) {
    Worker& me = m_workers[worker];
    if (me.retired) {
        return std::nullopt;
    }
    if (me.chunk) {
        clear(worker, now);
    }
    // 1. A chunk whose only holder has stalled: the lowest first (it holds back the prefix).
    for (std::size_t i = 0; i < m_chunks.size(); ++i) {
        if (m_done[i] || m_chunks[i].holders != 1) continue;
        for (auto& other : m_workers) {
            if (other.chunk == i && now - other.last_progress >= silence_allowed(other)) {
                other.stalled_once = true;
                return assign(worker, i, now);
            }
        }
    }
    // 1b. A chunk whose only holder is much slower than the best worker, for a worker that is not:
    // the rest of it goes to the faster one (the first to finish it wins; the other is cancelled).
    if (!slow(me) && rate(me) > 0) {
        for (std::size_t i = 0; i < m_chunks.size(); ++i) {
            if (m_done[i] || m_chunks[i].holders != 1) continue;
            for (auto& other : m_workers) {
                if (other.chunk == i && &other != &me && slow(other)) return assign(worker, i, now);
            }
        }
    }
    // A worker that stalled before gets no new chunks while others can take them.
    const bool others_active = std::any_of(m_workers.begin(), m_workers.end(),
                                           [&](const Worker& w) { return &w != &me && !w.retired && !w.stalled_once; });
    if (me.stalled_once && others_active) {
        return std::nullopt;
    }
    // 2. The lowest pending chunk; the highest while another worker streams from below.
    const bool streaming = std::any_of(m_workers.begin(), m_workers.end(),
                                       [&](const Worker& w) { return &w != &me && w.open && w.chunk; });
    for (std::size_t k = 0; k < m_chunks.size(); ++k) {
        const std::size_t i = streaming ? m_chunks.size() - 1 - k : k;
        if (!m_done[i] && m_chunks[i].holders == 0) {
            return assign(worker, i, now);
        }
    }
    // 3. Endgame: duplicate the chunk whose holder would finish last, if this worker would clearly
    // finish it sooner.
    const double my_rate = rate(me);
    std::optional<std::size_t> best;
    double best_eta = 0;
    for (std::size_t i = 0; i < m_chunks.size(); ++i) {
        if (m_done[i] || m_chunks[i].holders != 1) continue;
        for (const auto& other : m_workers) {
            if (other.chunk != i) continue;
            const auto left = static_cast<double>(m_chunks[i].end - m_chunks[i].filled);
            const double their = rate(other);
            if (their <= 0) continue; // no bytes yet: only the stall rule above applies
            const double their_eta = left / their;
            const double my_eta = my_rate > 0 ? left / my_rate : 0.0;
            const bool worth = their_eta > 2.0 * my_eta + 0.5; // 0.5 s: not worth a new request below that
            if (worth && (!best || their_eta > best_eta)) {
                best = i;
                best_eta = their_eta;
            }
        }
    }
    if (best) {
        return assign(worker, *best, now);
    }
    return std::nullopt;
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
            return assign(worker, i, now);
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
            clear(k, w.last_progress);
            w.retired = true;
            lost.push_back(k);
        }
    }
    return lost;
}

std::optional<ChunkScheduler::Assignment> ChunkScheduler::extend(std::size_t worker, std::size_t chunk, TimePoint now) {
    Worker& w = m_workers[worker];
    const bool open = w.open;
    if (w.chunk) clear(worker, now);
    w.open = false;
    if (!open || w.retired || chunk >= m_chunks.size() || m_done[chunk] || answered_holder(chunk)) {
        return std::nullopt;
    }
    auto a = assign(worker, chunk, now);
    w.start = m_chunks[chunk].begin; // the stream writes the chunk from its beginning
    w.answered = true;
    w.open = true;
    a.begin = m_chunks[chunk].begin;
    return a;
}

void ChunkScheduler::progress(std::size_t worker, std::uint64_t bytes, TimePoint now) {
    Worker& w = m_workers[worker];
    if (!w.chunk || bytes == 0) return;
    Chunk& c = m_chunks[*w.chunk];
    w.written += bytes;
    w.total_bytes += bytes;
    if (w.written > bytes) { // a gap between two arrivals of one assignment
        const auto g = now - w.last_progress;
        w.gap = w.gap.count() == 0 ? g : (7 * w.gap + g) / 8;
    }
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

bool ChunkScheduler::all_done() const {
    return std::all_of(m_done.begin(), m_done.end(), [](bool d) { return d; });
}

} // namespace goinstall
