#include <catch2/catch.hpp>

#include <chrono>
#include <optional>
#include <string>

#include "goinstall/download/policy.hpp"

using namespace goinstall;
using namespace std::chrono_literals;

namespace {

Error net(NetPhase phase, int curl_code, long http_status = 0, ErrorCode code = ErrorCode::network) {
    return Error(code, "x").with_net(NetDetail{.phase = phase, .curl_code = curl_code, .http_status = http_status});
}

Error http(long status) { return net(NetPhase::http, 0, status); }

} // namespace

TEST_CASE("classify follows docs/field-notes.md#retry-timeouts-resume", "[download]") {
    struct Row {
        const char* what;
        Error error;
        Decision expected;
    };
    auto row = GENERATE(
        // retry the same mirror: timeouts, stalls, truncated or reset bodies, transient statuses
        Row{"truncated body (curl 18)", net(NetPhase::body, 18), Decision::retry_same},
        Row{"reset during body (curl 56)", net(NetPhase::body, 56), Decision::retry_same},
        Row{"stall / low-speed timeout (curl 28 in body)", net(NetPhase::body, 28), Decision::retry_same},
        Row{"connect timeout (curl 28)", net(NetPhase::connect, 28), Decision::retry_same},
        Row{"408", http(408), Decision::retry_same}, Row{"425", http(425), Decision::retry_same},
        Row{"429", http(429), Decision::retry_same}, Row{"500", http(500), Decision::retry_same},
        Row{"502", http(502), Decision::retry_same}, Row{"503", http(503), Decision::retry_same},
        Row{"504", http(504), Decision::retry_same}, Row{"501 not implemented", http(501), Decision::next_mirror},
        Row{"522", http(522), Decision::retry_same}, Row{"524", http(524), Decision::retry_same},
        // next mirror: this host cannot serve it
        Row{"connection refused (curl 7)", net(NetPhase::connect, 7), Decision::next_mirror},
        Row{"host unresolvable (curl 6)", net(NetPhase::resolve, 6), Decision::next_mirror},
        Row{"403", http(403), Decision::next_mirror}, Row{"404", http(404), Decision::next_mirror},
        Row{"410", http(410), Decision::next_mirror}, Row{"451", http(451), Decision::next_mirror},
        Row{"400", http(400), Decision::next_mirror},
        Row{"TLS failure on that host", net(NetPhase::tls, 60, 0, ErrorCode::tls), Decision::next_mirror},
        Row{"TLS phase with a network code", net(NetPhase::tls, 35), Decision::next_mirror},
        Row{"checksum mismatch", Error(ErrorCode::checksum, "bad bytes"), Decision::next_mirror},
        Row{"network error without detail", Error(ErrorCode::network, "?"), Decision::next_mirror},
        // stop: no mirror can help
        Row{"disk full", Error(ErrorCode::disk_full, "ENOSPC"), Decision::stop},
        Row{"permission", Error(ErrorCode::permission, "EACCES"), Decision::stop},
        Row{"filesystem", Error(ErrorCode::filesystem, "EIO"), Decision::stop},
        Row{"cancelled", Error(ErrorCode::cancelled, "SIGINT"), Decision::stop},
        Row{"checksum database fork", Error(ErrorCode::security, "SECURITY ERROR"), Decision::stop},
        Row{"proxy authentication", net(NetPhase::proxy, 0, 407, ErrorCode::proxy_auth), Decision::stop},
        Row{"proxy host unresolvable (curl 5)", net(NetPhase::proxy, 5), Decision::stop},
        Row{"internal", Error(ErrorCode::internal, "bug"), Decision::stop});
    INFO(row.what);
    CHECK(classify(row.error) == row.expected);
}

TEST_CASE("Decision names are stable", "[download]") {
    CHECK(std::string(to_string(Decision::retry_same)) == "retry");
    CHECK(std::string(to_string(Decision::next_mirror)) == "next-mirror");
    CHECK(std::string(to_string(Decision::stop)) == "stop");
}

TEST_CASE("backoff_delay doubles from 1 s, caps at 30 s, with full jitter", "[download]") {
    struct Row {
        int retry;
        std::chrono::milliseconds expected;
    };
    auto row = GENERATE(Row{1, 999ms}, Row{2, 1998ms}, Row{3, 3996ms}, Row{4, 7992ms}, Row{5, 15984ms}, Row{6, 29970ms},
                        Row{7, 29970ms}, Row{8, 29970ms}, Row{1000, 29970ms});
    INFO("retry " << row.retry);
    CHECK(backoff_delay(row.retry, 0.999, std::nullopt) == row.expected);
    CHECK(backoff_delay(row.retry, 0.0, std::nullopt) == 0ms);
    CHECK(backoff_delay(row.retry, 0.5, std::nullopt) <= 15000ms);
}

TEST_CASE("backoff_delay clamps jitter and honours Retry-After up to 60 s", "[download]") {
    CHECK(backoff_delay(1, 1.0, std::nullopt) == 1000ms);
    CHECK(backoff_delay(1, -3.0, std::nullopt) == 0ms);
    CHECK(backoff_delay(6, 7.0, std::nullopt) == 30000ms);
    CHECK(backoff_delay(1, 0.5, 2) == 2000ms);
    CHECK(backoff_delay(5, 0.0, 0) == 0ms);
    CHECK(backoff_delay(1, 0.5, 60) == 60000ms);
    CHECK(backoff_delay(1, 0.5, 120) == 60000ms);
    CHECK(backoff_delay(1, 0.5, 18446744073709551615ULL) == 60000ms);
}

TEST_CASE("parse_http_date accepts IMF-fixdate only", "[download]") {
    using std::chrono::system_clock;
    CHECK(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT") == system_clock::from_time_t(784111777));
    CHECK(parse_http_date("Thu, 01 Jan 1970 00:00:00 GMT") == system_clock::from_time_t(0));
    CHECK(parse_http_date("  Mon, 01 Jan 2024 00:00:00 GMT ") == system_clock::from_time_t(1704067200));
    CHECK(parse_http_date("Sat, 29 Feb 2020 23:59:59 GMT") == system_clock::from_time_t(1583020799));
    auto bad =
        GENERATE(as<std::string>{}, "", "GMT", "Sunday, 06-Nov-94 08:49:37 GMT", "Sun Nov  6 08:49:37 1994",
                 "Sun, 06 Nov 1994 08:49:37 UTC", "Sun, 06 Nov 1994 08:49:37 +0000", "Sun, 32 Nov 1994 08:49:37 GMT",
                 "Sun, 00 Nov 1994 08:49:37 GMT", "Sun, 06 Foo 1994 08:49:37 GMT", "Sun, 06 Nov 1994 24:00:00 GMT",
                 "Sun, 06 Nov 1994 08:60:00 GMT", "Sun, 06 Nov 1994 08-49-37 GMT", "Sun, 6 Nov 1994 08:49:37 GMT",
                 "Sun, 06 Nov 94 08:49:37 GMT", "Sun, 06 Nov 1994 08:49:3x GMT", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    INFO("'" << bad << "'");
    CHECK_FALSE(parse_http_date(bad).has_value());
}

TEST_CASE("parse_retry_after takes seconds or an HTTP date", "[download]") {
    using std::chrono::system_clock;
    const auto now = system_clock::from_time_t(1704067200); // Mon, 01 Jan 2024 00:00:00 GMT
    struct Row {
        const char* value;
        std::optional<std::uint64_t> expected;
    };
    auto row =
        GENERATE(Row{"120", 120}, Row{"0", 0}, Row{" 5 ", 5}, Row{"Mon, 01 Jan 2024 00:00:30 GMT", 30},
                 Row{"Mon, 01 Jan 2024 01:00:00 GMT", 3600}, Row{"Sun, 31 Dec 2023 23:00:00 GMT", 0},
                 Row{"Mon, 01 Jan 2024 00:00:00 GMT", 0}, Row{"", std::nullopt}, Row{"-1", std::nullopt},
                 Row{"1.5", std::nullopt}, Row{"+5", std::nullopt}, Row{"soon", std::nullopt}, Row{"5s", std::nullopt},
                 Row{"99999999999999999999999", std::nullopt}, Row{"Monday, 01-Jan-24 00:00:30 GMT", std::nullopt});
    INFO("'" << row.value << "'");
    CHECK(parse_retry_after(row.value, now) == row.expected);
}

TEST_CASE("parse_content_range parses ranges and unsatisfied ranges", "[download]") {
    using O = std::optional<std::uint64_t>;
    struct Row {
        const char* value;
        O first, last, total;
    };
    auto row = GENERATE(Row{"bytes 0-499/1234", 0, 499, 1234}, Row{"bytes 500-1233/1234", 500, 1233, 1234},
                        Row{"bytes 0-0/1", 0, 0, 1}, Row{"bytes 42-99/*", 42, 99, std::nullopt},
                        Row{"bytes */1234", std::nullopt, std::nullopt, 1234}, Row{" bytes 7-8/9 ", 7, 8, 9});
    INFO("'" << row.value << "'");
    auto cr = parse_content_range(row.value);
    REQUIRE(cr.has_value());
    CHECK(cr->first == row.first);
    CHECK(cr->last == row.last);
    CHECK(cr->total == row.total);
}

TEST_CASE("parse_content_range rejects garbage", "[download]") {
    auto bad =
        GENERATE(as<std::string>{}, "", "bytes", "bytes ", "bytes */*", "bytes 5-4/10", "bytes 0-10/10", "items 0-1/2",
                 "bytes 0-/10", "bytes -5/10", "bytes 0-1", "bytes a-b/c", "bytes 0-1/x", "bytes 0-1/-2", "bytes=0-1/2",
                 "bytes 0 1/2", "BYTES 0-1/2x", "bytes 1-2/ 3", "bytes 0-99999999999999999999999/5");
    INFO("'" << bad << "'");
    CHECK_FALSE(parse_content_range(bad).has_value());
}
