// Segmented downloads race mirrors the way single-stream mode does (issue 14, items 10-12): the
// scheduler's decisions (race, lost racers, streaming on, joiners from the top) as pure logic, and
// the Downloader against a scripted transport on the fake clock. A "hanging" request stands for a
// blackholed mirror; FakeTransport answers a range with the rest of the file (more than asked),
// as a server that ignores the range end does.
#include <catch2/catch.hpp>

#include <condition_variable>
#include <fstream>
#include <mutex>
#include <set>

#include "../fakes/paced_transport.hpp"
#include "chunk_scheduler.hpp"
#include "download_rig.hpp"
#include "segmented.hpp"

using namespace goinstall;
using namespace goinstall::test;
using namespace std::chrono_literals;

namespace {
using TP = ChunkScheduler::TimePoint;
TP at(int ms) { return TP{} + std::chrono::milliseconds(ms); }

// A Rig whose file is big enough for three 4 MiB chunks, with segmentation on for it.
struct SegRig : Rig {
    static constexpr std::uint64_t k_big = (9ULL << 20) + 123;
    SegRig() {
        body = pseudo_random(k_big);
        target = DownloadTarget{"go1.21.3.linux-amd64.tar.gz", sha256_hex(body), k_big};
        options.segmented_min_size = 0;
        options.head_start = 400ms;
    }
    Result<DownloadResult> go() { return downloader.download(target, dir(), options, nullptr, &attempts); }
    void check_file(const Result<DownloadResult>& r) const {
        REQUIRE(r);
        CHECK(r->sha256 == target.expected_sha256);
        CHECK(read_text(final_path()) == body);
    }
    std::vector<const Attempt*> errors() const {
        std::vector<const Attempt*> out;
        for (const auto& a : attempts) {
            if (!a.error.empty()) out.push_back(&a);
        }
        return out;
    }
};

// PacedTransport links with a round trip: every request waits `rtt` on the fake clock before its
// answer. The `held` mirror's body is held back (a bounded real-time wait) until the `key` mirror
// has sent `open_after` requests, so that the key mirror's first spans are measured on the fake
// clock alone, whatever the threads do.
class GatedLinks final : public Transport {
public:
    GatedLinks(PacedTransport& inner, FakeClock& clock, std::chrono::milliseconds rtt)
        : m_inner(inner), m_clock(clock), m_rtt(rtt) {}
    void hold(std::string held, std::string key, std::size_t open_after) {
        m_held = std::move(held);
        m_key = std::move(key);
        m_open_after = open_after;
    }
    Result<Response> fetch(const Request& request, BodySink& sink, const CancelToken* cancel,
                           const ProgressFn& progress = {}) override {
        {
            std::lock_guard lock(m_mu);
            m_requests.push_back(request);
            if (request.url == m_key) ++m_key_requests;
        }
        m_cv.notify_all();
        m_clock.advance(m_rtt);
        if (request.url != m_held) return m_inner.fetch(request, sink, cancel, progress);
        Held held(sink, *this);
        return m_inner.fetch(request, held, cancel, progress);
    }
    // Bounded requests (range_end set) to `url`, as [begin, end) byte ranges, in order.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges_to(const std::string& url) const {
        std::lock_guard lock(m_mu);
        std::vector<std::pair<std::uint64_t, std::uint64_t>> out;
        for (const auto& r : m_requests) {
            if (r.url == url) out.emplace_back(r.range_start, r.range_end == 0 ? 0 : r.range_end + 1);
        }
        return out;
    }

private:
    struct Held final : BodySink {
        Held(BodySink& s, GatedLinks& g) : inner(s), gate(g) {}
        Status on_response(const Response& head) override { return inner.on_response(head); }
        Status on_data(std::span<const unsigned char> data) override {
            if (!waited) {
                std::unique_lock lock(gate.m_mu);
                gate.m_cv.wait_for(lock, 20s, [&] { return gate.m_key_requests >= gate.m_open_after; });
                waited = true;
            }
            return inner.on_data(data);
        }
        BodySink& inner;
        GatedLinks& gate;
        bool waited = false;
    };
    PacedTransport& m_inner;
    FakeClock& m_clock;
    std::chrono::milliseconds m_rtt;
    std::string m_held, m_key;
    std::size_t m_open_after = 0;
    mutable std::mutex m_mu;
    std::condition_variable m_cv;
    std::size_t m_key_requests = 0;
    std::vector<Request> m_requests;
};

// Two mirrors on equal links; the first streams (held until the second has sent two requests), the
// second joins from the top. Returns the second mirror's requests.
std::vector<std::pair<std::uint64_t, std::uint64_t>> two_links(std::uint64_t size, double rate, std::size_t chunk,
                                                               std::chrono::milliseconds rtt) {
    Rig rig; // head_start 0: the second mirror starts once the first has answered
    FakeClock& clock = rig.clock;
    PacedTransport paced(clock);
    GatedLinks links(paced, clock, rtt);
    const std::string body = pseudo_random(size);
    const DownloadTarget target{"go1.21.3.linux-amd64.tar.gz", sha256_hex(body), size};
    paced.serve(rig.url(0), Paced{.body = body, .bytes_per_second = rate, .chunk = chunk});
    paced.serve(rig.url(1), Paced{.body = body, .bytes_per_second = rate, .chunk = chunk});
    links.hold(rig.url(0), rig.url(1), 2);
    rig.options.segmented_min_size = 0;
    rig.options.connections = 2; // one per mirror: no trial connections
    Downloader downloader{links, clock, rig.events, [] { return 0.5; }};
    auto r = downloader.download(target, rig.dir(), rig.options, nullptr, &rig.attempts);
    REQUIRE(r);
    CHECK(r->sha256 == target.expected_sha256);
    CHECK(read_text(rig.final_path()) == body);
    return links.ranges_to(rig.url(1));
}
} // namespace

TEST_CASE("segmented: a fast link's ranges grow to its bandwidth-delay product", "[download][segmented]") {
    constexpr std::uint64_t mib = 1ULL << 20;
    // 100 MB/s, 20 ms round trip, 256 KiB every 2 ms: the second mirror's first range (unmeasured)
    // is one piece from the top; its second, measured at 1 MiB per 28 ms x 22 ms to the first
    // byte x 32 = 26 MB (over the 16 MiB maximum), is its share of what is free: 18 pieces / 2.
    auto fast = two_links(20 * mib, 100e6, 256 << 10, 20ms);
    REQUIRE(fast.size() >= 2);
    CHECK(fast[0] == std::pair{19 * mib, 20 * mib});
    CHECK(fast[1] == std::pair{10 * mib, 19 * mib});
}

TEST_CASE("segmented: a slow link's ranges stay 1 MiB", "[download][segmented]") {
    constexpr std::uint64_t mib = 1ULL << 20;
    // 2 MB/s, 1 ms round trip (5 ms to the first 8 KiB): 2 MB/s x 5 ms x 32 = 330 kB, so 1 MiB.
    auto slow = two_links(8 * mib, 2e6, 8 << 10, 1ms);
    REQUIRE(slow.size() >= 2);
    CHECK(slow[0] == std::pair{7 * mib, 8 * mib});
    CHECK(slow[1] == std::pair{6 * mib, 7 * mib});
}

TEST_CASE("segmented: a sidecar of an older build (4 MiB segments) resumes without refetching its segments",
          "[download][segmented]") {
    SegRig rig; // 9 MiB + 123 bytes: old segments [0, 4 MiB) [4, 8 MiB) [8 MiB, end)
    constexpr std::uint64_t seg = 4ULL << 20;
    std::string part(rig.body.size(), '\0'); // segments 0 and 2 were written, 1 was not
    part.replace(0, seg, rig.body, 0, seg);
    part.replace(2 * seg, std::string::npos, rig.body, 2 * seg);
    write_text(rig.part(), part);
    write_text(rig.meta(), "url=" + rig.url(0) + "\nexpected_size=" + std::to_string(SegRig::k_big) +
                               "\nsegment_size=" + std::to_string(seg) + "\nsegments=0,2\n");
    rig.net.script(rig.url(0), Scripted::ok(rig.body).ranged());

    auto r = rig.go();
    rig.check_file(r);
    CHECK(r->bytes_transferred == seg); // segment 1 only
    for (const auto& req : rig.net.requests_to(rig.url(0))) {
        CHECK(req.range_start >= seg);
        CHECK(req.range_start < 2 * seg);
    }
}

TEST_CASE("ChunkScheduler race: a second worker duplicates the unanswered chunk; the first answer wins",
          "[download][segmented]") {
    ChunkScheduler s(12, 4, 3);
    CHECK_FALSE(s.race(0, at(0))); // nothing held yet
    auto a = s.next(0, at(0));
    REQUIRE(a);
    CHECK(s.open_request(0)); // nobody has answered: ask for the rest of the file
    auto b = s.race(1, at(400));
    REQUIRE(b);
    CHECK(b->chunk == a->chunk);
    CHECK(b->duplicate);
    CHECK(s.answered(1, true) == std::vector<std::size_t>{0}); // worker 0 lost the race
    CHECK(s.idle(0));
    CHECK(s.any_answered());
    CHECK_FALSE(s.race(2, at(500))); // someone answered: no more racing
    // A joiner takes the top chunk while worker 1 streams from below, with a bounded range.
    auto c = s.next(2, at(500));
    REQUIRE(c);
    CHECK(c->chunk == 2);
    CHECK_FALSE(s.open_request(2));
    // The loser is not out (its mirror may answer a moment later than the winner's): it joins
    // below the other joiner, with a bounded range.
    CHECK_FALSE(s.retired(0));
    CHECK_FALSE(s.race(0, at(510)));
    auto d = s.next(0, at(510));
    REQUIRE(d);
    CHECK(d->chunk == 1);
    CHECK_FALSE(d->duplicate);
    CHECK_FALSE(s.open_request(0));
}

TEST_CASE("ChunkScheduler extend: a stream runs on through free and unanswered chunks, not answered ones",
          "[download][segmented]") {
    ChunkScheduler s(16, 4, 2);
    auto a = s.next(0, at(0));
    REQUIRE(a);
    CHECK(s.answered(0, true).empty());
    auto top = s.next(1, at(1)); // a joiner that has not answered yet
    REQUIRE(top);
    CHECK(top->chunk == 3);
    s.progress(0, 4, at(2));
    CHECK(s.complete(0).empty());
    auto e1 = s.extend(0, 1, at(2));
    REQUIRE(e1);
    CHECK(e1->begin == 4);
    s.progress(0, 4, at(3));
    s.complete(0);
    auto e2 = s.extend(0, 2, at(3));
    REQUIRE(e2);
    s.progress(0, 4, at(4));
    s.complete(0);
    auto e3 = s.extend(0, 3, at(4)); // held by the joiner, which never answered: the stream takes it
    REQUIRE(e3);
    CHECK(e3->duplicate);
    s.progress(0, 4, at(5));
    CHECK(s.complete(0) == std::vector<std::size_t>{1}); // the joiner's transfer is cancelled
    CHECK(s.all_done());

    ChunkScheduler t(16, 4, 2);
    REQUIRE(t.next(0, at(0)));
    t.answered(0, true);
    REQUIRE(t.next(1, at(1)));
    t.answered(1, false); // the joiner answered: its chunk is its own
    t.progress(0, 4, at(2));
    t.complete(0);
    REQUIRE(t.extend(0, 1, at(2)));
    t.progress(0, 4, at(3));
    t.complete(0);
    REQUIRE(t.extend(0, 2, at(3)));
    t.progress(0, 4, at(4));
    t.complete(0);
    CHECK_FALSE(t.extend(0, 3, at(4))); // stop: the rest is the joiner's
    CHECK(t.idle(0));
}

TEST_CASE("ChunkScheduler: a joiner works ahead of the stream, so the prefix passes it mid-download",
          "[download][segmented]") {
    // 64 pieces of 1 MB. Worker 0 streams from the start at 10 MB/s; 1 s in it has written 10 MB.
    const std::uint64_t mb = 1000000;
    ChunkScheduler s(64 * mb, mb, 2);
    REQUIRE(s.next(0, at(0)));
    s.answered(0, true);
    for (int k = 1; k <= 10; ++k) {
        s.progress(0, mb, at(100 * k));
        s.complete(0);
        REQUIRE(s.extend(0, static_cast<std::size_t>(k), at(100 * k)));
    }
    s.progress(0, mb / 2, at(1050)); // halfway through piece 10
    // The joiner has no round trip measured yet: it starts the first-byte allowance (1.5 s, 15 MB)
    // of the stream above the stream's 10.5 MB, not at the top.
    auto j = s.next(1, at(1050));
    REQUIRE(j);
    CHECK(j->chunk == 26);
    CHECK_FALSE(j->duplicate);
    s.answered(1, false);
    // The stream runs on to it and stops there (its one cut); what the joiner wrote is then part
    // of the prefix while the download goes on.
    s.progress(0, mb / 2, at(1100));
    s.complete(0);
    for (std::size_t k = 11; k < 26; ++k) {
        REQUIRE(s.extend(0, k, at(1100)));
        s.progress(0, mb, at(1100));
        s.complete(0);
    }
    s.progress(1, mb, at(1200));
    s.complete(1);
    CHECK_FALSE(s.extend(0, 26, at(1200)));
    CHECK(s.contiguous() == 27 * mb);
    // Both then take the lowest free pieces: bounded ranges near the prefix.
    auto a = s.next(0, at(1200));
    REQUIRE(a);
    CHECK(a->chunk == 27);
    CHECK_FALSE(s.open_request(0));
}

TEST_CASE("ChunkScheduler: a joiner slow to answer starts two of its round trips of the stream ahead",
          "[download][segmented]") {
    // Nearer, the stream would reach the joiner's piece before its first byte, take it over, and
    // the joiner would start again further on, again and again.
    const std::uint64_t mb = 1000000;
    ChunkScheduler s(64 * mb, mb, 2);
    REQUIRE(s.next(0, at(0)));
    s.answered(0, true);
    auto first = s.next(1, at(0)); // the stream is not measured yet: from the top
    REQUIRE(first);
    CHECK(first->chunk == 63);
    s.progress(0, mb / 2, at(500)); // the stream: 1 MB/s
    s.answered(1, false);
    s.progress(1, 1000, at(2000)); // the joiner's first byte, 2 s after its request
    s.progress(1, mb - 1000, at(2100));
    s.complete(1);
    s.progress(0, mb / 2, at(2100));
    s.complete(0);
    REQUIRE(s.extend(0, 1, at(2100)));
    auto j = s.next(1, at(2100));
    REQUIRE(j);
    // The stream: 1 MB in the 2.1 s since its request (0.476 MB/s). Two of the joiner's 2 s round
    // trips ahead: 1 MB + 1.9 MB = 2.9 MB, piece 3 (one second ahead would be piece 2).
    CHECK(j->chunk == 3);
}

TEST_CASE("ChunkScheduler: a connection on trial joins a measured stream from the top", "[download][segmented]") {
    // A trial that is dropped after a window (one stream already fills the link) must not leave
    // fetched pieces in the stream's way mid-file: each would cut it.
    const std::uint64_t mb = 1000000;
    ChunkScheduler s(64 * mb, mb, 1);
    REQUIRE(s.next(0, at(0)));
    s.answered(0, true);
    s.progress(0, mb / 2, at(100));
    const std::size_t trial = s.add_worker();
    s.set_from_top(trial, true);
    auto t = s.next(trial, at(100));
    REQUIRE(t);
    CHECK(t->chunk == 63);
    s.release(trial, false);
    s.set_from_top(trial, false); // kept: from now on it works ahead of the stream
    auto k = s.next(trial, at(100));
    REQUIRE(k);
    CHECK(k->chunk == 8); // 0.5 MB written + the first-byte allowance (1.5 s) at 5 MB/s
}

TEST_CASE("ChunkScheduler: before the stream's rate is known a joiner starts from the top", "[download][segmented]") {
    ChunkScheduler s(16, 4, 2);
    REQUIRE(s.next(0, at(0)));
    s.answered(0, true);
    auto j = s.next(1, at(1)); // the stream has not been measured (no bytes yet)
    REQUIRE(j);
    CHECK(j->chunk == 3);
}

TEST_CASE("segmented: a dead preferred mirror costs the head start and loses the race", "[download][segmented]") {
    SegRig rig;
    rig.net.script(rig.url(0), Scripted::hang_until_cancelled());
    rig.net.script(rig.url(1), Scripted::ok(rig.body).ranged());

    auto r = rig.go();
    rig.check_file(r);
    CHECK(r->mirror == "second");
    CHECK(rig.net.hangs_cancelled() == 1);
    // One request to the mirror that answered, for the whole file: no range asked and abandoned.
    auto reqs = rig.net.requests_to(rig.url(1));
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].range_start == 0);
    CHECK(reqs[0].range_end == 0);
    REQUIRE(rig.attempts.size() >= 1);
    CHECK(rig.attempts[0].mirror == "first");
    CHECK(rig.attempts[0].lost_race);
    CHECK(rig.attempts[0].error == "another mirror answered first");
    CHECK(rig.attempts[0].elapsed < 1000ms); // on the fake clock: the head start, not a timeout
}

TEST_CASE("segmented: mirrors that never answer take no part; the one that does serves one request",
          "[download][segmented]") {
    SegRig rig;
    rig.options.mirrors.push_back({"third", "https://three.example/"});
    rig.net.script(rig.url(0), Scripted::ok(rig.body).ranged());
    // second and third are unscripted: they fail like refused connections.

    auto r = rig.go();
    rig.check_file(r);
    CHECK(r->mirror == "first");
    auto reqs = rig.net.requests_to(rig.url(0));
    REQUIRE(reqs.size() == 1);
    CHECK(reqs[0].range_start == 0);
    CHECK(reqs[0].range_end == 0);
}

TEST_CASE("segmented: a range answered with more than asked is used, and the mirror stays", "[download][segmented]") {
    SegRig rig;
    rig.clock.set_mode(FakeClock::Mode::hold); // the first answers at once: the second joins
    // The first mirror streams; the second joins with a bounded range that it answers with the
    // rest of the file (FakeTransport ignores the range end).
    rig.net.script(rig.url(0), Scripted::ok(rig.body).ranged());
    for (int i = 0; i < 3; ++i) rig.net.script(rig.url(1), Scripted::ok(rig.body).ranged());
    rig.net.script(rig.url(0), Scripted::ok(rig.body).ranged());

    auto r = rig.go();
    rig.check_file(r);
    for (const auto* a : rig.errors()) {
        CHECK(a->error.find("answered a range request") == std::string::npos);
    }
}

TEST_CASE("segmented: one worker sends all its ranges through one session", "[download][segmented]") {
    SegRig rig;
    const auto reset = [&] { return net_error(NetPhase::body, 56, rig.url(0)); };
    rig.net.script(rig.url(0), Scripted::ok(rig.body).ranged().fail_after_bytes(1 << 20, reset()));
    rig.net.script(rig.url(0), Scripted::ok(rig.body).ranged().fail_after_bytes(1 << 20, reset()));
    rig.net.script(rig.url(0), Scripted::ok(rig.body).ranged());
    // second is unscripted: it fails like a refused connection and leaves the phase.

    auto r = rig.go();
    rig.check_file(r);
    std::set<int> sessions;
    std::size_t to_first = 0;
    for (std::size_t i = 0; i < rig.net.requests().size(); ++i) {
        if (rig.net.requests()[i].url != rig.url(0) || rig.net.request_sessions()[i] == 0) continue;
        ++to_first;
        sessions.insert(rig.net.request_sessions()[i]);
    }
    CHECK(to_first >= 3); // the open-ended request, two resumptions, each through the session
    CHECK(sessions.size() == 1);
}
