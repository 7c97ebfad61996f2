// The verdict: observations → what is wrong and the one thing to do about it (pure).
#include <algorithm>

#include "goinstall/base/strings.hpp"
#include "goinstall/triage/report.hpp"
#include "report_text.hpp"
#include "verdict_parts.hpp"

namespace goinstall::triage {

namespace {

// Below this a mirror counts as slow; above ~5 min of skew a clock is wrong (TLS tolerates none of
// it for fresh certificates; Kerberos's default tolerance is 5 min).
constexpr double k_slow_bytes_per_second = 32 * 1024;
constexpr std::int64_t k_skew_warn_seconds = 300;
constexpr std::int64_t k_skew_alone_seconds = 24 * 3600;

} // namespace

std::string other_mirror(const Observations& obs, const TargetObservation* except) {
    for (const auto& t : obs.targets) {
        if (&t != except && t.target.role == Role::mirror && target_ok(t) && !t.local_file) {
            return "--mirror " + mirror_name(t.target);
        }
    }
    return "another mirror (--mirror NAME; 'goinstall mirrors --probe' ranks them)";
}

namespace {

// How to set the proxy URL `fixed` in the place `source` names.
std::string set_proxy_in(const std::string& source, const std::string& fixed) {
    if (source == "--proxy") return "--proxy " + fixed;
    if (source.find("_proxy") != std::string::npos || source.find("_PROXY") != std::string::npos) {
        return "export " + source + "=" + fixed;
    }
    return "set the proxy in " + source + " to " + fixed;
}

std::optional<Verdict> proxy_verdict(const TargetObservation& t) {
    if (!t.proxy || !t.proxy_hop || t.proxy_hop->status == ProxyHopStatus::ok) return std::nullopt;
    const auto& hop = *t.proxy_hop;
    const std::string p = t.proxy->display();
    const std::string src = t.proxy_source.empty() ? "the configuration" : t.proxy_source;
    const std::string dest = t.host + ":" + std::to_string(t.port);
    // An https:// proxy that never completes the TLS handshake is, nearly always, a plain-HTTP proxy
    // written with the wrong scheme (docs/field-notes.md#proxies): some answer the ClientHello with
    // an HTTP error (curl: "wrong version number"), others wait for a request line that never comes.
    const bool https_silent =
        t.proxy->scheme == ProxyScheme::https &&
        (hop.status == ProxyHopStatus::timeout || hop.status == ProxyHopStatus::closed ||
         (hop.status == ProxyHopStatus::error && to_lower(hop.detail).find("tls") != std::string::npos));
    if (hop.status == ProxyHopStatus::tls_to_plain || https_silent) {
        ProxySpec fixed = *t.proxy;
        fixed.scheme = ProxyScheme::http;
        return failed_verdict(
            "proxy_scheme",
            "The proxy " + p + " (from " + src + ") " +
                (hop.status == ProxyHopStatus::tls_to_plain
                     ? "speaks plain HTTP, but its URL says https://, so the TLS handshake with it fails "
                       "(\"wrong version number\")."
                     : "accepts the connection but never completes the TLS handshake its https:// URL asks for: "
                       "it is most likely a plain-HTTP proxy."),
            "Write it with http://: " + set_proxy_in(src, fixed.display()));
    }
    if ((hop.status == ProxyHopStatus::bad_status || hop.status == ProxyHopStatus::auth_required) &&
        (hop.http_status == 401 || hop.http_status == 407)) {
        // Some proxies (tinyproxy) answer a CONNECT with wrong credentials 401 rather than 407.
        std::string schemes;
        for (const auto& s : hop.auth_schemes) schemes += (schemes.empty() ? "" : ", ") + s;
        std::string title = "The proxy " + p + " (from " + src + ") requires authentication (HTTP " +
                            std::to_string(hop.http_status) + (schemes.empty() ? "" : ", " + schemes) + ")";
        if (t.proxy->has_credentials()) {
            return failed_verdict(
                "proxy_auth", title + " and refused the credentials given for user '" + t.proxy->user + "'.",
                "Check the user name and password: --proxy-user USER:PASSWORD (the password is never printed); "
                "for NTLM/Kerberos proxies try --proxy-auth ntlm or negotiate");
        }
        return failed_verdict("proxy_auth", title + ", and no credentials were given.",
                              "Give credentials: --proxy-user USER:PASSWORD (or user:password@ in " + src +
                                  "; the password is never printed)");
    }
    switch (hop.status) {
    case ProxyHopStatus::auth_required:
        return failed_verdict("proxy_auth", "The proxy " + p + " (from " + src + ") requires authentication.",
                              "Give credentials: --proxy-user USER:PASSWORD (the password is never printed)");
    case ProxyHopStatus::forbidden:
        if (t.port != 443) {
            // squid's stock configuration allows CONNECT to port 443 only (its SSL_ports rule).
            return failed_verdict("proxy_forbidden",
                                  "The proxy " + p + " refuses to open a tunnel to " + dest +
                                      " (CONNECT answered 403): it may only allow tunnels to port 443 "
                                      "(squid's stock SSL_ports rule), and this server is on port " +
                                      std::to_string(t.port) + ".",
                                  "Use a mirror on port 443, ask the proxy's administrators to allow port " +
                                      std::to_string(t.port) + " for " + t.host +
                                      ", or bypass the proxy for it: --noproxy-hosts " + t.host +
                                      " (if direct access is allowed)");
        }
        return failed_verdict(
            "proxy_forbidden", "The proxy " + p + " refuses to open a tunnel to " + dest + " (CONNECT answered 403).",
            "Ask the proxy's administrators to allow " + t.host + ", or bypass the proxy for it: --noproxy-hosts " +
                t.host + " (if direct access is allowed)");
    case ProxyHopStatus::unresolvable:
        return failed_verdict("proxy_unresolvable",
                              "The proxy host '" + t.proxy->host + "' (from " + src + ") does not resolve.",
                              "Correct the proxy host name in " + src + ", or connect directly with --no-proxy");
    case ProxyHopStatus::unreachable: {
        std::string how = hop.tcp ? std::string(" (") + to_string(hop.tcp->status) + ")" : "";
        return failed_verdict("proxy_unreachable", "Nothing answers at the proxy " + p + how + " (from " + src + ").",
                              "Check that the proxy runs and the host:port in " + src +
                                  " is right, or connect directly with --no-proxy");
    }
    case ProxyHopStatus::closed:
        return failed_verdict(
            "proxy_closed", "The proxy " + p + " closed the connection without answering the CONNECT to " + dest + ".",
            "The proxy may block " + t.host +
                " or want another authentication method: try --proxy-auth ntlm, "
                "or ask its administrators");
    case ProxyHopStatus::timeout:
        return failed_verdict(
            "proxy_timeout",
            "The proxy " + p + " accepted the connection but never answered the CONNECT to " + dest + ".",
            "Check the proxy (is " + p + " really an HTTP proxy?), or connect directly with --no-proxy");
    case ProxyHopStatus::bad_status:
        return failed_verdict("proxy_bad_status",
                              "The proxy " + p + " answered the CONNECT to " + dest + " with HTTP " +
                                  std::to_string(hop.http_status) + ".",
                              "Ask the proxy's administrators why " + t.host + " is refused, or try --no-proxy");
    case ProxyHopStatus::tls_to_plain:
    case ProxyHopStatus::error:
    case ProxyHopStatus::ok: break;
    }
    return failed_verdict("proxy_error", "The proxy " + p + " failed: " + sanitize_for_display(hop.detail, 160) + ".",
                          "Check the proxy setting in " + src + ", or try --no-proxy");
}

bool tls_time_error(const TargetObservation& t) {
    if (t.tls && (t.tls->status == TlsStatus::expired || t.tls->status == TlsStatus::not_yet_valid)) return true;
    const std::string e = to_lower(t.http.error);
    return t.http.transport_failed && t.http.phase == NetPhase::tls &&
           (e.find("expired") != std::string::npos || e.find("not yet valid") != std::string::npos);
}

std::optional<Verdict> clock_verdict(const Observations& obs) {
    auto skew = clock_skew(obs);
    if (!skew) return std::nullopt;
    const std::int64_t mag = *skew < 0 ? -*skew : *skew;
    bool time_errors = std::any_of(obs.targets.begin(), obs.targets.end(), tls_time_error);
    bool any_failed =
        std::any_of(obs.targets.begin(), obs.targets.end(), [](const TargetObservation& t) { return !target_ok(t); });
    if (!((time_errors && mag >= k_skew_warn_seconds) || (any_failed && mag >= k_skew_alone_seconds))) {
        return std::nullopt;
    }
    const std::string dir = *skew > 0 ? "ahead" : "behind";
    return failed_verdict("clock_skew",
                          "This machine's clock is " + describe_duration(mag) + " " + dir + " (local " +
                              format_utc(obs.local_time) + ", servers say " + format_utc(obs.local_time - *skew) +
                              "), so valid certificates look expired or not yet valid.",
                          "Fix the clock: sudo timedatectl set-ntp true (or sudo date -u -s '" +
                              format_utc(obs.local_time - *skew) + "')");
}

std::optional<Verdict> tcp_verdict(const Observations& obs, const TargetObservation& t) {
    if (t.proxy || t.tcp.empty()) return std::nullopt;
    if (std::any_of(t.tcp.begin(), t.tcp.end(), [](const TcpResult& r) { return r.status == TcpStatus::connected; })) {
        return std::nullopt;
    }
    const std::string dest = t.host + ":" + std::to_string(t.port);
    auto all = [&](TcpStatus s) {
        return std::all_of(t.tcp.begin(), t.tcp.end(), [&](const TcpResult& r) { return r.status == s; });
    };
    if (all(TcpStatus::refused)) {
        return failed_verdict("tcp_refused",
                              dest + " refused the connection (" + addresses_of(t) +
                                  "): nothing listens there, or a firewall rejects it.",
                              "Check the port in " + url_source(t.target) +
                                  "; if it is right the server is down: try " + other_mirror(obs, &t));
    }
    if (all(TcpStatus::timeout)) {
        return failed_verdict(
            "tcp_dropped",
            "Connections to " + dest + " (" + addresses_of(t) +
                ") get no answer: a firewall drops them, or the host is down.",
            "If this network needs a proxy, set it: --proxy http://PROXY:PORT (or HTTPS_PROXY); otherwise try " +
                other_mirror(obs, &t));
    }
    bool no_route = obs.local && obs.local->default_routes.empty();
    if (std::any_of(t.tcp.begin(), t.tcp.end(),
                    [](const TcpResult& r) { return r.status == TcpStatus::unreachable; })) {
        return failed_verdict(no_route ? "no_route" : "tcp_unreachable",
                              "No route to " + dest + " (" + addresses_of(t) + ")" +
                                  (no_route ? ": this machine has no default route (not connected?)." : "."),
                              no_route
                                  ? "Connect to a network; 'ip route' should show a default route"
                                  : "Check the network connection and routes: ip route get " + t.tcp.front().address);
    }
    return failed_verdict("tcp_failed", "Connecting to " + dest + " failed (" + addresses_of(t) + ").",
                          "Check the network connection, or try " + other_mirror(obs, &t));
}

std::optional<Verdict> http_verdict(const Observations& obs, const TargetObservation& t) {
    const auto& h = t.http;
    if (!h.attempted) return std::nullopt;
    const std::string via = t.proxy ? " through the proxy " + t.proxy->display() : "";
    if (h.transport_failed) {
        if (h.error_code == ErrorCode::proxy_auth && t.proxy) {
            const std::string title = "The proxy " + t.proxy->display() + " (from " + t.proxy_source + ") ";
            if (t.proxy->has_credentials()) {
                return failed_verdict("proxy_auth",
                                      title + "refused the credentials given for user '" + t.proxy->user + "'.",
                                      "Check the user name and password: --proxy-user USER:PASSWORD (the password is "
                                      "never printed)");
            }
            return failed_verdict("proxy_auth", title + "requires authentication, and no credentials were given.",
                                  "Give credentials: --proxy-user USER:PASSWORD (the password is never printed)");
        }
        if (h.error_code == ErrorCode::tls || h.phase == NetPhase::tls) {
            return failed_verdict("tls_failed", "TLS with " + t.host + via + " failed: " + h.error + ".",
                                  t.proxy
                                      ? "If the proxy inspects HTTPS, pass its CA certificate: --cacert FILE"
                                      : "If you trust the certificate's issuer, pass it with --cacert FILE; else try " +
                                            other_mirror(obs, &t));
        }
        if (h.phase == NetPhase::body) {
            return failed_verdict("http_stalled",
                                  t.host + via + " stopped sending in the middle of the body: " + h.error + ".",
                                  "Run the same command again (the download resumes), or try " + other_mirror(obs, &t));
        }
        return failed_verdict("http_transport", "Fetching from " + t.host + via + " failed: " + h.error + ".",
                              t.proxy ? "Check the proxy (goinstall proxy " + redact_url_short(t.target.url) +
                                            "), or try --no-proxy"
                                      : "Try " + other_mirror(obs, &t));
    }
    const long s = h.status;
    if (s == 0 || (s >= 200 && s < 300)) return std::nullopt;
    const std::string what = t.host + via + " answered HTTP " + std::to_string(s);
    const bool html = h.content_type.find("html") != std::string::npos;
    if (s == 403) {
        return failed_verdict(
            html ? "http_blocked" : "http_forbidden",
            what +
                (html ? " with an HTML page: a web application firewall, or access from your region is blocked"
                      : ": access is refused") +
                (h.snippet.empty() ? "" : " (\"" + h.snippet + "\")") + ".",
            "Use " + other_mirror(obs, &t));
    }
    if (s == 404 || s == 410) {
        return failed_verdict("http_missing",
                              t.target.role == Role::mirror
                                  ? "The mirror " + mirror_name(t.target) + " does not have the file (HTTP " +
                                        std::to_string(s) + ")."
                                  : what + ": the URL does not exist there.",
                              t.target.role == Role::mirror ? "Use " + other_mirror(obs, &t)
                                                            : "Check the URL in " + url_source(t.target));
    }
    if (s == 429) {
        std::string wait = h.retry_after_seconds ? std::to_string(*h.retry_after_seconds) + " s" : "a while";
        return failed_verdict("http_rate_limited",
                              what + ": it is rate-limiting this address (Retry-After: " + wait + ").",
                              "Wait " + wait + " and run the command again, or use " + other_mirror(obs, &t));
    }
    if (s == 407) {
        return failed_verdict("proxy_auth", what + ": a proxy requires authentication.",
                              "Give credentials: --proxy-user USER:PASSWORD (the password is never printed)");
    }
    if (s >= 500) {
        return failed_verdict("http_server_error",
                              what + ": the server is failing" + (h.snippet.empty() ? "" : " (\"" + h.snippet + "\")") +
                                  ".",
                              "Retry later, or use " + other_mirror(obs, &t));
    }
    return failed_verdict("http_status", what + (h.snippet.empty() ? "" : " (\"" + h.snippet + "\")") + ".",
                          "Check the URL in " + url_source(t.target) + ", or use " + other_mirror(obs, &t));
}

std::optional<Verdict> target_verdict(const Observations& obs, const TargetObservation& t) {
    if (t.local_file || target_ok(t)) return std::nullopt;
    if (auto x = proxy_verdict(t)) return x;
    if (auto x = dns_verdict(obs, t)) return x;
    if (auto x = tcp_verdict(obs, t)) return x;
    if (auto x = tls_verdict(obs, t)) return x;
    if (auto x = http_verdict(obs, t)) return x;
    if (t.incomplete) {
        return failed_verdict("incomplete",
                              "Triage ran out of time (" + std::to_string(obs.budget.count() / 1000) +
                                  " s) before it found why " + t.host + " fails.",
                              "Give it longer: goinstall doctor --triage-timeout 30");
    }
    return failed_verdict(
        "unexplained", t.host + " failed, but every check passes now: the failure may be intermittent.",
        "Run the same command again; if it keeps failing, attach 'goinstall doctor --json' to a bug report");
}

std::optional<Verdict> degraded_verdict(const Observations& obs) {
    for (const auto& t : obs.targets) {
        bool v4 = false, v6_failed = false, v6_ok = false;
        for (const auto& r : t.tcp) {
            if (!r.ipv6 && r.status == TcpStatus::connected) v4 = true;
            if (r.ipv6) (r.status == TcpStatus::connected ? v6_ok : v6_failed) = true;
        }
        if (v4 && v6_failed && !v6_ok) {
            return Verdict{
                "ipv6_broken", Health::degraded,
                "IPv6 is broken on this network, IPv4 works (" + t.host + " over IPv6: " + ipv6_failure(t) +
                    "); every connection loses time trying IPv6 first.",
                "Fix the IPv6 route, or prefer IPv4: echo 'precedence ::ffff:0:0/96 100' | sudo tee -a /etc/gai.conf"};
        }
    }
    for (const auto& t : obs.targets) {
        const auto& h = t.http;
        if (target_ok(t) && !h.sample_complete && h.sample_bytes > 0 && h.bytes_per_second < k_slow_bytes_per_second) {
            return Verdict{"slow_mirror", Health::degraded,
                           t.host + " is slow: " + human_bytes(static_cast<std::uint64_t>(h.bytes_per_second)) + "/s.",
                           "Rank the mirrors and pick a faster one: goinstall mirrors --probe, then --mirror NAME (or "
                           "--mirror auto)"};
        }
    }
    if (auto skew = clock_skew(obs); skew && (*skew > k_skew_warn_seconds || *skew < -k_skew_warn_seconds)) {
        return Verdict{"clock_skew", Health::degraded,
                       "This machine's clock is " + describe_duration(*skew < 0 ? -*skew : *skew) +
                           (*skew > 0 ? " ahead" : " behind") +
                           " of the servers'; certificates may soon fail to verify.",
                       "Fix the clock: sudo timedatectl set-ntp true"};
    }
    return std::nullopt;
}

} // namespace

Verdict decide_verdict(const Observations& obs) {
    const Health health = overall_health(obs);
    auto with_health = [&](Verdict x) {
        x.health = health;
        return note_working_route(obs, std::move(x));
    };
    if (obs.captive.portal) {
        std::string where = obs.captive.final_url.empty() ? obs.captive.url : obs.captive.final_url;
        return with_health(failed_verdict(
            "captive_portal",
            "This network sends web requests to a login page (captive portal): " + obs.captive.url + " answered " +
                (obs.captive.status ? "HTTP " + std::to_string(obs.captive.status) : "") + " from " + where + ".",
            "Open " + where + " in a browser and log in (or accept the terms), then run the command again"));
    }
    for (const auto& t : obs.targets) {
        if (!target_ok(t) && !t.local_file) {
            if (auto x = proxy_verdict(t)) return with_health(*x);
        }
    }
    if (auto x = interception_verdict(obs)) return with_health(*x);
    if (auto x = clock_verdict(obs)) return with_health(*x);
    if (auto x = no_public_dns_verdict(obs)) return with_health(*x);
    // Targets whose role has no working target first: they are why the command failed.
    std::vector<const TargetObservation*> order;
    for (int pass = 0; pass < 2; ++pass) {
        for (const auto& t : obs.targets) {
            if (failure_matters(obs, t) && role_dead(obs, t.target.role) == (pass == 0)) order.push_back(&t);
        }
    }
    for (const auto* t : order) {
        if (auto x = target_verdict(obs, *t)) return with_health(*x);
    }
    if (auto x = degraded_verdict(obs)) return with_health(*x);
    if (health != Health::ok) {
        return with_health(failed_verdict("unexplained", "Something is degraded, but no single cause was found.",
                                          "See the rows marked warn above"));
    }
    return Verdict{"ok", Health::ok, "Every check passed: the network path to every target works.",
                   "Nothing to fix; if a command failed just now, run it again (the failure was transient)"};
}

} // namespace goinstall::triage
