// Fuzzes the HTTP header parsers the downloader relies on (lib/download policy.hpp):
// parse_content_range, parse_retry_after, parse_http_date.
// Properties:
// - Content-Range: first <= last < total whenever those are known; "bytes */N" has a total;
//   first and last are both set or both unset; formatting the result and parsing it again gives
//   the same values;
// - HTTP-date: a parsed date formats back (IMF-fixdate, the weekday recomputed) to a text that
//   parses to the same instant;
// - Retry-After: a date in the past gives 0; a date gives the seconds to it from `now`; delta
//   seconds are taken as they are; backoff_delay never exceeds 60 s.
#include "fuzz_check.hpp"

#include <chrono>
#include <ctime>

#include "goinstall/download/policy.hpp"

using namespace goinstall;
using std::chrono::system_clock;

namespace {

std::string format_content_range(const ContentRange& cr) {
    std::string out = "bytes ";
    out += cr.first ? std::to_string(*cr.first) + "-" + std::to_string(*cr.last) : std::string("*");
    out += "/";
    out += cr.total ? std::to_string(*cr.total) : std::string("*");
    return out;
}

std::optional<std::string> format_http_date(system_clock::time_point when) {
    const std::time_t t = system_clock::to_time_t(when);
    std::tm tm{};
    if (::gmtime_r(&t, &tm) == nullptr) return std::nullopt;
    char buf[64];
    if (std::strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0) return std::nullopt;
    return std::string(buf);
}

// 2026-11-25T10:51:02Z, a fixed "now" so every run decides the same.
const system_clock::time_point k_now = system_clock::from_time_t(1795604662);

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::as_text(data, size);
    const std::string shown(text);

    if (auto cr = parse_content_range(text)) {
        FUZZ_CHECK(cr->first.has_value() == cr->last.has_value(), shown);
        FUZZ_CHECK(cr->first || cr->total, shown);
        if (cr->first) FUZZ_CHECK(*cr->first <= *cr->last, shown);
        if (cr->first && cr->total) FUZZ_CHECK(*cr->last < *cr->total, shown);
        const auto again = parse_content_range(format_content_range(*cr));
        FUZZ_CHECK(again && again->first == cr->first && again->last == cr->last && again->total == cr->total,
                   format_content_range(*cr));
    }

    const auto date = parse_http_date(text);
    if (date) {
        const auto formatted = format_http_date(*date);
        if (formatted) { // strftime of years beyond 9999 does not fit IMF-fixdate; nothing to compare
            const auto again = parse_http_date(*formatted);
            FUZZ_CHECK(formatted->size() != 29 || (again && *again == *date), shown + " -> " + *formatted);
        }
    }

    const auto retry = parse_retry_after(text, k_now);
    if (date) {
        const auto expected =
            *date <= k_now ? 0 : std::chrono::duration_cast<std::chrono::seconds>(*date - k_now).count();
        FUZZ_CHECK(retry && *retry == static_cast<std::uint64_t>(expected), shown);
    }
    if (retry) {
        const auto delay = backoff_delay(static_cast<int>(size % 40), 0.5, retry);
        FUZZ_CHECK(delay >= std::chrono::milliseconds(0) && delay <= std::chrono::seconds(60), shown);
    }
    return 0;
}
