// Single-stream mode on paced transfers (issue #15): a silent transfer is left after a window
// relative to its own recent rate and resumed elsewhere; a steadily slow one is kept; a clearly
// slower one hands its remainder to a mirror a scout showed to be faster. All on the fake clock.
// The scout runs on a thread of its own beside the transfer: ScoutGate below orders the two.

#include <catch2/catch.hpp>
#include <condition_variable>
#include <mutex>

#include "../fakes/fake_clock.hpp"
#include "../fakes/paced_transport.hpp"
#include "../fakes/recording_events.hpp"
#include "../fakes/temp_dir.hpp"
#include "download_rig.hpp"
#include "goinstall/download/downloader.hpp"
#include "handover_scout.hpp"
#include "stall_watch.hpp"

using namespace goinstall;
using namespace goinstall::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_a = "https://a.example/dl/go.tar.gz";
constexpr const char* k_b = "https://b.example/dl/go.tar.gz";

// Sits in front of PacedTransport and tells a scout (a request with a range end) from the transfer.
// PacedTransport advances one shared FakeClock per chunk, so two transfers at once add up their
// times, and a thread may start late: the gate orders them so each case has one outcome. Once a
// progress call of the transfer past the k_after (1 s) after which the downloader scouts has returned (the
// scout is then out), the transfer's chunks wait (per mode):
//   exclusive  until the scout is back: the scout is measured (nearly) alone, as if the link
//              carried one transfer at a time (one chunk may overlap its start);
//   overlap    until the scout has reached the gate; then the scout waits until the transfer has
//              streamed k_overlap more bytes (impossible while the scout holds the transfer up),
//              and the transfer waits until the scout is back;
//   hang       until the scout has reached the gate, which never answers it: the scout ends when
//              its request is cancelled (first cancelling `cancel_on_scout`, if set: a Ctrl-C
//              while the scout is out). Without `cancel_on_scout`, 5.5 s after the scout set out
//              the transfer waits until it is back (its 5 s deadline has passed by then).
// Every wait is bounded in real time (k_bound): a wrong order fails the case, it does not hang.
class ScoutGate final : public Transport {
public:
    enum class Mode { none, exclusive, overlap, hang };
    static constexpr std::uint64_t k_overlap = 48 << 10;
    static constexpr auto k_bound = 10s;

    ScoutGate(PacedTransport& inner, FakeClock& clock) : m_inner(inner), m_clock(clock) {}

    Result<Response> fetch(const Request& request, BodySink& sink, const CancelToken* cancel,
                           const ProgressFn& progress = {}) override {
        if (request.range_end == 0) {
            Counted counted(*this, sink);
            const auto start = m_clock.now();
            ProgressFn pf = [&](std::uint64_t got, std::uint64_t total) {
                if (progress) progress(got, total); // the call that sends the scout out, once due
                std::lock_guard lock(m_mu);
                if (m_clock.now() - start >= HandoverScout::k_after) m_due = true;
            };
            return m_inner.fetch(request, counted, cancel, pf);
        }
        return scout(request, sink, cancel);
    }

    Mode mode = Mode::none;
    CancelToken* cancel_on_scout = nullptr;
    // After the download:
    int scouts = 0;
    std::uint64_t streamed_during_scout = 0; // transfer bytes delivered while the scout was out
    bool scout_saw_cancel = false;

private:
    class Counted final : public BodySink {
    public:
        Counted(ScoutGate& gate, BodySink& target) : m_gate(gate), m_target(target) {}
        Status on_response(const Response& head) override { return m_target.on_response(head); }
        Status on_data(std::span<const unsigned char> data) override {
            std::unique_lock lock(m_gate.m_mu);
            if (m_gate.mode != Mode::none && m_gate.m_due) {
                m_gate.m_cv.wait_for(lock, k_bound, [&] { return m_gate.may_stream(); });
            }
            m_gate.m_streamed += data.size();
            m_gate.m_cv.notify_all();
            lock.unlock();
            return m_target.on_data(data);
        }

    private:
        ScoutGate& m_gate;
        BodySink& m_target;
    };

    // Under m_mu: may the transfer's next chunk go?
    bool may_stream() const {
        if (m_back) return true;
        if (!m_entered) return false;
        switch (mode) {
        case Mode::overlap: return m_streamed < m_entered_bytes + k_overlap;
        case Mode::hang: return cancel_on_scout != nullptr || m_clock.now() - m_entered_at < 5500ms;
        default: return false;
        }
    }

    Result<Response> scout(const Request& request, BodySink& sink, const CancelToken* cancel) {
        std::unique_lock lock(m_mu);
        ++scouts;
        m_entered = true;
        m_entered_at = m_clock.now();
        m_entered_bytes = m_streamed;
        m_cv.notify_all();
        Result<Response> r = std::unexpected(Error(ErrorCode::cancelled, "cancelled: " + request.url));
        if (mode == Mode::hang) {
            if (cancel_on_scout != nullptr) cancel_on_scout->cancel();
            const int sub = cancel->subscribe([this] {
                std::lock_guard guard(m_mu);
                m_cv.notify_all();
            });
            m_cv.wait_for(lock, k_bound, [&] { return cancel->cancelled(); });
            scout_saw_cancel = cancel->cancelled();
            lock.unlock();
            cancel->unsubscribe(sub);
            lock.lock();
        } else {
            if (mode == Mode::overlap) {
                m_cv.wait_for(lock, k_bound, [&] { return m_streamed >= m_entered_bytes + k_overlap; });
            }
            lock.unlock();
            r = m_inner.fetch(request, sink, cancel);
            lock.lock();
        }
        streamed_during_scout = m_streamed - m_entered_bytes;
        m_back = true;
        m_cv.notify_all();
        return r;
    }

    PacedTransport& m_inner;
    FakeClock& m_clock;
    std::mutex m_mu;
    std::condition_variable m_cv;
    bool m_due = false; // a progress call past k_after has returned: the scout is out
    bool m_entered = false, m_back = false;
    Clock::TimePoint m_entered_at;
    std::uint64_t m_entered_bytes = 0, m_streamed = 0;
};

struct PacedRig {
    TempDir tmp;
    FakeClock clock;
    PacedTransport net{clock};
    ScoutGate gate{net, clock};
    RecordingEvents events;
    Downloader downloader{gate, clock, events, [] { return 0.5; }};
    CancelToken cancel;
    // Given to the download only when a test cancels: while it is, the race polls it every 50 ms
    // of clock time, and with the auto-advancing FakeClock that wait moves the clock on its own.
    bool cancellable = false;
    std::string body;
    DownloadTarget target;
    DownloadOptions options;
    std::vector<Attempt> attempts;

    explicit PacedRig(std::size_t size) : body(pseudo_random(size)), target{"go.tar.gz", sha256_hex(body), size} {
        options.mirrors = {{"a", "https://a.example/dl/"}, {"b", "https://b.example/dl/"}};
        options.connections = 1;
        options.head_start = 0ms; // one transfer at a time
    }
    Result<DownloadResult> run() {
        return downloader.download(target, tmp.path(), options, cancellable ? &cancel : nullptr, &attempts);
    }
    const Event* handover() const {
        for (const auto& e : events.events()) {
            for (const auto& [k, v] : e.fields) {
                if (k == "handover" && std::get<bool>(v)) return &e;
            }
        }
        return nullptr;
    }
};

} // namespace

TEST_CASE("stall watch: the window follows the transfer's own pace", "[download][stall]") {
    const auto t0 = Clock::TimePoint(1000h);
    SECTION("a fast transfer that stops is silent after about 2 s") {
        StallWatch w({.ceiling = 30s}, t0);
        for (int k = 1; k <= 20; ++k) w.observe(t0 + k * 200ms, static_cast<std::uint64_t>(k) * 2'000'000);
        const auto last = t0 + 4000ms;
        CHECK(w.window() == 2000ms);
        CHECK_FALSE(w.silent(last + 1900ms));
        CHECK(w.silent(last + 2100ms));
        CHECK(w.describe_silence(last + 2100ms) == "silent for 2.1 s after 38.1 MiB (its recent rate 10.0 MB/s)");
    }
    SECTION("a body that came in one burst has no rate to show") {
        StallWatch w({.ceiling = 30s}, t0);
        w.observe(t0 + 100ms, 1'048'576);
        CHECK(w.describe_silence(t0 + 2200ms) == "silent for 2.1 s after 1.0 MiB");
    }
    SECTION("a steady 20 KiB/s link is given the time its pace needs, and never found silent") {
        StallWatch w({.ceiling = 30s}, t0);
        for (int k = 1; k <= 300; ++k) {
            const auto now = t0 + k * 200ms;
            CHECK_FALSE(w.silent(now));
            w.observe(now, static_cast<std::uint64_t>(k) * 4096);
        }
        CHECK(w.window() >= 6000ms); // 128 KiB at 20 KiB/s
        CHECK(w.window() <= 7000ms);
    }
    SECTION("never longer than the configured stall time; the whole stall time before any byte") {
        StallWatch w({.ceiling = 5s}, t0);
        CHECK(w.window() == 5000ms);
        w.observe(t0 + 1s, 100);
        w.observe(t0 + 11s, 200); // 10 B/s: 128 KiB would take hours
        CHECK(w.window() == 5000ms);
    }
}

TEST_CASE("single stream: a mirror that goes silent is left within seconds and resumed elsewhere",
          "[download][stall]") {
    PacedRig rig(8 << 20);
    rig.net.serve(k_a, Paced{.body = rig.body, .bytes_per_second = 10e6, .silent_at = 3 << 20});
    rig.net.serve(k_b, Paced{.body = rig.body, .bytes_per_second = 10e6});
    const auto start = rig.clock.now();
    auto r = rig.run();
    REQUIRE(r);
    CHECK(r->mirror == "b");
    auto to_b = rig.net.requests_to(k_b);
    REQUIRE(to_b.size() == 1);
    CHECK(to_b[0].range_start == (3U << 20)); // resumed at the offset A stopped at
    REQUIRE(rig.attempts.size() == 2);
    CHECK(rig.attempts[0].error.starts_with("silent for "));
    CHECK(rig.attempts[0].bytes == (3U << 20));
    // On the clock: A was left after its relative window, far from curl's 30 s stall timeout.
    CHECK(rig.attempts[0].elapsed < 8s);
    CHECK(rig.clock.now() - start < 10s);
    CHECK(rig.events.has(EventKind::failover, "silent for"));
}

TEST_CASE("single stream: a steadily slow transfer is kept, and a short one is not scouted", "[download][stall]") {
    PacedRig rig(100 << 10); // 5 s at 20 KiB/s
    rig.net.serve(k_a, Paced{.body = rig.body, .bytes_per_second = 20 * 1024, .chunk = 4096});
    rig.net.serve(k_b, Paced{.body = rig.body, .bytes_per_second = 10e6});
    auto r = rig.run();
    REQUIRE(r);
    CHECK(r->mirror == "a");
    CHECK(rig.net.requests_to(k_a).size() == 1);
    CHECK(rig.net.requests_to(k_b).empty());
    CHECK(rig.attempts.size() == 1);
}

TEST_CASE("single stream: a slow mirror hands the rest over to a mirror a scout showed faster", "[download][stall]") {
    PacedRig rig(8 << 20); // 80 s at 100 kB/s
    rig.gate.mode = ScoutGate::Mode::exclusive;
    rig.net.serve(k_a, Paced{.body = rig.body, .bytes_per_second = 100e3});
    rig.net.serve(k_b, Paced{.body = rig.body, .bytes_per_second = 10e6});
    auto r = rig.run();
    REQUIRE(r);
    CHECK(r->mirror == "b");
    auto to_b = rig.net.requests_to(k_b);
    REQUIRE(to_b.size() == 2);
    CHECK(to_b[0].range_end == (8U << 20) - 1); // the scout: the file's last MiB
    CHECK(to_b[0].range_start == (7U << 20));
    CHECK(to_b[1].range_end == 0); // the rest, from where A was left
    CHECK(to_b[1].range_start > 0);
    // How far A streams between the scout's return and the verdict depends on the threads.
    CHECK(to_b[1].range_start < rig.body.size());
    REQUIRE(rig.attempts.size() == 2);
    CHECK(rig.attempts[0].bytes == to_b[1].range_start);
    CHECK(rig.attempts[0].error.find("handing the rest over") != std::string::npos);
    const Event* h = rig.handover();
    REQUIRE(h != nullptr);
}

TEST_CASE("single stream: a probe rate hands over without a scout", "[download][stall]") {
    PacedRig rig(8 << 20);
    rig.options.expected_rates = {0, 10e6};
    rig.net.serve(k_a, Paced{.body = rig.body, .bytes_per_second = 100e3});
    rig.net.serve(k_b, Paced{.body = rig.body, .bytes_per_second = 10e6});
    auto r = rig.run();
    REQUIRE(r);
    CHECK(r->mirror == "b");
    auto to_b = rig.net.requests_to(k_b);
    REQUIRE(to_b.size() == 1);
    CHECK(to_b[0].range_start > 0);
}

TEST_CASE("single stream: no hand-over when the current mirror is as fast as the scouted one", "[download][stall]") {
    PacedRig rig(4 << 20); // 20 s at 200 kB/s each
    rig.gate.mode = ScoutGate::Mode::exclusive;
    rig.net.serve(k_a, Paced{.body = rig.body, .bytes_per_second = 200e3});
    rig.net.serve(k_b, Paced{.body = rig.body, .bytes_per_second = 300e3});
    auto r = rig.run();
    REQUIRE(r);
    CHECK(r->mirror == "a");
    auto to_b = rig.net.requests_to(k_b);
    REQUIRE(to_b.size() == 1); // one bounded scout, then no more
    CHECK(to_b[0].range_end != 0);
    CHECK(rig.net.requests_to(k_a).size() == 1);
    CHECK(rig.handover() == nullptr);
}

TEST_CASE("single stream: the transfer keeps streaming while a scout is out", "[download][stall]") {
    PacedRig rig(8 << 20);
    rig.gate.mode = ScoutGate::Mode::overlap; // the scout is served once the transfer went on past it
    rig.net.serve(k_a, Paced{.body = rig.body, .bytes_per_second = 100e3});
    rig.net.serve(k_b, Paced{.body = rig.body, .bytes_per_second = 10e6});
    auto r = rig.run();
    REQUIRE(r);
    CHECK(r->sha256 == rig.target.expected_sha256);
    CHECK(rig.gate.scouts == 1);
    // A scout run inside the transfer's progress callback would hold the transfer: nothing would
    // stream until the gate's bound let the scout through.
    CHECK(rig.gate.streamed_during_scout >= ScoutGate::k_overlap);
    CHECK(rig.events.has(EventKind::info, "scouted b: "));
}

TEST_CASE("single stream: a scout that does not answer is given up on the clock; the transfer goes on",
          "[download][stall]") {
    PacedRig rig(8 << 20);
    rig.gate.mode = ScoutGate::Mode::hang;
    rig.net.serve(k_a, Paced{.body = rig.body, .bytes_per_second = 100e3});
    rig.net.serve(k_b, Paced{.body = rig.body, .bytes_per_second = 10e6});
    auto r = rig.run();
    REQUIRE(r);
    CHECK(r->mirror == "a");
    CHECK(rig.gate.scouts == 1);
    CHECK(rig.gate.scout_saw_cancel);          // cancelled by its deadline, not released by the gate's bound
    CHECK(rig.gate.streamed_during_scout > 0); // the transfer went on meanwhile
    CHECK(rig.net.requests_to(k_a).size() == 1);
    CHECK(rig.handover() == nullptr);
    CHECK(rig.events.has(EventKind::info, "scouted b: 0.0 B/s"));
}

TEST_CASE("single stream: cancelling while a scout is out ends the download and the scout", "[download][stall]") {
    PacedRig rig(8 << 20);
    rig.gate.mode = ScoutGate::Mode::hang;
    rig.gate.cancel_on_scout = &rig.cancel; // Ctrl-C (a flag, as a signal handler sets it) mid-scout
    rig.cancellable = true;
    rig.net.serve(k_a, Paced{.body = rig.body, .bytes_per_second = 100e3});
    rig.net.serve(k_b, Paced{.body = rig.body, .bytes_per_second = 10e6});
    auto r = rig.run();
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::cancelled);
    CHECK(rig.gate.scouts == 1);
    CHECK(rig.gate.scout_saw_cancel); // woken by the cancellation, not by the gate's bound
    REQUIRE(rig.attempts.size() == 1);
    CHECK(rig.attempts[0].bytes < rig.body.size()); // the transfer was cut short, not finished
}
