// Racing mirrors on a fake clock: the head start elapses on fake time (or never, while the clock is
// held), so every race here has one possible course. A "hanging" scripted request stands for a
// blackholed host: it ends only when the race cancels it. Nothing sleeps and no test looks at how
// long anything took.
#include <catch2/catch.hpp>

#include <mutex>
#include <string>
#include <vector>

#include "download_rig.hpp"
#include "race.hpp"

using namespace goinstall;
using namespace goinstall::test;
using namespace std::chrono_literals;

namespace {

class StringSink final : public BodySink {
public:
    Status on_response(const Response&) override {
        ++heads;
        return {};
    }
    Status on_data(std::span<const unsigned char> data) override {
        body.append(reinterpret_cast<const char*>(data.data()), data.size());
        return {};
    }
    int heads = 0;
    std::string body;
};

struct RaceRig {
    FakeTransport net;
    FakeClock clock;
    StringSink sink;
    std::string body = pseudo_random(5000);
    const std::string url0 = "https://one.example/f";
    const std::string url1 = "https://two.example/f";
    std::mutex mu;
    std::vector<std::size_t> progress_from; // which mirror each progress call reported

    std::vector<RaceOutcome> run(bool with_second = true, const CancelToken* parent = nullptr) {
        std::optional<RaceEntrant> second;
        if (with_second) second = RaceEntrant{1, Request{.url = url1}};
        return race_fetch(net, clock, sink, RaceEntrant{0, Request{.url = url0}}, second, 400ms, parent,
                          [&](std::size_t mirror, std::uint64_t, std::uint64_t) {
                              std::lock_guard lock(mu);
                              progress_from.push_back(mirror);
                          });
    }
};

} // namespace

TEST_CASE("race: the head start elapses on fake time, the second mirror wins, the first is cancelled",
          "[download][race]") {
    RaceRig rig;
    rig.net.script(rig.url0, Scripted::hang_until_cancelled());
    rig.net.script(rig.url1, Scripted::ok(rig.body));
    const auto t0 = rig.clock.now();

    auto out = rig.run();
    REQUIRE(out.size() == 2);
    CHECK(out[0].mirror == 0u);
    CHECK_FALSE(out[0].won);
    CHECK(out[0].lost);
    REQUIRE_FALSE(out[0].response.has_value());
    CHECK(out[0].response.error().code() == ErrorCode::cancelled);
    CHECK(out[1].mirror == 1u);
    CHECK(out[1].won);
    CHECK_FALSE(out[1].lost);
    REQUIRE(out[1].response.has_value());
    CHECK(out[1].response->status == 200);
    // The one timed wait was the head start, on the fake clock.
    CHECK(rig.clock.waits() == std::vector<std::chrono::milliseconds>{400ms});
    CHECK(rig.clock.now() - t0 == 400ms);
    CHECK(rig.clock.sleeps().empty());
    // The winner's body, and only its progress; the loser was cancelled.
    CHECK(rig.sink.heads == 1);
    CHECK(rig.sink.body == rig.body);
    CHECK(rig.net.hangs_cancelled() == 1);
    CHECK(rig.net.requests_to(rig.url0).size() == 1);
    CHECK_FALSE(rig.progress_from.empty());
    for (auto m : rig.progress_from) CHECK(m == 1u);
}

TEST_CASE("race: a first mirror that answers within the head start is kept and the second never asked",
          "[download][race]") {
    RaceRig rig;
    rig.clock.set_mode(FakeClock::Mode::hold); // time stands still: only the answer can end the wait
    rig.net.script(rig.url0, Scripted::ok(rig.body));
    rig.net.script(rig.url1, Scripted::ok(rig.body));
    const auto t0 = rig.clock.now();

    auto out = rig.run();
    REQUIRE(out.size() == 1);
    CHECK(out[0].mirror == 0u);
    CHECK(out[0].won);
    CHECK(rig.sink.body == rig.body);
    CHECK(rig.net.requests_to(rig.url1).empty());
    CHECK(rig.net.pending(rig.url1) == 1);
    CHECK(rig.clock.now() == t0);
}

TEST_CASE("race: a first mirror that fails within the head start ends the race alone", "[download][race]") {
    RaceRig rig;
    rig.clock.set_mode(FakeClock::Mode::hold);
    rig.net.script(rig.url0, Scripted::with_status(503));
    rig.net.script(rig.url1, Scripted::ok(rig.body));

    auto out = rig.run();
    REQUIRE(out.size() == 1);
    CHECK_FALSE(out[0].won);
    CHECK_FALSE(out[0].lost);
    REQUIRE(out[0].response.has_value());
    CHECK(out[0].response->status == 503);
    CHECK(rig.net.requests_to(rig.url1).empty());
    CHECK(rig.sink.heads == 0);
}

TEST_CASE("race: without a second mirror nothing waits on the clock", "[download][race]") {
    RaceRig rig;
    rig.net.script(rig.url0, Scripted::ok(rig.body));
    auto out = rig.run(/*with_second=*/false);
    REQUIRE(out.size() == 1);
    CHECK(out[0].won);
    CHECK(rig.clock.waits().empty());
    CHECK(rig.sink.body == rig.body);
}

TEST_CASE("race: a cancelled parent token cancels the transfer under way", "[download][race]") {
    RaceRig rig;
    rig.clock.set_mode(FakeClock::Mode::hold);
    rig.net.script(rig.url0, Scripted::hang_until_cancelled());
    rig.net.script(rig.url1, Scripted::ok(rig.body));
    CancelToken parent;
    parent.cancel(); // as a signal handler does: the flag only

    auto out = rig.run(true, &parent);
    REQUIRE(out.size() == 1);
    REQUIRE_FALSE(out[0].response.has_value());
    CHECK(out[0].response.error().code() == ErrorCode::cancelled);
    CHECK_FALSE(out[0].lost); // nobody won: cancelled from outside
    CHECK(rig.net.requests_to(rig.url0).size() == 1);
    CHECK(rig.net.requests_to(rig.url1).empty());
}

// The Downloader racing mirrors: the same machinery, seen through attempts and events.

TEST_CASE("downloader race: the second mirror wins after the head start and the first is logged as lost",
          "[download][race]") {
    Rig rig;
    rig.options.head_start = 400ms;
    rig.net.script(rig.url(0), Scripted::hang_until_cancelled());
    rig.net.script(rig.url(1), Scripted::ok(rig.body));

    auto r = rig.run();
    rig.check_installed(r);
    CHECK(r->mirror == "second");
    CHECK(rig.clock.waits() == std::vector<std::chrono::milliseconds>{400ms});
    CHECK(rig.clock.sleeps().empty());
    CHECK(rig.net.hangs_cancelled() == 1);
    REQUIRE(rig.attempts.size() == 2);
    CHECK(rig.attempts[0].mirror == "first");
    CHECK(rig.attempts[0].lost_race);
    CHECK(rig.attempts[0].error == "another mirror answered first");
    CHECK(rig.attempts[0].decision == Decision::next_mirror);
    CHECK(rig.attempts[0].bytes == 0);
    CHECK(rig.attempts[1].mirror == "second");
    CHECK_FALSE(rig.attempts[1].lost_race);
    CHECK(rig.attempts[1].error.empty());
    CHECK(rig.attempts[1].bytes == Rig::k_size);
    // A lost race is not a failure: no failover, no retry.
    CHECK(rig.events.count(EventKind::failover) == 0);
    CHECK(rig.events.count(EventKind::retry) == 0);
    CHECK(rig.events.count(EventKind::download_start) == 1);
    CHECK(rig.events.count(EventKind::attempt) == 2);
}

TEST_CASE("downloader race: a fast first mirror keeps the second from being asked", "[download][race]") {
    Rig rig;
    rig.options.head_start = 400ms;
    rig.clock.set_mode(FakeClock::Mode::hold);
    rig.net.script(rig.url(0), Scripted::ok(rig.body));
    rig.net.script(rig.url(1), Scripted::ok(rig.body));

    auto r = rig.run();
    rig.check_installed(r);
    CHECK(r->mirror == "first");
    CHECK(rig.net.requests_to(rig.url(1)).empty());
    REQUIRE(rig.attempts.size() == 1);
    CHECK_FALSE(rig.attempts[0].lost_race);
}

TEST_CASE("downloader race: the loser keeps its attempts and is asked first again after the winner breaks",
          "[download][race]") {
    Rig rig;
    rig.options.head_start = 400ms;
    rig.net.script(rig.url(0), Scripted::hang_until_cancelled());
    rig.net.script(rig.url(0), Scripted::ok(rig.body).ranged());
    rig.net.script(rig.url(1),
                   Scripted::ok(rig.body).fail_after_bytes(3000, net_error(NetPhase::body, 18, rig.url(1))));
    // Once the second mirror is asked, freeze time: the next round's head start can then only end
    // with the first mirror's answer.
    rig.net.on_fetch([&](const Request& req, std::size_t) {
        if (req.url == rig.url(1)) rig.clock.set_mode(FakeClock::Mode::hold);
    });

    auto r = rig.run();
    rig.check_installed(r);
    CHECK(r->mirror == "first");
    REQUIRE(rig.attempts.size() == 3);
    CHECK(rig.attempts[0].mirror == "first");
    CHECK(rig.attempts[0].lost_race);
    CHECK(rig.attempts[1].mirror == "second");
    CHECK(rig.attempts[1].bytes == 3000);
    CHECK(rig.attempts[1].decision == Decision::retry_same);
    CHECK(rig.attempts[2].mirror == "first");
    CHECK(rig.attempts[2].resumed_from == 3000);
    CHECK(rig.attempts[2].error.empty());
    // The winner broke while in use, so it backed off (jitter 0.5 of 1 s) on the fake clock.
    CHECK(rig.retry_delays_ms() == std::vector<std::int64_t>{500});
    CHECK(rig.clock.total_slept() == 500ms);
    CHECK(rig.clock.waits() == std::vector<std::chrono::milliseconds>{400ms});
    auto to_first = rig.net.requests_to(rig.url(0));
    REQUIRE(to_first.size() == 2);
    CHECK(to_first[1].range_start == 3000);
    CHECK(rig.net.requests_to(rig.url(1)).size() == 1);
}
