// The TLS verdicts (pure): interception by an inspecting proxy or security product, seen across
// targets, and one target's own certificate or handshake failure.
#include <map>
#include <set>

#include "goinstall/base/strings.hpp"
#include "report_text.hpp"
#include "verdict_parts.hpp"

namespace goinstall::triage {

namespace {

// " (seen through the proxy P)" for a target reached through a proxy's tunnel, "" otherwise.
std::string through(const TargetObservation& t) {
    return t.proxy ? " (seen through the proxy " + t.proxy->display() + ")" : "";
}

// The hosts whose certificate, all from one untrusted issuer, failed to verify.
struct IssuerSeen {
    std::set<std::string> hosts;
    std::vector<std::string> proxies; // "P (from SRC)" for each proxy whose tunnel showed it
    bool reissued = false;            // some leaf is not self-signed (issuer != subject)
};

} // namespace

std::optional<Verdict> interception_verdict(const Observations& obs) {
    std::map<std::string, IssuerSeen> by_issuer;
    for (const auto& t : obs.targets) {
        if (!t.tls || t.tls->issuer.empty()) continue;
        if (t.tls->status != TlsStatus::untrusted && t.tls->status != TlsStatus::name_mismatch) continue;
        IssuerSeen& seen = by_issuer[t.tls->issuer];
        seen.hosts.insert(t.host);
        seen.reissued = seen.reissued || t.tls->issuer != t.tls->subject;
        if (t.proxy) {
            std::string p =
                t.proxy->display() + " (from " + (t.proxy_source.empty() ? "the configuration" : t.proxy_source) + ")";
            if (std::find(seen.proxies.begin(), seen.proxies.end(), p) == seen.proxies.end()) seen.proxies.push_back(p);
        }
    }
    for (const auto& [issuer, seen] : by_issuer) {
        // Through a proxy one host is enough: an inspecting proxy answers the handshake itself with a
        // certificate its own CA issued for the host (a self-signed leaf is the server's own).
        const bool via_proxy = !seen.proxies.empty() && seen.reissued;
        if (seen.hosts.size() < 2 && !via_proxy) continue;
        const std::string list = join(std::vector<std::string>(seen.hosts.begin(), seen.hosts.end()), ", ");
        if (via_proxy) {
            return failed_verdict(
                "tls_interception",
                "HTTPS through the proxy " + join(seen.proxies, ", ") +
                    " is intercepted: a TLS-inspecting proxy (issuer: " + issuer + ") answers for " + list +
                    " with certificates signed by its own CA, which is not trusted.",
                "Pass its CA certificate: --cacert /path/to/its-ca.pem (or GOINSTALL_CACERT); export it from the proxy "
                "(the CA that issued '" +
                    issuer + "') or ask IT for it");
        }
        return failed_verdict("tls_interception",
                              "The certificates of unrelated hosts (" + list + ") are all issued by '" + issuer +
                                  "', which is not trusted: a TLS-inspecting proxy or security product (issuer: " +
                                  issuer + ") is intercepting HTTPS.",
                              "Pass its CA certificate: --cacert /path/to/its-ca.pem (or GOINSTALL_CACERT); export it "
                              "from the security product or ask IT for it");
    }
    return std::nullopt;
}

std::optional<Verdict> tls_verdict(const Observations& obs, const TargetObservation& t) {
    if (!t.tls || t.tls->status == TlsStatus::ok || t.tls->status == TlsStatus::connect_failed) return std::nullopt;
    const auto& r = *t.tls;
    const std::string issuer = r.issuer.empty() ? "an unknown issuer" : "'" + r.issuer + "'";
    switch (r.status) {
    case TlsStatus::stalled:
        return failed_verdict(
            "tls_stalled",
            "TCP to " + t.host +
                " connects, but the TLS handshake stalls after the ClientHello: a path "
                "MTU black hole or deep packet inspection is dropping it.",
            "Try a smaller MTU (sudo ip link set dev IFACE mtu 1400), or go through a proxy or VPN (--proxy URL)");
    case TlsStatus::untrusted:
        return failed_verdict(
            "tls_untrusted",
            t.host + "'s certificate" + through(t) + ", issued by " + issuer + ", is not trusted (" +
                sanitize_for_display(r.verify_text, 100) + ").",
            "If you trust that issuer (a company CA, a security product), pass its certificate: --cacert FILE");
    case TlsStatus::expired:
        return failed_verdict(
            "tls_expired",
            t.host + "'s certificate expired" + (r.not_after ? " on " + format_utc(*r.not_after) : std::string()) +
                " (issuer " + issuer + ").",
            "The server's certificate is out of date: use " + other_mirror(obs, &t) + " and tell its operators");
    case TlsStatus::not_yet_valid:
        return failed_verdict("tls_not_yet_valid",
                              t.host + "'s certificate is valid only from " +
                                  (r.not_before ? format_utc(*r.not_before) : std::string("a later date")) +
                                  "; local time is " + format_utc(obs.local_time) + ".",
                              "Check this machine's clock (date -u); if it is behind: sudo timedatectl set-ntp true");
    case TlsStatus::name_mismatch:
        return failed_verdict("tls_name_mismatch",
                              t.host + "'s certificate is for '" + sanitize_for_display(r.subject, 100) + "', not " +
                                  t.host + " (issuer " + issuer + ").",
                              "Check the host name in " + url_source(t.target) +
                                  "; if a security product intercepts HTTPS, pass its CA with --cacert FILE");
    case TlsStatus::not_tls:
        return failed_verdict("tls_not_tls",
                              t.host + ":" + std::to_string(t.port) +
                                  " answers, but not with TLS (plain HTTP on an "
                                  "https:// URL?).",
                              "Use http:// or the right port in " + url_source(t.target));
    case TlsStatus::handshake_failed:
    case TlsStatus::ok:
    case TlsStatus::connect_failed: break;
    }
    return failed_verdict("tls_handshake",
                          "The TLS handshake with " + t.host + " failed: " + sanitize_for_display(r.detail, 120) + ".",
                          "The server and this machine share no TLS version or cipher, or something interferes: try " +
                              other_mirror(obs, &t));
}
} // namespace goinstall::triage
