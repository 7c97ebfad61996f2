// The report model's small pure helpers: names, health, clock skew, dates, secret scrubbing.
#include <algorithm>
#include <cctype>
#include <cstring>
#include <ctime>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/triage/report.hpp"
#include "report_text.hpp"

namespace goinstall::triage {

const char* to_string(Layer layer) {
    switch (layer) {
    case Layer::config: return "config";
    case Layer::local: return "local";
    case Layer::dns: return "dns";
    case Layer::tcp: return "tcp";
    case Layer::proxy: return "proxy";
    case Layer::tls: return "tls";
    case Layer::clock: return "clock";
    case Layer::http: return "http";
    case Layer::throughput: return "throughput";
    }
    return "config";
}

const char* to_string(Mark mark) {
    switch (mark) {
    case Mark::ok: return "ok";
    case Mark::warn: return "warn";
    case Mark::fail: return "fail";
    case Mark::skipped: return "skipped";
    }
    return "ok";
}

const char* to_string(Health health) {
    switch (health) {
    case Health::ok: return "ok";
    case Health::degraded: return "degraded";
    case Health::failed: return "failed";
    }
    return "failed";
}

const char* to_string(Role role) {
    switch (role) {
    case Role::index: return "index";
    case Role::mirror: return "mirror";
    case Role::url: return "url";
    case Role::goproxy: return "goproxy";
    case Role::sumdb: return "sumdb";
    }
    return "url";
}

std::string mirror_name(const Target& t) {
    if (t.label.starts_with("mirror ")) return t.label.substr(7);
    return t.label;
}

std::string url_source(const Target& t) {
    switch (t.role) {
    case Role::index: return "--index-url";
    case Role::mirror: return "--mirror";
    case Role::goproxy: return "--goproxy";
    case Role::sumdb: return "--gosumdb";
    case Role::url: break;
    }
    return "the URL";
}

bool is_localhost_name(std::string_view host) { return host == "localhost" || host.ends_with(".localhost"); }

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
    return out;
}

std::string describe_tcp(const TcpResult& r) {
    switch (r.status) {
    case TcpStatus::connected: return "connected in " + std::to_string(r.elapsed.count()) + " ms";
    case TcpStatus::refused: return "refused";
    case TcpStatus::timeout: return "no answer within " + std::to_string(r.elapsed.count()) + " ms";
    case TcpStatus::unreachable:
        return r.os_errno ? std::string("unreachable (") + std::strerror(r.os_errno) + ")" : "unreachable";
    case TcpStatus::error: break;
    }
    return r.os_errno ? std::string("error (") + std::strerror(r.os_errno) + ")" : "error";
}

std::string addresses_of(const TargetObservation& t) {
    std::vector<std::string> parts;
    for (const auto& r : t.tcp) {
        std::string s = describe_tcp(r);
        if (r.status == TcpStatus::timeout) s = "timed out";
        parts.push_back(r.address + " " + s);
    }
    return join(parts, ", ");
}

std::string ipv6_failure(const TargetObservation& t) {
    for (const auto& r : t.tcp) {
        if (r.ipv6 && r.status != TcpStatus::connected) return to_string(r.status);
    }
    return "failed";
}

std::string redact_url_short(const std::string& url) { return redact_url(url); }

bool target_ok(const TargetObservation& t) {
    if (t.local_file) return true;
    return t.http.attempted && !t.http.transport_failed && t.http.status >= 200 && t.http.status < 300;
}

bool has_role(const Observations& obs, Role role) {
    return std::any_of(obs.targets.begin(), obs.targets.end(),
                       [&](const TargetObservation& t) { return t.target.role == role; });
}

bool failure_matters(const Observations& obs, const TargetObservation& t) {
    return t.target.role != Role::sumdb || role_dead(obs, Role::sumdb);
}

bool module_route_works(const Observations& obs) {
    return has_role(obs, Role::goproxy) && !role_dead(obs, Role::goproxy) && !role_dead(obs, Role::sumdb);
}

bool role_dead(const Observations& obs, Role role) {
    bool any = false;
    for (const auto& t : obs.targets) {
        if (t.target.role != role) continue;
        any = true;
        if (target_ok(t)) return false;
    }
    return any;
}

std::optional<std::int64_t> clock_skew(const Observations& obs) {
    std::vector<std::int64_t> dates;
    for (const auto& t : obs.targets) {
        if (t.http.server_date)
            dates.push_back(*t.http.server_date);
        else if (t.clock.server_date)
            dates.push_back(*t.clock.server_date);
    }
    if (obs.captive.server_date) dates.push_back(*obs.captive.server_date);
    if (dates.empty()) return std::nullopt;
    std::sort(dates.begin(), dates.end());
    return obs.local_time - dates[dates.size() / 2];
}

Health overall_health(const Observations& obs) {
    if (obs.captive.portal) return Health::failed;
    if (role_dead(obs, Role::url)) return Health::failed;
    // Either route is enough to install: the index with its mirrors, or the module proxy with a
    // checksum database. A route that was not checked (no target of its roles) does not count.
    const bool index_route_dead = role_dead(obs, Role::index) || role_dead(obs, Role::mirror);
    const bool module_route_checked =
        std::any_of(obs.targets.begin(), obs.targets.end(),
                    [](const TargetObservation& t) { return t.target.role == Role::goproxy; });
    if (index_route_dead && !module_route_works(obs)) return Health::failed;
    if (module_route_checked && !module_route_works(obs) && !has_role(obs, Role::index) &&
        !has_role(obs, Role::mirror)) {
        return Health::failed;
    }
    bool degraded = std::any_of(obs.targets.begin(), obs.targets.end(),
                                [&](const TargetObservation& t) { return !target_ok(t) && failure_matters(obs, t); });
    for (const auto& t : obs.targets) {
        bool v4 = false, v6_failed = false, v6_ok = false;
        for (const auto& r : t.tcp) {
            if (!r.ipv6 && r.status == TcpStatus::connected) v4 = true;
            if (r.ipv6) (r.status == TcpStatus::connected ? v6_ok : v6_failed) = true;
        }
        if (v4 && v6_failed && !v6_ok) degraded = true;
        const auto& h = t.http;
        if (target_ok(t) && !h.sample_complete && h.sample_bytes > 0 && h.bytes_per_second < 32 * 1024) degraded = true;
    }
    if (auto skew = clock_skew(obs); skew && (*skew > 300 || *skew < -300)) degraded = true;
    return degraded ? Health::degraded : Health::ok;
}

std::string describe_duration(std::int64_t s) {
    if (s < 0) s = -s;
    const std::int64_t year = 365 * 86400;
    if (s >= 2 * year) return std::to_string(s / year) + " years";
    if (s >= 2 * 86400) return std::to_string(s / 86400) + " days";
    if (s >= 2 * 3600) return std::to_string(s / 3600) + " h";
    if (s >= 120) return std::to_string(s / 60) + " min";
    return std::to_string(s) + " s";
}

std::string format_utc(std::int64_t unix_seconds) {
    auto t = static_cast<std::time_t>(unix_seconds);
    std::tm tm{};
    if (::gmtime_r(&t, &tm) == nullptr) return "?";
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

namespace {

std::optional<std::int64_t> try_format(std::string_view text, const char* fmt) {
    std::string s(text);
    std::tm tm{};
    const char* end = ::strptime(s.c_str(), fmt, &tm);
    if (end == nullptr || !trim(end).empty()) return std::nullopt;
    // RFC 850's two-digit years: strptime's %y already maps 69-99 to 19xx and 00-68 to 20xx.
    return static_cast<std::int64_t>(::timegm(&tm));
}

} // namespace

std::optional<std::int64_t> parse_http_date(std::string_view text) {
    text = trim(text);
    if (text.empty() || text.size() > 64) return std::nullopt;
    for (const char* fmt : {"%a, %d %b %Y %H:%M:%S GMT", "%A, %d-%b-%y %H:%M:%S GMT", "%a %b %e %H:%M:%S %Y"}) {
        if (auto v = try_format(text, fmt)) return v;
    }
    return std::nullopt;
}

namespace {

void scrub(std::string& s, const std::vector<std::string>& secrets) {
    for (const auto& secret : secrets) {
        if (secret.empty()) continue;
        for (auto pos = s.find(secret); pos != std::string::npos; pos = s.find(secret, pos + 3)) {
            s.replace(pos, secret.size(), "***");
        }
    }
}

} // namespace

void scrub_secrets(TriageReport& report, const std::vector<std::string>& raw) {
    std::vector<std::string> secrets;
    for (const auto& s : raw) {
        if (s.empty()) continue;
        secrets.push_back(s);
        std::string enc;
        for (unsigned char c : s) {
            if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
                enc += static_cast<char>(c);
            } else {
                static const char* k_hex = "0123456789ABCDEF";
                enc += '%';
                enc += k_hex[c >> 4];
                enc += k_hex[c & 15];
            }
        }
        if (enc != s) secrets.push_back(enc);
    }
    for (auto& f : report.findings) {
        scrub(f.target, secrets);
        scrub(f.summary, secrets);
        for (auto& [k, val] : f.facts) scrub(val, secrets);
    }
    for (auto& [k, val] : report.settings) scrub(val, secrets);
    scrub(report.verdict.title, secrets);
    scrub(report.verdict.action, secrets);
}

TriageReport make_report(const Observations& obs, Millis elapsed) {
    TriageReport r;
    r.findings = build_findings(obs);
    r.verdict = decide_verdict(obs);
    r.elapsed = elapsed;
    r.budget_exhausted = obs.budget_exhausted;
    r.budget = obs.budget;
    r.settings = obs.config.settings;
    return r;
}

} // namespace goinstall::triage
