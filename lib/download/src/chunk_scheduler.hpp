#pragma once
// Which byte range each connection of a segmented download fetches next (pure logic, no I/O, no
// clock of its own). The file is cut into fixed-size pieces (the bookkeeping unit: the resume map
// records finished pieces); an idle connection takes the lowest pending piece and, as one request,
// the pending pieces after it up to a span that grows with its own bandwidth-delay product (below),
// so faster mirrors simply take more (work stealing, as aria2 does). A connection writes its span
// piece by piece (`complete` then `extend`). A piece whose connection has gone silent is handed to an
// idle connection as well, and at the end (nothing pending) an idle connection takes the unstarted
// top of a busy connection's span, or duplicates the in-flight piece that its owner would finish
// much later than it could; the first to finish wins and the other is cancelled. A holder
// delivering under a quarter of the best worker's rate has its piece duplicated by a faster idle
// worker at any time.
//
// Span: each request costs its connection one round trip (request -> first byte) carrying nothing,
// so a span should last many round trips at the connection's measured rate:
//     span = clamp(rate x rtt x bdp_factor, min_span, max_span), in whole pieces,
// with rtt the connection's own request -> first-byte time (smoothed) and rate its bytes per busy
// second (round trips included). bdp_factor 32 keeps the idle share of a connection at 1/(1 + 32) ~ 3 % (16 would cost
// ~6 %); a larger factor gains little more and coarsens the end, where spans are cut anyway: no span
// exceeds its share, ceil(free pieces / live workers), so the tail is shared. Until a connection has
// been measured its span is min_span.
//
// Silence: each holder's transfer is judged by a StallWatch (stall_watch.hpp, the rule single-stream
// mode uses) with a 1 s floor instead of 2 s (a false alarm here only starts a duplicate of the
// rest of a piece, and the holder keeps going; in single-stream mode it abandons the connection),
// a quantum of at most one piece (a burst cannot exceed what was asked), `stall_after` before a
// request's first byte, and the configured stall time as the ceiling.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "stall_watch.hpp"

namespace goinstall {

class ChunkScheduler {
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    struct Assignment {
        std::size_t chunk = 0;   // the first piece
        std::uint64_t begin = 0; // absolute offsets, end exclusive: the whole span (one request)
        std::uint64_t end = 0;
        bool duplicate = false;      // another worker also has this chunk
        std::uint64_t piece_end = 0; // end of the first piece (complete() there, then extend())
    };
    struct Options {
        std::uint64_t min_span = 0; // bytes; 0: one piece (every span is one piece)
        std::uint64_t max_span = 0;
        double bdp_factor = 32.0;
        std::chrono::milliseconds stall_after{1500};    // silence allowed before a request's first byte
        std::chrono::milliseconds stall_ceiling{30000}; // ... and at most, after it
    };

    // Mirrors that have not answered yet (issue 14): the first request races for the lowest chunk
    // (open-ended: it may stream on); a worker started while nobody has answered joins that race
    // (`race`); the first to answer keeps the chunk and the others lose (`answered`). Once a mirror
    // has answered, other workers join with bounded ranges, k_join_lead of the stream ahead of it
    // (next(), rule 2); their chunks stay free to the stream until they answer.
    static constexpr std::chrono::milliseconds k_join_lead{1000};

    // `done[i]`: chunk i is already in the file (a resumed download). Workers are 0..workers-1.
    ChunkScheduler(std::uint64_t total, std::uint64_t chunk_size, std::size_t workers, std::vector<bool> done = {},
                   std::chrono::milliseconds stall_after = std::chrono::milliseconds(1500))
        : ChunkScheduler(total, chunk_size, workers, std::move(done), Options{.stall_after = stall_after}) {}
    ChunkScheduler(std::uint64_t total, std::uint64_t chunk_size, std::size_t workers, std::vector<bool> done,
                   Options options);

    // Next range for an idle `worker`, or nullopt when there is nothing useful for it to do.
    std::optional<Assignment> next(std::size_t worker, TimePoint now);
    // For a worker that has not answered yet while nobody has: the lowest chunk held only by
    // workers that have not answered either (a duplicate), or nullopt.
    std::optional<Assignment> race(std::size_t worker, TimePoint now);
    // The response head for `worker`'s request arrived and was accepted; `open`: it runs past the
    // assignment (may `extend`). Returns the workers that were racing for the same chunk and never
    // answered: they lost the race for it (assignments cleared); their transfers should be
    // cancelled. A loser is not out: its mirror may be only a little slower to answer than the
    // winner, so its next request joins like any other worker (a bounded range, rule 2 of next()).
    std::vector<std::size_t> answered(std::size_t worker, bool open);
    // After `complete`, a worker continues into `chunk` (the next one) when it is within its span, or
    // it streams past it, and the chunk is not done and no holder of it has answered. Its
    // assignment then starts at the chunk's beginning.
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
    // A connection on trial (connection_planner.hpp) joins a stream from the top, which the stream
    // reaches last: if the trial is dropped, what it fetched does not cut the stream mid-file.
    void set_from_top(std::size_t worker, bool on) { m_workers[worker].from_top = on; }
    // Bytes `worker` has written so far; whether any request of it was answered.
    std::uint64_t bytes(std::size_t worker) const { return m_workers[worker].total_bytes; }
    bool ever_answered(std::size_t worker) const { return m_workers[worker].ever_answered; }
    // The span a new request of `worker` would get, in bytes, before the end-game share cap; and
    // its measured request -> first-byte time (0 until measured).
    std::uint64_t span_bytes(std::size_t worker) const;
    std::chrono::nanoseconds rtt(std::size_t worker) const { return m_workers[worker].rtt; }

    std::uint64_t contiguous() const; // bytes from offset 0 in done chunks
    std::uint64_t written() const;    // bytes in the file, wherever they are (resumed ones included)
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
        std::size_t reach = 0;     // its span is pieces [chunk, reach): the later ones are reserved
        bool from_top = false;     // a trial connection: joins a stream from the top (set_from_top)
        std::uint64_t start = 0;   // where its transfer began
        std::uint64_t written = 0; // since start
        TimePoint last_progress{};
        TimePoint assigned_at{};
        std::uint64_t total_bytes = 0;
        std::chrono::nanoseconds busy{0};
        bool retired = false;
        bool stalled_once = false;
        bool answered = false;       // its current request's head arrived
        bool ever_answered = false;  // some request of it got an answer
        bool open = false;           // its current response runs past the assignment
        bool awaiting_first = false; // its request was sent, no byte yet
        TimePoint requested_at{};
        std::chrono::nanoseconds rtt{0}; // request -> first byte (moving average)
        std::uint64_t request_bytes = 0; // since its current request began
        std::optional<StallWatch> watch; // its current transfer's silence
    };
    // Bytes per busy second, 0 if unknown (busy for no more than `min_busy`: too short to judge).
    double rate(const Worker& w, std::chrono::nanoseconds min_busy = std::chrono::milliseconds(50)) const;
    bool silent(const Worker& w, TimePoint now) const;
    // `w` delivers at under a quarter of the best worker's rate: its chunk goes to a faster one.
    bool slow(const Worker& w) const;
    // Gives `worker` pieces [chunk, reach); `fresh`: as a new request (not a stream running on).
    Assignment assign(std::size_t worker, std::size_t chunk, std::size_t reach, TimePoint now, bool fresh = true);
    bool reserved(std::size_t chunk) const; // in a span, past the piece its worker is on
    bool pending(std::size_t chunk) const;  // not done, not held, not reserved
    std::size_t span_pieces(std::size_t worker) const;
    std::optional<Assignment> steal_tail(std::size_t worker, TimePoint now);
    std::uint64_t left_in_span(const Worker& w) const; // bytes `w` has yet to write of its span
    bool untouched_piece(std::size_t i) const { return m_chunks[i].filled == m_chunks[i].begin; }
    bool answered_holder(std::size_t chunk) const;
    void clear(std::size_t worker, TimePoint now);

    std::uint64_t m_total;
    std::uint64_t m_chunk;
    Options m_opt;
    StallWatch::Options m_silence;
    std::vector<Chunk> m_chunks;
    std::vector<bool> m_done;
    std::vector<Worker> m_workers;
};

} // namespace goinstall
