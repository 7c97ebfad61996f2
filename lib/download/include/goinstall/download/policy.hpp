#pragma once
// Pure retry/failover policy: what to do after a failed attempt, and how long to wait.
// Table-tested in tests/unit/download (docs/field-notes.md#retry-timeouts-resume).

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "goinstall/base/error.hpp"

namespace goinstall {

enum class Decision {
    retry_same,  // transient: timeouts, stalls, truncated or reset bodies, 408/425/429/5xx/522/524
    next_mirror, // this mirror cannot serve it: refused, DNS, 403/404/410/451, TLS on that host, bad bytes
    stop,        // no mirror can help: disk full, permission, cancelled, proxy authentication
};

const char* to_string(Decision d);

// Decides from the error of one attempt. Pure.
Decision classify(const Error& error);

// Backoff before retry number `retry` (1 = first retry): base 1 s doubling, capped at 30 s, with
// full jitter (`jitter` in [0,1) picks the point in [0, cap]). A Retry-After value overrides it,
// clamped to 60 s. Pure.
std::chrono::milliseconds backoff_delay(int retry, double jitter, std::optional<std::uint64_t> retry_after_seconds);

// Parses Retry-After: delta-seconds or an HTTP-date (RFC 9110 §10.2.3) relative to `now`.
std::optional<std::uint64_t> parse_retry_after(std::string_view value, std::chrono::system_clock::time_point now);

// Parses "bytes a-b/total" or "bytes */total" (RFC 9110 §14.4). total = nullopt for "*".
struct ContentRange {
    std::optional<std::uint64_t> first, last, total;
};
std::optional<ContentRange> parse_content_range(std::string_view value);

// Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT"); nullopt otherwise.
std::optional<std::chrono::system_clock::time_point> parse_http_date(std::string_view value);

} // namespace goinstall
