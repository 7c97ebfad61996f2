// Inputs found by the fuzz targets (tests/fuzz, docs/fuzzing.md) that broke a documented property,
// kept as unit tests. The crash inputs themselves are in tests/fuzz/corpus/<target>/regress-*.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "goinstall/download/policy.hpp"

using namespace goinstall;

// tests/fuzz/corpus/http_headers/regress-date-year-3986: system_clock::from_time_t overflowed
// (signed 64-bit nanoseconds end in 2262), undefined behaviour found by UBSan.
TEST_CASE("fuzz regression: HTTP dates the clock cannot hold are rejected", "[download][fuzz]") {
    auto text =
        GENERATE(as<std::string>{}, "Sun, 05 Nov 3986 08:49:37 GMT", "Fri, 31 Dec 9999 23:59:59 GMT",
                 "Sat, 12 Apr 2262 00:00:00 GMT", "Mon, 01 Jan 0000 00:00:00 GMT", "Tue, 01 Jan 1600 00:00:00 GMT");
    CAPTURE(text);
    CHECK_FALSE(parse_http_date(text).has_value());
    const auto now = std::chrono::system_clock::from_time_t(1795604662);
    CHECK_FALSE(parse_retry_after(text, now).has_value());
}

TEST_CASE("fuzz regression: dates inside the clock's range still parse", "[download][fuzz]") {
    // clang-format off
    auto [text, seconds] = GENERATE(table<std::string, long long>({
        {"Fri, 11 Apr 2262 23:47:16 GMT", 9223372036LL},
        {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777LL},
        {"Thu, 01 Jan 1970 00:00:00 GMT", 0LL},
        {"Tue, 21 Sep 1677 00:12:44 GMT", -9223372036LL},
    }));
    // clang-format on
    CAPTURE(text);
    auto when = parse_http_date(text);
    REQUIRE(when.has_value());
    CHECK(std::chrono::system_clock::to_time_t(*when) == seconds);
}
