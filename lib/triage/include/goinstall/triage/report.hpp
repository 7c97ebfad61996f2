#pragma once
// The triage report model: what the probes observed per target and layer (Observations), the table
// rows shown to the user (Finding), and the verdict with one next action (Verdict). The functions
// here are pure: they turn observations into findings and a verdict, so every failure row of
// docs/field-notes.md#network-triage is table-tested without a socket. The orchestration that
// gathers observations is in triage.hpp.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "goinstall/base/error.hpp"
#include "goinstall/net/proxy_url.hpp"
#include "goinstall/triage/probes.hpp"

namespace goinstall::triage {

// The layers, in the order they are shown.
enum class Layer { config, local, dns, tcp, proxy, tls, clock, http, throughput };
const char* to_string(Layer layer); // "config", "dns", ...

enum class Mark { ok, warn, fail, skipped };
const char* to_string(Mark mark); // "ok", "warn", "fail", "skipped"

// Overall outcome: ok (everything works), degraded (works, but something is wrong or slow),
// failed (some role — the index or the mirrors — has no working target).
enum class Health { ok, degraded, failed };
const char* to_string(Health health);

// One row of the report.
struct Finding {
    Layer layer = Layer::config;
    Mark status = Mark::ok;
    std::string target; // "mirror.test", "127.0.0.1:443", "" for the machine itself
    Millis elapsed{0};
    std::string summary; // one line; never a password
    std::vector<std::pair<std::string, std::string>> facts;
};

struct Verdict {
    std::string code; // stable identifier: "ok", "dns_nxdomain", "tls_interception", ...
    Health health = Health::ok;
    std::string title;  // what is wrong, one or two sentences
    std::string action; // the one next step: an exact flag, variable or command
};

// index and mirror make the release-index route, goproxy and sumdb the toolchain-module route (a
// module proxy's @v/list, a checksum database's /latest or its proxy's sumdb/<name>/supported).
enum class Role { index, mirror, url, goproxy, sumdb };
const char* to_string(Role role);

struct Target {
    std::string label; // "index", "mirror aliyun", or the URL (redacted) for a URL given by hand
    std::string url;   // may hold credentials: never shown, only redact_url(url)
    Role role = Role::url;
    bool secure_only = false; // fetched as the release index is: https only, no redirect to http
};

// The HTTP check: one GET of the target URL through the same transport and proxy as a real
// request, reading a short sample of the body (which also measures throughput).
struct HttpObservation {
    bool attempted = false;
    bool transport_failed = false; // no HTTP answer: see error_*
    ErrorCode error_code = ErrorCode::network;
    NetPhase phase = NetPhase::none;
    int curl_code = 0;
    std::string error; // redacted, one line
    long status = 0;
    std::string content_type;
    std::string location;      // redacted
    std::string effective_url; // redacted, after redirects
    std::string snippet;       // the error body, sanitized, ≤ 160 bytes
    std::optional<std::uint64_t> retry_after_seconds;
    std::optional<std::int64_t> server_date; // unix seconds, from the Date header
    Millis elapsed{0};
    // Throughput sample (2xx only).
    std::uint64_t sample_bytes = 0;
    Millis sample_time{0};
    bool sample_complete = false; // the whole body fitted in the sample
    double bytes_per_second = 0;
};

// The server's own clock, read from the Date header over a TLS connection whose certificate is
// not checked (only the date is used), when verification failed and the HTTP check could not say.
struct ClockObservation {
    bool attempted = false;
    std::string source;                      // host the date came from
    std::optional<std::int64_t> server_date; // unix seconds
    std::string error;
    Millis elapsed{0};
};

struct TargetObservation {
    Target target;
    std::string host; // lowercase, IPv6 without brackets; "" for file:// and paths
    int port = 0;
    bool https = false;
    bool local_file = false; // file:// or a path: nothing to probe
    // Configuration: the proxy the transport would use for this URL, and why.
    std::optional<ProxySpec> proxy; // holds the password: only display() is ever shown
    std::string proxy_source;
    std::string proxy_reason;
    std::optional<ProxyHopResult> proxy_hop;
    std::optional<DnsResult> dns_system;
    std::vector<DnsResult> dns_direct; // one per nameserver in resolv.conf
    std::vector<TcpResult> tcp;
    std::optional<TlsResult> tls;
    ClockObservation clock;
    HttpObservation http;
    bool incomplete = false; // the time budget ran out before every layer was checked
};

struct CaptiveObservation {
    bool attempted = false;
    std::string url;         // redacted
    std::string skipped_why; // when not attempted
    long status = 0;
    std::string final_url; // redacted, after redirects
    bool portal = false;   // redirected elsewhere, or not the expected 204
    std::string error;
    std::optional<std::int64_t> server_date;
    Millis elapsed{0};
    // When the probe failed: its host name as the system resolver answers it now (a public name that
    // does not resolve either says the DNS, not the targets, is at fault).
    std::string host;
    std::optional<DnsResult> dns;
};

struct ConfigObservation {
    // What was checked with which settings, in order: ("proxy", "HTTPS_PROXY=http://p:3128"),
    // ("CA", "system store + --cacert /x.pem"), ("index", URL), ("mirrors", "a, b")...
    std::vector<std::pair<std::string, std::string>> settings;
    std::vector<std::string> notes; // warnings about the configuration itself
    std::string cacert;             // --cacert, when given
};

struct Observations {
    ConfigObservation config;
    std::vector<TargetObservation> targets;
    CaptiveObservation captive;
    std::optional<LocalContext> local;
    Millis local_elapsed{0};
    std::int64_t local_time = 0; // unix seconds when triage ran
    bool budget_exhausted = false;
    Millis budget{0};
};

struct TriageReport {
    std::vector<Finding> findings;
    Verdict verdict;
    Millis elapsed{0};
    bool budget_exhausted = false;
    Millis budget{0};
    std::vector<std::pair<std::string, std::string>> settings; // as in ConfigObservation
};

// ---- pure functions -------------------------------------------------------------------------

// True when the target answered the HTTP check with 2xx.
bool target_ok(const TargetObservation& t);

// ok / degraded / failed as defined at Health.
Health overall_health(const Observations& obs);

// The verdict: the most basic failure explains the rest (captive portal, proxy, interception,
// clock, DNS, TCP, TLS, HTTP, throughput), looked for first on targets whose role has no working
// target at all. Names the resolver, proxy (without password), issuer or status it is about.
Verdict decide_verdict(const Observations& obs);

// The table rows, in layer order per target.
std::vector<Finding> build_findings(const Observations& obs);

// findings + verdict + the settings, ready to render.
TriageReport make_report(const Observations& obs, Millis elapsed);

// The clock skew (local - server, seconds) agreed by the observations: the median of every server
// date seen. nullopt when no server sent a date.
std::optional<std::int64_t> clock_skew(const Observations& obs);

// "25 years", "3 h", "42 min", "12 s".
std::string describe_duration(std::int64_t seconds);
// "2001-02-03 04:05:06 UTC".
std::string format_utc(std::int64_t unix_seconds);
// Parses an HTTP date (IMF-fixdate, RFC 850 and asctime forms, RFC 9110 §5.6.7) to unix seconds.
std::optional<std::int64_t> parse_http_date(std::string_view text);

// Replaces every occurrence of each secret (and its percent-encoded form) in every string of the
// report with "***". Empty secrets are ignored.
void scrub_secrets(TriageReport& report, const std::vector<std::string>& secrets);

} // namespace goinstall::triage
