// Observations → table rows, one per layer and target (pure).
#include <algorithm>

#include "goinstall/base/strings.hpp"
#include "goinstall/triage/report.hpp"
#include "report_text.hpp"

namespace goinstall::triage {

namespace {

Finding row(Layer layer, Mark status, std::string target, Millis elapsed, std::string summary) {
    return Finding{layer, status, std::move(target), elapsed, std::move(summary), {}};
}

void add_local(const Observations& obs, std::vector<Finding>& out) {
    if (!obs.local) return;
    const auto& l = *obs.local;
    std::vector<std::string> ifs;
    for (const auto& i : l.interfaces) {
        if (i.loopback || !i.up) continue;
        ifs.push_back(i.name + (i.addresses.empty() ? "" : " " + join(i.addresses, " ")));
    }
    std::vector<std::string> routes;
    for (const auto& r : l.default_routes) {
        routes.push_back(std::string(r.ipv6 ? "v6 " : "") + "via " + (r.gateway.empty() ? "-" : r.gateway) + " dev " +
                         r.interface);
    }
    Mark st = Mark::ok;
    std::string summary = "interfaces: " + (ifs.empty() ? std::string("loopback only") : join(ifs, "; "));
    summary += "; default routes: " + (routes.empty() ? std::string("none") : join(routes, ", "));
    std::size_t v4_routes =
        std::count_if(l.default_routes.begin(), l.default_routes.end(), [](const DefaultRoute& r) { return !r.ipv6; });
    if (l.default_routes.empty()) {
        st = Mark::warn;
        summary += " (not connected?)";
    } else if (v4_routes > 1) {
        st = Mark::warn;
        summary += " (several IPv4 default routes: VPN or two networks?)";
    }
    summary += std::string("; IPv6: ") + (l.has_global_ipv6 ? "global address" : "no global address") +
               (l.has_ipv6_default_route ? ", default route" : ", no default route");
    if (!l.container.empty()) summary += "; container: " + l.container;
    Finding f = row(Layer::local, st, "", obs.local_elapsed, summary);
    if (!l.nameservers.empty()) f.facts.emplace_back("nameservers", join(l.nameservers, ", "));
    out.push_back(std::move(f));
}

std::string dns_summary(const DnsResult& d) {
    if (d.status == DnsStatus::ok) return join(d.addresses, ", ");
    std::string s = to_upper_status(d.status);
    if (!d.detail.empty()) s += " (" + sanitize_for_display(d.detail, 100) + ")";
    return s;
}

void add_dns(const TargetObservation& t, std::vector<Finding>& out) {
    if (t.proxy) {
        out.push_back(row(Layer::dns, Mark::skipped, t.host, Millis{0}, "resolved by the proxy"));
        return;
    }
    if (!t.dns_system) {
        if (classify_address(t.host) != AddressClass::invalid) {
            out.push_back(row(Layer::dns, Mark::skipped, t.host, Millis{0}, "an IP address: nothing to resolve"));
        }
        return;
    }
    const auto& sys = *t.dns_system;
    out.push_back(row(Layer::dns, sys.status == DnsStatus::ok ? Mark::ok : Mark::fail, t.host, sys.elapsed,
                      (sys.resolver == "--resolve" ? "pinned by --resolve (no DNS query): " : "system resolver: ") +
                          dns_summary(sys)));
    for (const auto& d : t.dns_direct) {
        Mark st = d.status == DnsStatus::ok ? Mark::ok : Mark::warn;
        std::string s = "nameserver " + d.resolver + ": " + dns_summary(d);
        if (d.status == DnsStatus::ok && !is_localhost_name(t.host) &&
            std::all_of(d.addresses.begin(), d.addresses.end(),
                        [](const std::string& a) { return is_bogon(classify_address(a)); })) {
            st = Mark::fail;
            s += " (" + std::string(to_string(classify_address(d.addresses.front()))) + ": blocked or hijacked)";
        } else if (d.status == DnsStatus::ok && sys.status == DnsStatus::ok &&
                   std::none_of(d.addresses.begin(), d.addresses.end(), [&](const std::string& a) {
                       return std::find(sys.addresses.begin(), sys.addresses.end(), a) != sys.addresses.end();
                   })) {
            st = Mark::warn;
            s += " (differs from the system resolver: /etc/hosts, a local stub, or a CDN)";
        } else if (sys.status != DnsStatus::ok && d.status == sys.status) {
            st = Mark::fail;
        }
        out.push_back(row(Layer::dns, st, t.host, d.elapsed, s));
    }
}

void add_tls(const Observations& obs, const TargetObservation& t, std::vector<Finding>& out) {
    if (!t.tls) return;
    const auto& r = *t.tls;
    if (r.status == TlsStatus::connect_failed) {
        out.push_back(row(Layer::tls, Mark::skipped, t.host, r.elapsed, "no TCP connection"));
        return;
    }
    std::string s;
    if (r.status == TlsStatus::ok) {
        s = r.protocol + ", verified";
    } else {
        s = std::string(to_string(r.status)) +
            (r.verify_text.empty() ? "" : ": " + sanitize_for_display(r.verify_text, 100));
        if (!r.detail.empty() && r.verify_text.empty()) s += ": " + sanitize_for_display(r.detail, 100);
    }
    if (!r.issuer.empty()) s += "; issuer " + sanitize_for_display(r.issuer, 100);
    if (t.proxy) s += "; inside the tunnel through " + t.proxy->display();
    if (r.not_after && r.status != TlsStatus::not_yet_valid) s += "; valid until " + format_utc(*r.not_after);
    if (r.not_before && r.status == TlsStatus::not_yet_valid) s += "; valid from " + format_utc(*r.not_before);
    Finding f = row(Layer::tls, r.status == TlsStatus::ok ? Mark::ok : Mark::fail, t.host, r.elapsed, s);
    if (!r.subject.empty()) f.facts.emplace_back("subject", sanitize_for_display(r.subject, 160));
    (void)obs;
    out.push_back(std::move(f));
}

void add_clock(const Observations& obs, const TargetObservation& t, std::vector<Finding>& out) {
    std::optional<std::int64_t> date = t.http.server_date ? t.http.server_date : t.clock.server_date;
    if (!date) {
        if (t.clock.attempted && !t.clock.error.empty()) {
            out.push_back(row(Layer::clock, Mark::skipped, t.host, t.clock.elapsed, "no Date: " + t.clock.error));
        }
        return;
    }
    std::int64_t skew = obs.local_time - *date;
    bool off = skew > 300 || skew < -300;
    std::string s = "server says " + format_utc(*date) + ", local " + format_utc(obs.local_time);
    s += off ? " (local clock " + describe_duration(skew) + (skew > 0 ? " ahead)" : " behind)") : " (in step)";
    out.push_back(
        row(Layer::clock, off ? Mark::warn : Mark::ok, t.host, t.http.server_date ? Millis{0} : t.clock.elapsed, s));
}

void add_http(const TargetObservation& t, std::vector<Finding>& out) {
    const auto& h = t.http;
    const std::string target = redact_url_short(t.target.url);
    if (!h.attempted) {
        if (!t.local_file) out.push_back(row(Layer::http, Mark::skipped, target, Millis{0}, "not reached"));
        return;
    }
    if (h.transport_failed) {
        Finding f = row(Layer::http, Mark::fail, target, h.elapsed, h.error);
        f.facts.emplace_back("phase", to_string(h.phase));
        if (h.curl_code) f.facts.emplace_back("curl_code", std::to_string(h.curl_code));
        out.push_back(std::move(f));
        return;
    }
    bool ok = h.status >= 200 && h.status < 300;
    std::string s = "HTTP " + std::to_string(h.status);
    if (!h.content_type.empty()) s += " " + sanitize_for_display(h.content_type, 60);
    if (!h.snippet.empty()) s += ": \"" + h.snippet + "\"";
    if (h.retry_after_seconds) s += " (Retry-After " + std::to_string(*h.retry_after_seconds) + " s)";
    if (!h.effective_url.empty() && h.effective_url != target) s += " (redirected to " + h.effective_url + ")";
    out.push_back(row(Layer::http, ok ? Mark::ok : Mark::fail, target, h.elapsed, s));
    if (ok && h.sample_bytes > 0) {
        bool slow = !h.sample_complete && h.bytes_per_second < 32 * 1024;
        out.push_back(row(Layer::throughput, slow ? Mark::warn : Mark::ok, t.host, h.sample_time,
                          human_bytes(static_cast<std::uint64_t>(h.bytes_per_second)) + "/s over " +
                              human_bytes(h.sample_bytes) + (h.sample_complete ? " (the whole body)" : "")));
    }
}

} // namespace

std::string to_upper_status(DnsStatus s) {
    switch (s) {
    case DnsStatus::nxdomain: return "NXDOMAIN";
    case DnsStatus::no_data: return "no address records";
    case DnsStatus::servfail: return "SERVFAIL";
    case DnsStatus::refused: return "REFUSED";
    case DnsStatus::timeout: return "timeout";
    case DnsStatus::ok: return "ok";
    case DnsStatus::error: break;
    }
    return "error";
}

std::vector<Finding> build_findings(const Observations& obs) {
    std::vector<Finding> out;
    for (const auto& [k, val] : obs.config.settings) {
        out.push_back(row(Layer::config, Mark::ok, "", Millis{0}, k + ": " + val));
    }
    for (const auto& n : obs.config.notes) out.push_back(row(Layer::config, Mark::warn, "", Millis{0}, n));
    add_local(obs, out);
    for (const auto& t : obs.targets) {
        const std::string shown = redact_url_short(t.target.url);
        std::string label = t.target.label == shown ? shown : t.target.label + " " + shown;
        if (t.local_file) {
            out.push_back(row(Layer::config, Mark::skipped, label, Millis{0}, "a local file: not a network target"));
            continue;
        }
        out.push_back(
            row(Layer::config, Mark::ok, label, Millis{0},
                t.proxy ? "via proxy " + t.proxy->display() + " (" + t.proxy_reason + ")"
                        : "direct (" + (t.proxy_reason.empty() ? std::string("no proxy") : t.proxy_reason) + ")"));
        add_dns(t, out);
        if (t.proxy_hop) {
            const auto& p = *t.proxy_hop;
            std::string s = "CONNECT " + t.host + ":" + std::to_string(t.port) + " via " + t.proxy->display() + ": " +
                            to_string(p.status);
            if (p.http_status) s += " (HTTP " + std::to_string(p.http_status) + ")";
            if (!p.auth_schemes.empty()) s += "; wants " + join(p.auth_schemes, ", ");
            if (!p.detail.empty() && p.status != ProxyHopStatus::ok) s += "; " + sanitize_for_display(p.detail, 120);
            out.push_back(row(Layer::proxy, p.status == ProxyHopStatus::ok ? Mark::ok : Mark::fail, t.proxy->display(),
                              p.elapsed, s));
        }
        for (const auto& r : t.tcp) {
            std::string dest = (r.ipv6 ? "[" + r.address + "]" : r.address) + ":" + std::to_string(r.port);
            out.push_back(row(Layer::tcp, r.status == TcpStatus::connected ? Mark::ok : Mark::fail, dest, r.elapsed,
                              std::string(r.ipv6 ? "IPv6 " : "IPv4 ") + describe_tcp(r)));
        }
        add_tls(obs, t, out);
        add_clock(obs, t, out);
        add_http(t, out);
        if (t.incomplete)
            out.push_back(row(Layer::config, Mark::warn, t.host, Millis{0},
                              "time budget ran out before every layer was checked"));
    }
    const auto& c = obs.captive;
    if (c.attempted) {
        std::string s = c.error.empty() ? "HTTP " + std::to_string(c.status) : c.error;
        if (c.portal)
            s += ": redirected to a login page " + c.final_url;
        else if (c.error.empty())
            s += c.status == 204 ? " as expected: no captive portal" : "";
        out.push_back(row(Layer::http, c.portal ? Mark::fail : (c.error.empty() ? Mark::ok : Mark::warn),
                          "captive-portal probe " + c.url, c.elapsed, s));
    } else if (!c.skipped_why.empty()) {
        out.push_back(row(Layer::http, Mark::skipped, "captive-portal probe", Millis{0}, c.skipped_why));
    }
    return out;
}

} // namespace goinstall::triage
