// Downloader: retries, Retry-After, failover across mirrors, deadlines, stop conditions.
#include <catch2/catch.hpp>

#include <cctype>
#include <string>

#include "download_rig.hpp"
#include "goinstall/base/strings.hpp"

using namespace goinstall;
using namespace goinstall::test;
using namespace std::chrono_literals;

namespace {

Scripted unavailable(const std::string& retry_after = "") {
    std::map<std::string, std::string> h;
    if (!retry_after.empty()) h["retry-after"] = retry_after;
    return Scripted::with_status(503, h, "<html>busy</html>");
}

} // namespace

TEST_CASE("bad bytes from a fresh download are a checksum failure and the next mirror is tried", "[download]") {
    Rig rig;
    rig.net.script(rig.url(0), Scripted::ok(pseudo_random(Rig::k_size, 7)));
    rig.net.script(rig.url(1), Scripted::ok(rig.body));

    auto r = rig.run();
    rig.check_installed(r);
    CHECK(r->mirror == "second");
    CHECK(rig.net.requests_to(rig.url(0)).size() == 1);
    REQUIRE(rig.net.requests_to(rig.url(1)).size() == 1);
    CHECK(rig.net.requests_to(rig.url(1))[0].range_start == 0);
    REQUIRE(rig.attempts.size() == 2);
    CHECK(rig.attempts[0].decision == Decision::next_mirror);
    CHECK(rig.attempts[0].error.find("checksum mismatch") != std::string::npos);
    CHECK(rig.events.count(EventKind::failover) == 1);
    CHECK(rig.clock.sleeps().empty());
}

TEST_CASE("bad bytes from every mirror fail with checksum and leave no file", "[download]") {
    Rig rig;
    rig.net.script(rig.url(0), Scripted::ok(pseudo_random(Rig::k_size, 7)));
    rig.net.script(rig.url(1), Scripted::ok(pseudo_random(Rig::k_size, 8)));

    auto r = rig.run();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::checksum);
    CHECK(r.error().describe().find("every mirror failed") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(rig.final_path()));
    CHECK(read_text(rig.part()).empty()); // proven-wrong bytes are not kept for a resume
    CHECK_FALSE(std::filesystem::exists(rig.meta()));
}

TEST_CASE("a 4xx that this mirror cannot fix moves on without retrying", "[download]") {
    auto status = GENERATE(403L, 404L, 410L, 451L);
    INFO("HTTP " << status);
    Rig rig;
    rig.net.script(rig.url(0), Scripted::with_status(status, {}, "not here"));
    rig.net.script(rig.url(1), Scripted::ok(rig.body));

    auto r = rig.run();
    rig.check_installed(r);
    CHECK(r->mirror == "second");
    CHECK(rig.net.requests_to(rig.url(0)).size() == 1);
    CHECK(rig.clock.sleeps().empty());
    REQUIRE(rig.attempts.size() == 2);
    CHECK(rig.attempts[0].http_status == status);
    CHECK(rig.attempts[0].decision == Decision::next_mirror);
    CHECK(rig.attempts[0].error.find("HTTP " + std::to_string(status)) != std::string::npos);
}

TEST_CASE("Retry-After is honoured before retrying the same mirror", "[download]") {
    struct Row {
        const char* retry_after;
        std::chrono::milliseconds sleep;
    };
    // The fake clock's wall time is Mon, 01 Jan 2024 00:00:00 GMT.
    auto row = GENERATE(Row{"2", 2000ms}, Row{"Mon, 01 Jan 2024 00:00:07 GMT", 7000ms}, Row{"0", 0ms},
                        Row{"Sun, 31 Dec 2023 00:00:00 GMT", 0ms}, Row{"garbage", 500ms});
    INFO("Retry-After: " << row.retry_after);
    Rig rig;
    rig.net.script(rig.url(0), unavailable(row.retry_after));
    rig.net.script(rig.url(0), Scripted::ok(rig.body));

    auto r = rig.run();
    rig.check_installed(r);
    CHECK(r->mirror == "first");
    CHECK(rig.clock.total_slept() == row.sleep);
    CHECK(rig.retry_delays_ms() == std::vector<std::int64_t>{row.sleep.count()});
    REQUIRE(rig.attempts.size() == 2);
    CHECK(rig.attempts[0].http_status == 503);
    CHECK(rig.attempts[0].decision == Decision::retry_same);
    CHECK(rig.events.count(EventKind::retry) == 1);
}

TEST_CASE("three 503s exhaust a mirror and the next one is used", "[download]") {
    Rig rig;
    for (int i = 0; i < 3; ++i) rig.net.script(rig.url(0), unavailable());
    rig.net.script(rig.url(1), Scripted::ok(rig.body));

    auto r = rig.run();
    rig.check_installed(r);
    CHECK(r->mirror == "second");
    CHECK(rig.net.requests_to(rig.url(0)).size() == 3);
    // jitter 0.5 of 1 s, then of 2 s; no wait before failing over
    CHECK(rig.retry_delays_ms() == std::vector<std::int64_t>{500, 1000});
    CHECK(rig.clock.total_slept() == 1500ms);
    CHECK(rig.events.count(EventKind::failover) == 1);
    CHECK(rig.attempts.size() == 4);
}

TEST_CASE("when every mirror fails the attempt log has one entry per attempt", "[download]") {
    Rig rig;
    for (int i = 0; i < 3; ++i) rig.net.script(rig.url(0), unavailable());
    rig.net.script(rig.url(1), Scripted::failure(net_error(NetPhase::connect, 7, rig.url(1))));

    auto r = rig.run();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::network);
    REQUIRE(r.error().net().has_value());
    CHECK(r.error().net()->http_status == 503); // an HTTP status says more than a refused connection
    CHECK(r.error().describe().find("every mirror failed") != std::string::npos);
    REQUIRE(rig.attempts.size() == 4);
    for (int i = 0; i < 3; ++i) {
        CHECK(rig.attempts[i].mirror == "first");
        CHECK(rig.attempts[i].http_status == 503);
        // The log records the action taken: retry twice, then out of attempts → next mirror.
        CHECK(rig.attempts[i].decision == (i < 2 ? Decision::retry_same : Decision::next_mirror));
        CHECK_FALSE(rig.attempts[i].error.empty());
    }
    CHECK(rig.attempts[3].mirror == "second");
    CHECK(rig.attempts[3].curl_code == 7);
    CHECK(rig.attempts[3].decision == Decision::next_mirror);
    CHECK(rig.attempts[3].url == rig.url(1));
    CHECK_FALSE(std::filesystem::exists(rig.final_path()));
    CHECK(rig.events.count(EventKind::verified) == 0);
}

TEST_CASE("a full disk stops at once and keeps the bytes so far", "[download]") {
    Rig rig;
    rig.net.script(rig.url(0), Scripted::ok(rig.body).fail_after_bytes(3000, Error(ErrorCode::disk_full, "ENOSPC")));
    rig.net.script(rig.url(1), Scripted::ok(rig.body));

    auto r = rig.run();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::disk_full);
    CHECK(rig.net.requests().size() == 1);
    REQUIRE(rig.attempts.size() == 1);
    CHECK(rig.attempts[0].decision == Decision::stop);
    CHECK(rig.clock.sleeps().empty());
    CHECK(read_text(rig.part()) == rig.body.substr(0, 3000));
}

TEST_CASE("a cancelled token stops before any request", "[download]") {
    Rig rig;
    rig.net.script(rig.url(0), Scripted::ok(rig.body));
    CancelToken cancel;
    cancel.cancel();
    auto r = rig.run(&cancel);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::cancelled);
    CHECK(rig.net.requests().empty());
    CHECK_FALSE(std::filesystem::exists(rig.final_path()));
}

TEST_CASE("a transfer cancelled midway keeps a resumable .part", "[download]") {
    Rig rig;
    rig.net.script(
        rig.url(0),
        Scripted::ok(rig.body, {{"etag", "\"v1\""}}).fail_after_bytes(2500, Error(ErrorCode::cancelled, "cancelled")));
    auto r = rig.run();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::cancelled);
    CHECK(rig.net.requests().size() == 1);
    CHECK(read_text(rig.part()) == rig.body.substr(0, 2500));
    CHECK(read_text(rig.meta()).find("etag=\"v1\"") != std::string::npos);
}

TEST_CASE("a Retry-After beyond the deadline fails over instead of sleeping", "[download]") {
    Rig rig;
    rig.options.deadline = 5s;
    rig.net.script(rig.url(0), unavailable("60"));
    rig.net.script(rig.url(1), Scripted::ok(rig.body));

    auto r = rig.run();
    rig.check_installed(r);
    CHECK(r->mirror == "second");
    CHECK(rig.clock.sleeps().empty());
    CHECK(rig.net.requests_to(rig.url(0)).size() == 1);
    CHECK(rig.events.count(EventKind::failover) == 1);
}

TEST_CASE("backoff never sleeps past the deadline", "[download]") {
    Rig rig;
    Downloader downloader(rig.net, rig.clock, rig.events, [] { return 0.999; });
    rig.options.head_start = 0ms;
    rig.options.deadline = 2500ms;
    for (int i = 0; i < 3; ++i) rig.net.script(rig.url(0), unavailable());
    rig.net.script(rig.url(1), Scripted::ok(rig.body));

    auto r = downloader.download(rig.target, rig.dir(), rig.options, nullptr, &rig.attempts);
    rig.check_installed(r);
    CHECK(r->mirror == "second");
    CHECK(rig.clock.total_slept() == 999ms); // the next wait (1998 ms) would overrun 2.5 s
    CHECK(rig.net.requests_to(rig.url(0)).size() == 2);
}

TEST_CASE("a deadline that passed stops the failover", "[download]") {
    Rig rig;
    rig.options.deadline = 5s;
    rig.net.on_fetch([&](const Request&, std::size_t) { rig.clock.advance(10s); }); // a slow server
    rig.net.script(rig.url(0), Scripted::with_status(404));
    rig.net.script(rig.url(1), Scripted::ok(rig.body));

    auto r = rig.run();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().net()->http_status == 404);
    CHECK(rig.net.requests_to(rig.url(1)).empty());
}

TEST_CASE("download refuses bad input before touching the network", "[download]") {
    Rig rig;
    SECTION("no mirrors") {
        rig.options.mirrors.clear();
        auto r = rig.run();
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == ErrorCode::usage);
    }
    SECTION("no valid checksum") {
        rig.target.expected_sha256 = GENERATE(as<std::string>{}, "", "abc", std::string(64, 'g'));
        auto r = rig.run();
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == ErrorCode::no_checksum);
    }
    CHECK(rig.net.requests().empty());
}

TEST_CASE("an upper-case expected checksum still verifies", "[download]") {
    Rig rig;
    for (auto& c : rig.target.expected_sha256) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    rig.net.script(rig.url(0), Scripted::ok(rig.body));
    auto r = rig.run();
    REQUIRE(r.has_value());
    CHECK(r->sha256 == to_lower(rig.target.expected_sha256));
}
