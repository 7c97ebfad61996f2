// ChunkScheduler (segmented downloads): lowest-first assignment, faster workers take more,
// stalled and slow chunks re-assigned, failures re-queued, resume from completed chunks; and the
// sidecar's segment list format.

#include <catch2/catch.hpp>

#include "chunk_scheduler.hpp"
#include "segmented.hpp"

using namespace goinstall;
using namespace std::chrono_literals;

namespace {
using TP = ChunkScheduler::TimePoint;
TP at(int ms) { return TP{} + std::chrono::milliseconds(ms); }
} // namespace

TEST_CASE("ChunkScheduler hands out the lowest pending chunk and tracks the contiguous prefix",
          "[download][segmented]") {
    ChunkScheduler s(10, 4, 2); // chunks [0,4) [4,8) [8,10)
    auto a = s.next(0, at(0));
    auto b = s.next(1, at(0));
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->begin == 0);
    CHECK(a->end == 4);
    CHECK(b->begin == 4);
    CHECK(b->end == 8);
    s.progress(1, 4, at(10));
    CHECK(s.complete(1).empty());
    CHECK(s.contiguous() == 0);
    CHECK(s.written() == 4); // wherever it is
    s.progress(0, 3, at(20));
    CHECK(s.contiguous() == 3); // a partly written first chunk counts
    CHECK(s.written() == 7);
    auto c = s.next(1, at(20));
    REQUIRE(c);
    CHECK(c->begin == 8);
    CHECK(c->end == 10);
    s.progress(0, 1, at(30));
    s.complete(0);
    CHECK(s.contiguous() == 8);
    s.progress(1, 2, at(40));
    s.complete(1);
    CHECK(s.all_done());
    CHECK(s.contiguous() == 10);
    CHECK_FALSE(s.next(0, at(50)));
}

TEST_CASE("ChunkScheduler: a resumed sequential .part is not fetched again, its partial chunk included",
          "[download][segmented]") {
    ChunkScheduler s(10, 4, 1); // chunks [0,4) [4,8) [8,10)
    s.prefilled(6);             // the .part holds [0, 6)
    CHECK(s.contiguous() == 6);
    CHECK(s.written() == 6);
    auto a = s.next(0, at(0));
    REQUIRE(a);
    CHECK(a->begin == 6); // not 4: bytes 4-5 are in the file
    CHECK(a->end == 8);
    s.progress(0, 2, at(10));
    s.complete(0);
    CHECK(s.contiguous() == 8);
}

TEST_CASE("ChunkScheduler: a released chunk resumes where its worker stopped", "[download][segmented]") {
    ChunkScheduler s(8, 8, 2);
    REQUIRE(s.next(0, at(0)));
    s.progress(0, 3, at(5));
    s.release(0, true); // mirror failed for good
    CHECK_FALSE(s.next(0, at(6)));
    auto b = s.next(1, at(6));
    REQUIRE(b);
    CHECK(b->begin == 3);
    CHECK(b->end == 8);
    CHECK_FALSE(b->duplicate);
}

TEST_CASE("ChunkScheduler re-assigns the chunk of a stalled worker and cancels the loser", "[download][segmented]") {
    ChunkScheduler s(12, 4, 2, {}, 1000ms);
    auto stalled = s.next(0, at(0));
    REQUIRE(stalled->begin == 0);
    auto other = s.next(1, at(0));
    s.progress(1, 4, at(100));
    s.complete(1);
    auto third = s.next(1, at(100));
    REQUIRE(third->begin == 8);
    s.progress(1, 4, at(200));
    s.complete(1);
    CHECK_FALSE(s.next(1, at(500)).has_value()); // worker 0 has no bytes yet but is not stalled yet
    auto steal = s.next(1, at(1200));
    REQUIRE(steal);
    CHECK(steal->begin == 0);
    CHECK(steal->duplicate);
    s.progress(1, 4, at(1300));
    CHECK(s.complete(1) == std::vector<std::size_t>{0});
    CHECK(s.idle(0));
    CHECK(s.all_done());
    (void)other;
}

TEST_CASE("ChunkScheduler: a piece two silent workers hold goes to a live one", "[download][segmented]") {
    // Profile F of issue 15: two fallback mirrors drop SYNs. The first takes the top piece and
    // never answers; the second, also dead, takes it over from the first; the live mirror must
    // still get it once both are silent, not wait for their connect timeouts.
    ChunkScheduler s(12, 4, 3, {}, 1000ms);
    auto live = s.next(0, at(0));
    REQUIRE(live->chunk == 0);
    CHECK(s.answered(0, true).empty()); // worker 0 streams from the start
    auto dead1 = s.next(1, at(10));
    REQUIRE(dead1->chunk == 2);       // a joiner takes the top
    s.progress(0, 1, at(1400));       // the stream is alive
    auto dead2 = s.next(2, at(1500)); // dead1 silent past its first-byte window: dead2 takes its piece
    REQUIRE(dead2);
    CHECK(dead2->chunk == 2);
    CHECK(dead2->duplicate);
    s.progress(0, 3, at(1600));
    s.complete(0);
    auto mid = s.next(0, at(1600)); // the pending middle
    REQUIRE(mid);
    CHECK(mid->chunk == 1);
    s.progress(0, 4, at(1700));
    s.complete(0);
    CHECK_FALSE(s.next(0, at(1800)).has_value()); // dead2 is not silent yet
    auto rescue = s.next(0, at(3000));            // both are now
    REQUIRE(rescue);
    CHECK(rescue->chunk == 2);
    s.progress(0, 4, at(3100));
    auto cancelled = s.complete(0);
    CHECK(cancelled.size() == 2); // both dead transfers are cancelled
    CHECK(s.all_done());
}

TEST_CASE("ChunkScheduler: faster workers take more chunks; a slow worker's chunk is duplicated",
          "[download][segmented]") {
    ChunkScheduler s(1000, 100, 2, {}, 60000ms);
    std::vector<int> taken(2, 0);
    int t = 0;
    auto slow = s.next(1, at(t)); // worker 1: 1 byte per 100 ms
    ++taken[1];
    while (auto a = s.next(0, at(t))) { // worker 0: a chunk per 10 ms
        t += 10;
        s.progress(0, a->end - a->begin, at(t));
        s.progress(1, 1, at(t));
        s.complete(0);
        ++taken[0];
    }
    CHECK(taken[0] == 10); // its nine and, once worker 1 proved under a quarter of its rate, worker 1's
    CHECK(slow->begin == 0);
    CHECK(s.all_done()); // worker 0 finished worker 1's chunk
    CHECK(s.idle(1));
}

TEST_CASE("ChunkScheduler resumes from completed chunks", "[download][segmented]") {
    ChunkScheduler s(12, 4, 1, {true, false, true});
    CHECK(s.contiguous() == 4);
    auto a = s.next(0, at(0));
    REQUIRE(a);
    CHECK(a->begin == 4);
    s.progress(0, 4, at(1));
    s.complete(0);
    CHECK(s.all_done());
}

TEST_CASE("Segment lists round-trip and give the trusted prefix", "[download][segmented]") {
    std::vector<bool> done = {true, true, false, true, false, true, true, true};
    CHECK(format_segments(done) == "0-1,3,5-7");
    CHECK(parse_segments("0-1,3,5-7", 8) == done);
    CHECK(parse_segments("junk,2-1,9", 4) == std::vector<bool>(4, false));
    PartMeta m;
    m.segment_size = 4;
    m.segments = "0-1,3";
    CHECK(segments_prefix(m, 14) == 8);
    m.segments = "0-3";
    CHECK(segments_prefix(m, 14) == 14);
}

TEST_CASE("ChunkScheduler: a silent holder is judged against its own gaps, not the fixed stall time",
          "[download][segmented]") {
    ChunkScheduler s(1100, 1100, 2, {}, std::chrono::milliseconds(10000)); // stall_after 10 s
    REQUIRE(s.next(0, at(0)));
    for (int t = 10; t <= 100; t += 10) s.progress(0, 100, at(t)); // 100 bytes every 10 ms
    CHECK_FALSE(s.next(1, at(500)));                               // silent 0.4 s: within 1 s
    auto a = s.next(1, at(1200));                                  // silent 1.1 s > max(1 s, 8 x 10 ms)
    REQUIRE(a);
    CHECK(a->chunk == 0);
    CHECK(a->duplicate);
    CHECK(a->begin == 1000); // the rest of it
}

TEST_CASE("ChunkScheduler: a holder under a quarter of the best rate hands its chunk to a faster worker",
          "[download][segmented]") {
    ChunkScheduler s(4000, 1000, 3);
    REQUIRE(s.next(0, at(0))->chunk == 0);
    REQUIRE(s.next(1, at(0))->chunk == 1);
    REQUIRE(s.next(2, at(0))->chunk == 2);
    s.progress(0, 1000, at(100)); // 10 kB/s
    s.complete(0);
    s.progress(1, 500, at(100)); // 5 kB/s
    s.progress(2, 10, at(100));  // 100 B/s
    s.progress(2, 10, at(200));
    auto a = s.next(0, at(200)); // chunk 3 is pending, but chunk 2's holder is slow
    REQUIRE(a);
    CHECK(a->chunk == 2);
    CHECK(a->begin == 2020);
}

namespace {
constexpr std::uint64_t k_mib = 1ULL << 20;
// Pieces of 1 MiB, spans of 1 to 16 MiB (as segmented_fetch uses them).
ChunkScheduler::Options spans() { return {.min_span = k_mib, .max_span = 16 * k_mib}; }
// Worker `w` fetches its assignment's first piece: the first byte `rtt_ms` after the request, the
// whole piece `ms` after it. Returns the time it ends.
int fetch_piece(ChunkScheduler& s, std::size_t w, int t0, int rtt_ms, int ms) {
    s.progress(w, 64 << 10, at(t0 + rtt_ms));
    s.progress(w, k_mib - (64 << 10), at(t0 + ms));
    return t0 + ms;
}
} // namespace

TEST_CASE("ChunkScheduler: a span grows with the connection's bandwidth-delay product", "[download][segmented]") {
    ChunkScheduler s(64 * k_mib, k_mib, 2, {}, spans());
    auto a = s.next(0, at(0));
    auto b = s.next(1, at(0));
    REQUIRE(a);
    REQUIRE(b);
    CHECK(a->end - a->begin == k_mib); // not measured yet: the smallest span
    CHECK(b->end - b->begin == k_mib);
    // Worker 0: first byte after 5 ms, the piece in 15 ms (~70 MB/s): 70 MB/s x 5 ms x 32 = 11.2 MB.
    int t = fetch_piece(s, 0, 0, 5, 15);
    s.complete(0);
    CHECK(s.rtt(0) == 5ms);
    auto fast = s.next(0, at(t));
    REQUIRE(fast);
    CHECK(fast->begin == 2 * k_mib);
    CHECK(fast->end - fast->begin == 10 * k_mib); // 11.2 MB in whole pieces
    CHECK(fast->piece_end == 3 * k_mib);
    // Worker 1: the same round trip at 1 MB/s: 1 MB/s x 5 ms x 32 = 160 kB, so one piece.
    t = fetch_piece(s, 1, 0, 5, 1000);
    s.complete(1);
    auto slow = s.next(1, at(t));
    REQUIRE(slow);
    CHECK(slow->begin == 12 * k_mib);
    CHECK(slow->end - slow->begin == k_mib);
    // A far link at the same 1 MB/s (first byte after 200 ms): 1 MB/s x 0.2 s x 32 = 6.4 MB.
    ChunkScheduler far(64 * k_mib, k_mib, 1, {}, spans());
    REQUIRE(far.next(0, at(0)));
    t = fetch_piece(far, 0, 0, 200, 1000);
    far.complete(0);
    auto f = far.next(0, at(t));
    REQUIRE(f);
    CHECK(f->end - f->begin == 6 * k_mib);
}

TEST_CASE("ChunkScheduler: a span is written piece by piece and spans are capped near the end",
          "[download][segmented]") {
    ChunkScheduler s(8 * k_mib, k_mib, 2, {}, spans());
    REQUIRE(s.next(0, at(0)));
    int t = fetch_piece(s, 0, 0, 100, 110); // 9.5 MB/s x 100 ms x 32: the 16 MiB maximum
    s.complete(0);
    CHECK(s.span_bytes(0) == 16 * k_mib);
    auto a = s.next(0, at(t)); // 7 pieces free, 2 workers: a share of 4
    REQUIRE(a);
    CHECK(a->begin == k_mib);
    CHECK(a->end == 5 * k_mib);
    auto b = s.next(1, at(t)); // the span's pieces are not handed out again
    REQUIRE(b);
    CHECK(b->begin == 5 * k_mib);
    CHECK(b->end == 6 * k_mib); // unmeasured: one piece
    s.progress(0, k_mib, at(t + 10));
    CHECK(s.complete(0).empty());
    CHECK(s.done()[1]); // each piece is recorded when written
    auto e = s.extend(0, 2, at(t + 10));
    REQUIRE(e);
    CHECK(e->begin == 2 * k_mib);
    CHECK(e->piece_end == 3 * k_mib);
    for (std::size_t piece = 3; piece < 5; ++piece) {
        s.progress(0, k_mib, at(t + 20));
        s.complete(0);
        REQUIRE(s.extend(0, piece, at(t + 20)));
    }
    s.progress(0, k_mib, at(t + 30));
    s.complete(0);
    CHECK_FALSE(s.extend(0, 5, at(t + 30))); // past its span (and held by worker 1)
    CHECK(s.contiguous() == 5 * k_mib);
}

TEST_CASE("ChunkScheduler end game: an idle worker takes the unstarted top of a busy span", "[download][segmented]") {
    ChunkScheduler s(6 * k_mib, k_mib, 2, {}, spans());
    REQUIRE(s.next(0, at(0)));
    REQUIRE(s.next(1, at(0)));
    fetch_piece(s, 0, 0, 100, 500); // ~2 MB/s each, 100 ms round trips: spans of 6 MiB
    s.complete(0);
    fetch_piece(s, 1, 0, 100, 500);
    s.complete(1);
    auto big = s.next(0, at(500)); // 4 pieces free, 2 workers: a share of 2
    REQUIRE(big);
    CHECK(big->begin == 2 * k_mib);
    CHECK(big->end == 4 * k_mib);
    auto p4 = s.next(1, at(500)); // 2 free: 1
    REQUIRE(p4);
    CHECK(p4->begin == 4 * k_mib);
    CHECK(p4->end == 5 * k_mib);
    s.progress(1, k_mib, at(1000));
    s.complete(1);
    REQUIRE(s.next(1, at(1000))->begin == 5 * k_mib);
    s.progress(0, 512 << 10, at(1200)); // worker 0 is half way through piece 2
    s.progress(1, k_mib, at(1500));
    s.complete(1);
    // Nothing pending: worker 1 takes piece 3, which worker 0 has not reached (1.5 MiB left at
    // 1.3 MB/s: 1.2 s; worker 1 is 1.6 x as fast, so it takes one of the two pieces).
    auto stolen = s.next(1, at(1500));
    REQUIRE(stolen);
    CHECK_FALSE(stolen->duplicate);
    CHECK(stolen->begin == 3 * k_mib);
    CHECK(stolen->end == 4 * k_mib);
    s.progress(0, 512 << 10, at(1700));
    CHECK(s.complete(0).empty());
    CHECK_FALSE(s.extend(0, 3, at(1700))); // worker 0 stops where the stolen part begins
    s.progress(1, k_mib, at(2000));
    s.complete(1);
    CHECK(s.all_done());
}

TEST_CASE("ChunkScheduler silence is StallWatch's: a steadily slow holder is judged by its rate, and capped",
          "[download][segmented]") {
    // 1 KiB every 50 ms (20 KiB/s): 128 KiB takes it 6.4 s. The old rule (8 x its 50 ms gap, at
    // least 1 s) called it stalled after 1 s of silence.
    ChunkScheduler s(4 * k_mib, k_mib, 2, {}, spans());
    REQUIRE(s.next(0, at(0)));
    int t = 0;
    for (int i = 0; i < 100; ++i) s.progress(0, 1024, at(t += 50));
    auto a = s.next(1, at(t + 3000)); // silent 3 s: within 6.4 s, so a pending piece, no duplicate
    REQUIRE(a);
    CHECK(a->chunk == 1);
    CHECK_FALSE(a->duplicate);
    s.release(1, false);
    auto b = s.next(1, at(t + 6600));
    REQUIRE(b);
    CHECK(b->chunk == 0);
    CHECK(b->duplicate);
    CHECK(b->begin == 100 * 1024);
    // The configured stall time caps the window: gaps of 3 s would allow 24 s, the ceiling is 10 s.
    ChunkScheduler c(3 * k_mib, k_mib, 2, {}, ChunkScheduler::Options{.stall_ceiling = 10s});
    REQUIRE(c.next(0, at(0)));
    for (int i = 1; i <= 5; ++i) c.progress(0, 100 << 10, at(i * 3000));
    auto p = c.next(1, at(15000 + 9000));
    REQUIRE(p);
    CHECK_FALSE(p->duplicate);
    c.release(1, false);
    auto q = c.next(1, at(15000 + 10500)); // the old rule: not before 24 s
    REQUIRE(q);
    CHECK(q->chunk == 0);
    CHECK(q->duplicate);
}

TEST_CASE("Old sidecars (4 MiB segments) map onto 1 MiB pieces", "[download][segmented]") {
    const std::uint64_t total = 9 * k_mib + 123;
    PartMeta m{.expected_size = total, .segment_size = 4 * k_mib, .segments = "0,2"};
    auto p = pieces_from_meta(m, total, k_mib);
    REQUIRE(p.size() == 10);
    CHECK(p == std::vector<bool>{true, true, true, true, false, false, false, false, true, true});
    m.segments = "1";
    p = pieces_from_meta(m, total, k_mib);
    CHECK(p == std::vector<bool>{false, false, false, false, true, true, true, true, false, false});
    // Segments not a multiple of the piece: only wholly covered pieces count.
    m = PartMeta{.expected_size = total, .segment_size = 1536 << 10, .segments = "0"}; // [0, 1.5 MiB)
    CHECK(pieces_from_meta(m, total, k_mib)[0]);
    CHECK_FALSE(pieces_from_meta(m, total, k_mib)[1]);
    m.expected_size = total + 1; // another file
    CHECK(pieces_from_meta(m, total, k_mib) == std::vector<bool>(10, false));
}

TEST_CASE("Sidecars of 1 MiB pieces (before issue 15's profile A) map onto today's pieces", "[download][segmented]") {
    const std::uint64_t total = 3 * k_mib + 5;
    PartMeta m{.expected_size = total, .segment_size = k_mib, .segments = "0,2"};
    const auto p = pieces_from_meta(m, total, k_piece_size);
    const std::uint64_t per = k_mib / k_piece_size;
    REQUIRE(p.size() == 3 * per + 1);
    for (std::size_t i = 0; i < p.size(); ++i) {
        CAPTURE(i);
        CHECK(p[i] == (i < per || (i >= 2 * per && i < 3 * per)));
    }
}
