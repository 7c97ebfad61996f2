// The Downloader driving the failover state machine: backoff on the fake clock, the attempt budget
// per mirror and the order of the attempt log against the other events.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "download_rig.hpp"

using namespace goinstall;
using namespace goinstall::test;
using namespace std::chrono_literals;

namespace {

std::string field(const Event& e, const std::string& key) {
    for (const auto& [k, v] : e.fields) {
        if (k == key && std::holds_alternative<std::string>(v)) return std::get<std::string>(v);
    }
    return "";
}

} // namespace

TEST_CASE("failover: backoff waits on the fake clock, in slices", "[download][failover]") {
    Rig rig;
    rig.net.script(rig.url(0), Scripted::with_status(503, {{"retry-after", "3"}}));
    rig.net.script(rig.url(0), Scripted::ok(rig.body));
    const auto t0 = rig.clock.now();

    auto r = rig.run();
    rig.check_installed(r);
    CHECK(r->mirror == "first");
    // 3 s of Retry-After, slept in 200 ms slices so that a cancel is noticed.
    CHECK(rig.clock.sleeps() == std::vector<std::chrono::milliseconds>(15, 200ms));
    CHECK(rig.clock.now() - t0 == 3000ms);
    CHECK(rig.retry_delays_ms() == std::vector<std::int64_t>{3000});
}

TEST_CASE("failover: a backoff is cut short by a cancel", "[download][failover]") {
    Rig rig;
    CancelToken cancel;
    rig.net.script(rig.url(0), Scripted::with_status(503, {{"retry-after", "30"}}));
    rig.net.script(rig.url(0), Scripted::ok(rig.body));
    struct CancelOnRetry final : EventSink {
        CancelToken& token;
        RecordingEvents& inner;
        CancelOnRetry(CancelToken& t, RecordingEvents& i) : token(t), inner(i) {}
        void emit(const Event& e) override {
            inner.emit(e);
            if (e.kind == EventKind::retry) token.cancel();
        }
    } events(cancel, rig.events);
    Downloader downloader(rig.net, rig.clock, events, [] { return 0.5; });

    auto r = downloader.download(rig.target, rig.dir(), rig.options, &cancel, &rig.attempts);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::cancelled);
    CHECK(rig.clock.sleeps().empty());
    CHECK(rig.net.requests_to(rig.url(0)).size() == 1);
}

TEST_CASE("failover: a failing mirror is not asked beyond its attempts", "[download][failover]") {
    Rig rig;
    rig.options.max_attempts_per_mirror = 2;
    for (int i = 0; i < 3; ++i) rig.net.script(rig.url(0), Scripted::with_status(503));
    rig.net.script(rig.url(1), Scripted::ok(rig.body));

    auto r = rig.run();
    rig.check_installed(r);
    CHECK(r->mirror == "second");
    CHECK(rig.net.requests_to(rig.url(0)).size() == 2);
    CHECK(rig.net.pending(rig.url(0)) == 1); // the third answer was never asked for
    REQUIRE(rig.attempts.size() == 3);
    CHECK(rig.attempts[0].decision == Decision::retry_same);
    CHECK(rig.attempts[1].decision == Decision::next_mirror); // out of attempts
    CHECK(rig.attempts[2].mirror == "second");
    CHECK(rig.retry_delays_ms() == std::vector<std::int64_t>{500}); // one wait, none before failing over
    const Event* failover = rig.events.first(EventKind::failover);
    REQUIRE(failover != nullptr);
    CHECK(field(*failover, "from") == "first");
    CHECK(field(*failover, "to") == "second");
}

TEST_CASE("failover: the attempt log and the events come in the order things happened", "[download][failover]") {
    Rig rig;
    rig.net.script(rig.url(0), Scripted::with_status(503));
    rig.net.script(rig.url(0), Scripted::with_status(404));
    rig.net.script(rig.url(1), Scripted::ok(rig.body));

    auto r = rig.run();
    rig.check_installed(r);
    REQUIRE(rig.attempts.size() == 3);
    CHECK(rig.attempts[0].mirror == "first");
    CHECK(rig.attempts[0].http_status == 503);
    CHECK(rig.attempts[0].decision == Decision::retry_same);
    CHECK(rig.attempts[1].mirror == "first");
    CHECK(rig.attempts[1].http_status == 404);
    CHECK(rig.attempts[1].decision == Decision::next_mirror);
    CHECK(rig.attempts[2].mirror == "second");
    CHECK(rig.attempts[2].error.empty());
    CHECK(r->attempts.size() == 3);

    // attempt, retry, attempt, failover, attempt, verified (progress and starts left out)
    std::vector<std::string> order;
    for (const auto& e : rig.events.events()) {
        switch (e.kind) {
        case EventKind::attempt: order.push_back("attempt " + field(e, "mirror") + " " + field(e, "decision")); break;
        case EventKind::retry: order.push_back("retry"); break;
        case EventKind::failover: order.push_back("failover"); break;
        case EventKind::verified: order.push_back("verified"); break;
        default: break;
        }
    }
    CHECK(order == std::vector<std::string>{"attempt first " + std::string(to_string(Decision::retry_same)), "retry",
                                            "attempt first " + std::string(to_string(Decision::next_mirror)),
                                            "failover", "attempt second done", "verified"});
}
