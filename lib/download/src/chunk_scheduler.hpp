#pragma once
// Which byte range each connection of a segmented download fetches next (pure logic, no I/O, no
// clock of its own). The file is cut into fixed-size chunks; an idle connection takes the lowest
// pending chunk, so faster mirrors simply take more of them (work stealing, as aria2 does). A chunk
// whose connection has made no progress for `stall_after` is handed to an idle connection as well,
// and at the end (nothing pending) an idle connection duplicates the in-flight chunk that its owner
// would finish much later than it could; the first to finish wins and the other is cancelled.
// "Stalled" is relative to the holder's own pace (silent for 8 x its typical gap between data
// arrivals, at least 1 s; `stall_after` before its first bytes), and a holder delivering under a
// quarter of the best worker's rate has its chunk duplicated by a faster idle worker at any time.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace goinstall {

class ChunkScheduler {
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    struct Assignment {
        std::size_t chunk = 0;
        std::uint64_t begin = 0; // absolute offsets, end exclusive
        std::uint64_t end = 0;
        bool duplicate = false; // another worker also has this chunk
    };

    // Mirrors that have not answered yet (issue 14): the first request races for the lowest chunk
    // (open-ended: it may stream on); a worker started while nobody has answered joins that race
    // (`race`); the first to answer keeps the chunk and the others lose (`answered`). Once a mirror
    // has answered, other workers join with bounded ranges, from the top while a stream runs from
    // below, so the stream is not cut short; their chunks stay free to the stream until they answer.

    // `done[i]`: chunk i is already in the file (a resumed download). Workers are 0..workers-1.
    ChunkScheduler(std::uint64_t total, std::uint64_t chunk_size, std::size_t workers, std::vector<bool> done = {},
                   std::chrono::milliseconds stall_after = std::chrono::milliseconds(1500));

    // Next range for an idle `worker`, or nullopt when there is nothing useful for it to do.
    std::optional<Assignment> next(std::size_t worker, TimePoint now);
    // For a worker that has not answered yet while nobody has: the lowest chunk held only by
    // workers that have not answered either (a duplicate), or nullopt.
    std::optional<Assignment> race(std::size_t worker, TimePoint now);
    // The response head for `worker`'s request arrived and was accepted; `open`: it runs past the
    // assignment (may `extend`). Returns the workers that were racing for the same chunk and never
    // answered: they lost (assignments cleared, retired); their transfers should be cancelled.
    std::vector<std::size_t> answered(std::size_t worker, bool open);
    // After `complete`, a streaming worker continues into `chunk` (the next one) when it is not done
    // and no holder of it has answered. Its assignment then starts at the chunk's beginning.
    std::optional<Assignment> extend(std::size_t worker, std::size_t chunk, TimePoint now);
    // Whether a new request of `worker` should be open-ended: no other live worker has answered.
    bool open_request(std::size_t worker) const;
    bool any_answered() const;
    // `worker` wrote `bytes` more, contiguously from its assignment's begin.
    void progress(std::size_t worker, std::uint64_t bytes, TimePoint now);
    // `worker` wrote its whole range: the chunk is done. Returns the other workers that were on the
    // same chunk (their transfers should be cancelled; their assignments are already cleared).
    std::vector<std::size_t> complete(std::size_t worker);
    // `worker` gave up its range (error or cancellation); what it did not write becomes pending
    // again unless another worker still has the chunk. With `retire`, it gets no more work.
    void release(std::size_t worker, bool retire);
    // True when `worker` no longer holds an assignment (it was completed by another worker).
    bool idle(std::size_t worker) const { return !m_workers[worker].chunk; }
    bool retired(std::size_t worker) const { return m_workers[worker].retired; }
    // Adds a worker (a connection opened later); returns its index.
    std::size_t add_worker() {
        m_workers.emplace_back();
        return m_workers.size() - 1;
    }
    std::size_t workers() const { return m_workers.size(); }
    // Bytes `worker` has written so far; whether any request of it was answered.
    std::uint64_t bytes(std::size_t worker) const { return m_workers[worker].total_bytes; }
    bool ever_answered(std::size_t worker) const { return m_workers[worker].ever_answered; }

    std::uint64_t contiguous() const; // bytes from offset 0 in done chunks
    // Bytes [0, bytes) are already in the file (a sequential .part being resumed): the chunk they
    // end in is handed out from there, not from its start, so nothing written is fetched again.
    void prefilled(std::uint64_t bytes);
    bool all_done() const;
    const std::vector<bool>& done() const { return m_done; }
    std::uint64_t chunk_size() const { return m_chunk; }
    std::size_t chunks() const { return m_done.size(); }

private:
    struct Chunk {
        std::uint64_t begin = 0;
        std::uint64_t end = 0;
        std::uint64_t filled = 0; // [begin, filled) is written
        int holders = 0;
    };
    struct Worker {
        std::optional<std::size_t> chunk;
        std::uint64_t start = 0;   // where its transfer began
        std::uint64_t written = 0; // since start
        TimePoint last_progress{};
        TimePoint assigned_at{};
        std::uint64_t total_bytes = 0;
        std::chrono::nanoseconds busy{0};
        bool retired = false;
        bool stalled_once = false;
        bool answered = false;           // its current request's head arrived
        bool ever_answered = false;      // some request of it got an answer
        bool open = false;               // its current response runs past the assignment
        std::chrono::nanoseconds gap{0}; // typical time between its data arrivals (moving average)
    };
    double rate(const Worker& w) const; // bytes per second, 0 if unknown
    // How long `w` may stay silent before its chunk is handed on: relative to its own gaps between
    // data arrivals (8 x, at least 1 s), `stall_after` before it has delivered any.
    std::chrono::nanoseconds silence_allowed(const Worker& w) const;
    // `w` delivers at under a quarter of the best worker's rate: its chunk goes to a faster one.
    bool slow(const Worker& w) const;
    Assignment assign(std::size_t worker, std::size_t chunk, TimePoint now);
    bool answered_holder(std::size_t chunk) const;
    void clear(std::size_t worker, TimePoint now);

    std::uint64_t m_total;
    std::uint64_t m_chunk;
    std::chrono::milliseconds m_stall_after;
    std::vector<Chunk> m_chunks;
    std::vector<bool> m_done;
    std::vector<Worker> m_workers;
};

} // namespace goinstall
