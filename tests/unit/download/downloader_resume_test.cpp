// Downloader: fresh transfers, resumption within a run and across runs, Range/If-Range handling.
#include <catch2/catch.hpp>

#include <string>

#include "download_rig.hpp"

using namespace goinstall;
using namespace goinstall::test;
using namespace std::chrono_literals;

namespace {

const std::string k_etag = "\"v1\"";
const std::string k_last_modified = "Wed, 21 Oct 2015 07:28:00 GMT";

Error truncated(const std::string& url) { return net_error(NetPhase::body, 18, url); }

} // namespace

TEST_CASE("a fresh download is written, verified and renamed", "[download]") {
    Rig rig;
    rig.options.limits.connect_timeout = 1234ms;
    rig.net.script(rig.url(), Scripted::ok(rig.body, {{"etag", k_etag}}));

    auto r = rig.run();
    rig.check_installed(r);
    CHECK(r->mirror == "first");
    CHECK(r->bytes_transferred == Rig::k_size);
    REQUIRE(rig.net.requests().size() == 1);
    const auto& req = rig.net.requests()[0];
    CHECK(req.url == "https://one.example/dl/go1.21.3.linux-amd64.tar.gz");
    CHECK(req.range_start == 0);
    CHECK(req.if_range.empty());
    CHECK_FALSE(req.allow_compression);
    CHECK(req.limits.connect_timeout == 1234ms);
    REQUIRE(rig.attempts.size() == 1);
    CHECK(rig.attempts[0].mirror == "first");
    CHECK(rig.attempts[0].bytes == Rig::k_size);
    CHECK(rig.attempts[0].error.empty());
    CHECK(rig.attempts[0].decision == Decision::stop);
    CHECK(r->attempts.size() == 1);
    CHECK(rig.events.count(EventKind::download_start) == 1);
    CHECK(rig.events.count(EventKind::progress) > 0);
    CHECK(rig.events.count(EventKind::retry) == 0);
    CHECK(rig.clock.sleeps().empty());
}

TEST_CASE("a truncated body is resumed on the same mirror with Range and If-Range", "[download]") {
    Rig rig;
    rig.net.script(rig.url(), Scripted::ok(rig.body, {{"etag", k_etag}}).fail_after_bytes(4000, truncated(rig.url())));
    rig.net.script(rig.url(), Scripted::ok(rig.body, {{"etag", k_etag}}).ranged());
    std::string part_at_retry;
    rig.net.on_fetch([&](const Request&, std::size_t i) {
        if (i == 1) part_at_retry = read_text(rig.part());
    });

    auto r = rig.run();
    rig.check_installed(r);
    CHECK(part_at_retry == rig.body.substr(0, 4000));
    REQUIRE(rig.net.requests().size() == 2);
    CHECK(rig.net.requests()[1].url == rig.url());
    CHECK(rig.net.requests()[1].range_start == 4000);
    CHECK(rig.net.requests()[1].if_range == k_etag);
    CHECK_FALSE(rig.net.requests()[1].allow_compression);
    // Only the missing 60 % went over the wire the second time.
    CHECK(rig.net.bytes_served() == Rig::k_size);
    CHECK(r->bytes_transferred == Rig::k_size);
    REQUIRE(rig.attempts.size() == 2);
    CHECK(rig.attempts[0].decision == Decision::retry_same);
    CHECK(rig.attempts[0].bytes == 4000);
    CHECK(rig.attempts[1].resumed_from == 4000);
    CHECK(rig.attempts[1].bytes == 6000);
    CHECK(rig.retry_delays_ms() == std::vector<std::int64_t>{500}); // jitter 0.5 of 1 s
    CHECK(rig.clock.total_slept() == 500ms);
    CHECK(rig.events.has(EventKind::download_start, "resuming"));
    CHECK(rig.events.count(EventKind::retry) == 1);
}

TEST_CASE("a server that ignores Range is taken from zero on that same response", "[download]") {
    Rig rig;
    rig.net.script(rig.url(), Scripted::ok(rig.body).fail_after_bytes(4000, truncated(rig.url())));
    rig.net.script(rig.url(), Scripted::ok(rig.body)); // 200 whatever the Range says

    auto r = rig.run();
    rig.check_installed(r);
    REQUIRE(rig.net.requests().size() == 2);
    CHECK(rig.net.requests()[1].range_start == 4000);
    CHECK(rig.net.bytes_served() == 4000 + Rig::k_size);
    CHECK(r->bytes_transferred == 4000 + Rig::k_size);
    REQUIRE(rig.attempts.size() == 2);
    CHECK(rig.attempts[1].bytes == Rig::k_size);
}

TEST_CASE("a 206 whose Content-Range does not match is not accepted", "[download]") {
    auto content_range = GENERATE(as<std::string>{}, "bytes 0-5999/10000", "bytes 3999-9999/10000",
                                  "bytes 4000-9999/20000", "bytes */10000", "", "nonsense");
    INFO("Content-Range: '" << content_range << "'");
    Rig rig;
    rig.net.script(rig.url(), Scripted::ok(rig.body).fail_after_bytes(4000, truncated(rig.url())));
    std::map<std::string, std::string> headers;
    if (!content_range.empty()) headers["content-range"] = content_range;
    rig.net.script(rig.url(), Scripted::with_status(206, headers, std::string(6000, 'X')));
    rig.net.script(rig.url(), Scripted::ok(rig.body).ranged());
    std::string part_at_third = "unset";
    rig.net.on_fetch([&](const Request&, std::size_t i) {
        if (i == 2) part_at_third = read_text(rig.part());
    });

    auto r = rig.run();
    rig.check_installed(r);
    // None of the 'X's were kept: what is left is a prefix of the file (kept, or dropped to start over),
    // and the next request asks for exactly what follows it.
    CHECK(rig.body.starts_with(part_at_third));
    REQUIRE(rig.net.requests().size() == 3);
    CHECK(rig.net.requests()[2].range_start == part_at_third.size());
    REQUIRE(rig.attempts.size() == 3);
    CHECK(rig.attempts[1].error.find("Content-Range") != std::string::npos);
    CHECK(rig.attempts[1].decision == Decision::retry_same);
    CHECK(rig.attempts[1].bytes == 0);
}

TEST_CASE("a complete .part answered with 416 bytes */size is verified without a body", "[download]") {
    Rig rig;
    rig.target.expected_size = 0; // unknown size: the downloader has to ask
    rig.earlier_run(rig.body, k_etag, "");
    rig.net.script(rig.url(), Scripted::with_status(416, {{"content-range", "bytes */10000"}}));

    auto r = rig.run();
    rig.check_installed(r);
    REQUIRE(rig.net.requests().size() == 1);
    CHECK(rig.net.requests()[0].range_start == Rig::k_size);
    CHECK(r->bytes_transferred == 0);
}

TEST_CASE("a complete .part of known size is verified without any request", "[download]") {
    Rig rig;
    rig.earlier_run(rig.body, k_etag, "");
    auto r = rig.run();
    rig.check_installed(r);
    CHECK(rig.net.requests().empty());
    CHECK(r->bytes_transferred == 0);
}

TEST_CASE("a 416 with another total drops the .part and moves to the next mirror", "[download]") {
    Rig rig;
    rig.earlier_run(rig.body.substr(0, 6000), k_etag, "");
    rig.net.script(rig.url(0), Scripted::with_status(416, {{"content-range", "bytes */20000"}}));
    rig.net.script(rig.url(1), Scripted::ok(rig.body).ranged());

    auto r = rig.run();
    rig.check_installed(r);
    CHECK(r->mirror == "second");
    REQUIRE(rig.net.requests().size() == 2);
    CHECK(rig.net.requests()[0].range_start == 6000);
    CHECK(rig.net.requests()[1].range_start == 0);
    CHECK(rig.attempts[0].http_status == 416);
    CHECK(rig.attempts[0].decision == Decision::next_mirror);
}

TEST_CASE("a .part from an earlier run is resumed with the right If-Range", "[download]") {
    struct Row {
        const char* what;
        std::string etag, last_modified;
        bool same_url;
        std::string expected_if_range;
    };
    auto row = GENERATE(Row{"strong ETag", k_etag, "", true, k_etag},
                        Row{"strong ETag beats Last-Modified", k_etag, k_last_modified, true, k_etag},
                        Row{"weak ETag → Last-Modified", "W/\"x\"", k_last_modified, true, k_last_modified},
                        Row{"weak ETag alone → none", "W/\"x\"", "", true, ""},
                        Row{"Last-Modified alone", "", k_last_modified, true, k_last_modified},
                        Row{"no validators", "", "", true, ""},
                        Row{"other mirror → none", k_etag, k_last_modified, false, ""});
    INFO(row.what);
    Rig rig;
    rig.earlier_run(rig.body.substr(0, 5000), row.etag, row.last_modified,
                    row.same_url ? "" : "https://elsewhere.example/" + rig.target.filename);
    rig.net.script(rig.url(),
                   Scripted::ok(rig.body, {{"etag", row.etag}, {"last-modified", row.last_modified}}).ranged());

    auto r = rig.run();
    rig.check_installed(r);
    REQUIRE(rig.net.requests().size() == 1);
    CHECK(rig.net.requests()[0].range_start == 5000);
    CHECK(rig.net.requests()[0].if_range == row.expected_if_range);
    CHECK(rig.net.bytes_served() == 5000);
    CHECK(rig.attempts[0].resumed_from == 5000);
}

TEST_CASE("an interrupted run leaves a .part and sidecar that the next run resumes", "[download]") {
    Rig rig;
    rig.options.mirrors.resize(1);
    rig.net.script(rig.url(), Scripted::ok(rig.body, {{"etag", k_etag}}).fail_after_bytes(4000, truncated(rig.url())));
    // Nothing more scripted: the retry cannot connect, and the one mirror is exhausted.
    auto first = rig.run();
    REQUIRE_FALSE(first.has_value());
    CHECK(read_text(rig.part()) == rig.body.substr(0, 4000));
    CHECK(read_text(rig.meta()).find("etag=" + k_etag) != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(rig.final_path()));

    rig.net.script(rig.url(), Scripted::ok(rig.body, {{"etag", k_etag}}).ranged());
    auto second = rig.run();
    rig.check_installed(second);
    const auto& last = rig.net.requests().back();
    CHECK(last.range_start == 4000);
    CHECK(last.if_range == k_etag);
}

TEST_CASE("a changed file (If-Range no longer matches) is downloaded again in full", "[download]") {
    Rig rig;
    rig.earlier_run(rig.body.substr(0, 5000), k_etag, "");
    rig.net.script(rig.url(), Scripted::ok(rig.body, {{"etag", "\"v2\""}}).ranged());
    auto r = rig.run();
    rig.check_installed(r);
    CHECK(rig.net.requests()[0].if_range == k_etag);
    CHECK(rig.net.bytes_served() == Rig::k_size);
}

TEST_CASE("a corrupted .part prefix is detected after resuming and downloaded once more from zero", "[download]") {
    Rig rig;
    std::string bad_prefix = rig.body.substr(0, 5000);
    bad_prefix[1234] = static_cast<char>(bad_prefix[1234] ^ 0x55);
    rig.earlier_run(bad_prefix, k_etag, "");
    rig.net.script(rig.url(), Scripted::ok(rig.body, {{"etag", k_etag}}).ranged());
    rig.net.script(rig.url(), Scripted::ok(rig.body, {{"etag", k_etag}}).ranged());

    auto r = rig.run();
    rig.check_installed(r);
    CHECK(r->mirror == "first");
    REQUIRE(rig.net.requests().size() == 2);
    CHECK(rig.net.requests()[0].range_start == 5000);
    CHECK(rig.net.requests()[1].range_start == 0);
    CHECK(rig.net.requests()[1].if_range.empty());
    REQUIRE(rig.attempts.size() == 2);
    CHECK(rig.attempts[0].decision == Decision::retry_same);
    CHECK(rig.attempts[0].error.find("mismatch") != std::string::npos);
    CHECK(rig.clock.sleeps().empty());
    CHECK(rig.events.has(EventKind::retry, "from the start"));
}

TEST_CASE("a resumed download that mismatches twice fails over instead of looping", "[download]") {
    Rig rig;
    std::string wrong = pseudo_random(Rig::k_size, 99);
    rig.earlier_run(wrong.substr(0, 5000), k_etag, "");
    rig.net.script(rig.url(0), Scripted::ok(wrong, {{"etag", k_etag}}).ranged());
    rig.net.script(rig.url(0), Scripted::ok(wrong, {{"etag", k_etag}}).ranged());
    rig.net.script(rig.url(1), Scripted::ok(rig.body).ranged());

    auto r = rig.run();
    rig.check_installed(r);
    CHECK(r->mirror == "second");
    CHECK(rig.net.requests_to(rig.url(0)).size() == 2);
    REQUIRE(rig.attempts.size() == 3);
    CHECK(rig.attempts[1].decision == Decision::next_mirror);
    CHECK(rig.attempts[1].error.find("checksum") != std::string::npos);
}
