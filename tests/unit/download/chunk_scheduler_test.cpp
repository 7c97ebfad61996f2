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
    s.progress(0, 3, at(20));
    CHECK(s.contiguous() == 3); // a partly written first chunk counts
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
