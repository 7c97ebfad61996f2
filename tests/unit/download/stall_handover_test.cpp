// Single-stream mode on paced transfers (issue #15): a silent transfer is left after a window
// relative to its own recent rate and resumed elsewhere; a steadily slow one is kept; a clearly
// slower one hands its remainder to a mirror a scout showed to be faster. All on the fake clock.

#include <catch2/catch.hpp>

#include "../fakes/fake_clock.hpp"
#include "../fakes/paced_transport.hpp"
#include "../fakes/recording_events.hpp"
#include "../fakes/temp_dir.hpp"
#include "download_rig.hpp"
#include "goinstall/download/downloader.hpp"
#include "stall_watch.hpp"

using namespace goinstall;
using namespace goinstall::test;
using namespace std::chrono_literals;

namespace {

constexpr const char* k_a = "https://a.example/dl/go.tar.gz";
constexpr const char* k_b = "https://b.example/dl/go.tar.gz";

struct PacedRig {
    TempDir tmp;
    FakeClock clock;
    PacedTransport net{clock};
    RecordingEvents events;
    Downloader downloader{net, clock, events, [] { return 0.5; }};
    std::string body;
    DownloadTarget target;
    DownloadOptions options;
    std::vector<Attempt> attempts;

    explicit PacedRig(std::size_t size) : body(pseudo_random(size)), target{"go.tar.gz", sha256_hex(body), size} {
        options.mirrors = {{"a", "https://a.example/dl/"}, {"b", "https://b.example/dl/"}};
        options.connections = 1;
        options.head_start = 0ms; // one transfer at a time
    }
    Result<DownloadResult> run() { return downloader.download(target, tmp.path(), options, nullptr, &attempts); }
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
        CHECK(w.describe_silence(last + 2100ms) == "silent for 2.1 s (its recent rate 10.0 MB/s)");
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
    CHECK(to_b[1].range_start < (1U << 20));
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
