#include "goinstall/download/policy.hpp"

#include <algorithm>
#include <array>
#include <ctime>

#include "goinstall/base/strings.hpp"

namespace goinstall {

const char* to_string(Decision d) {
    switch (d) {
    case Decision::retry_same: return "retry";
    case Decision::next_mirror: return "next-mirror";
    case Decision::stop: return "stop";
    }
    return "stop";
}

namespace {

Decision classify_status(long status) {
    switch (status) {
    case 408:
    case 425:
    case 429:
    case 500:
    case 502:
    case 503:
    case 504:
    case 522:
    case 524: return Decision::retry_same;
    default: break;
    }
    if (status == 501 || status == 505) {
        return Decision::next_mirror; // "not implemented": asking again will not help
    }
    if (status >= 500) {
        return Decision::retry_same;
    }
    return Decision::next_mirror; // 403/404/410/451 and any other client error
}

} // namespace

Decision classify(const Error& error) {
    switch (error.code()) {
    case ErrorCode::cancelled:
    case ErrorCode::disk_full:
    case ErrorCode::permission:
    case ErrorCode::filesystem:
    case ErrorCode::proxy_auth:
    case ErrorCode::usage:
    case ErrorCode::internal:
    case ErrorCode::lock_timeout:
    case ErrorCode::security: // a signed fork of the checksum database: never paper over it
        return Decision::stop;
    case ErrorCode::checksum:
    case ErrorCode::tls:
    case ErrorCode::not_found: return Decision::next_mirror;
    default: break;
    }
    if (!error.net()) {
        return Decision::next_mirror;
    }
    const auto& n = *error.net();
    if (n.http_status >= 400 && n.phase == NetPhase::http) {
        return classify_status(n.http_status);
    }
    switch (n.phase) {
    case NetPhase::proxy: return Decision::stop; // the proxy is shared by every mirror
    case NetPhase::resolve: return Decision::next_mirror;
    case NetPhase::connect:
        // Refused or unreachable: this host is down. A connect timeout may be transient.
        return n.curl_code == 28 ? Decision::retry_same : Decision::next_mirror;
    case NetPhase::tls: return Decision::next_mirror;
    case NetPhase::body: return Decision::retry_same;
    case NetPhase::http: return n.http_status >= 400 ? classify_status(n.http_status) : Decision::next_mirror;
    case NetPhase::none: break;
    }
    return Decision::next_mirror;
}

std::chrono::milliseconds backoff_delay(int retry, double jitter, std::optional<std::uint64_t> retry_after_seconds) {
    using namespace std::chrono;
    if (retry_after_seconds) {
        return duration_cast<milliseconds>(seconds(std::min<std::uint64_t>(*retry_after_seconds, 60)));
    }
    constexpr std::int64_t base_ms = 1000;
    constexpr std::int64_t cap_ms = 30000;
    std::int64_t ceiling = base_ms;
    for (int i = 1; i < retry && ceiling < cap_ms; ++i) {
        ceiling *= 2;
    }
    ceiling = std::min(ceiling, cap_ms);
    jitter = std::clamp(jitter, 0.0, 1.0);
    return milliseconds(static_cast<std::int64_t>(static_cast<double>(ceiling) * jitter));
}

std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view value) {
    // IMF-fixdate only: "Sun, 06 Nov 1994 08:49:37 GMT" (the form RFC 9110 requires senders to use).
    value = trim(value);
    if (value.size() != 29 || value[3] != ',' || value.substr(26) != "GMT") {
        return std::nullopt;
    }
    static constexpr std::array<std::string_view, 12> months = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                                "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    auto num = [&](std::size_t pos, std::size_t len) { return parse_u64(value.substr(pos, len)); };
    auto day = num(5, 2), year = num(12, 4), hh = num(17, 2), mm = num(20, 2), ss = num(23, 2);
    auto mon = std::find(months.begin(), months.end(), value.substr(8, 3));
    if (!day || !year || !hh || !mm || !ss || mon == months.end() || value[16] != ' ' || value[19] != ':' ||
        value[22] != ':' || *day < 1 || *day > 31 || *hh > 23 || *mm > 59 || *ss > 60) {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = static_cast<int>(*year) - 1900;
    tm.tm_mon = static_cast<int>(mon - months.begin());
    tm.tm_mday = static_cast<int>(*day);
    tm.tm_hour = static_cast<int>(*hh);
    tm.tm_min = static_cast<int>(*mm);
    tm.tm_sec = static_cast<int>(*ss);
    auto t = ::timegm(&tm);
    // system_clock counts 64-bit nanoseconds, so it spans the years 1677..2262: from_time_t of a
    // date outside them overflows (undefined behaviour). Such a date from a server is not usable.
    // Found by tests/fuzz/http_headers.cpp.
    constexpr auto k_limit =
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::duration::max()).count();
    if (t == static_cast<std::time_t>(-1) || t > k_limit || t < -k_limit) {
        return std::nullopt;
    }
    return std::chrono::system_clock::from_time_t(t);
}

std::optional<std::uint64_t> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now) {
    value = trim(value);
    if (auto secs = parse_u64(value)) {
        return secs;
    }
    auto when = parse_http_date(value);
    if (!when) {
        return std::nullopt;
    }
    if (*when <= now) {
        return 0;
    }
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(*when - now).count());
}

std::optional<ContentRange> parse_content_range(std::string_view value) {
    value = trim(value);
    if (!value.starts_with("bytes ")) {
        return std::nullopt;
    }
    value.remove_prefix(6);
    auto slash = value.find('/');
    if (slash == std::string_view::npos) {
        return std::nullopt;
    }
    ContentRange cr;
    auto range = value.substr(0, slash);
    auto total = value.substr(slash + 1);
    if (total != "*") {
        cr.total = parse_u64(total);
        if (!cr.total) {
            return std::nullopt;
        }
    }
    if (range != "*") {
        auto dash = range.find('-');
        if (dash == std::string_view::npos) {
            return std::nullopt;
        }
        cr.first = parse_u64(range.substr(0, dash));
        cr.last = parse_u64(range.substr(dash + 1));
        if (!cr.first || !cr.last || *cr.last < *cr.first || (cr.total && *cr.last >= *cr.total)) {
            return std::nullopt;
        }
    } else if (!cr.total) {
        return std::nullopt;
    }
    return cr;
}

} // namespace goinstall
