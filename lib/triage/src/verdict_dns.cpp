// The DNS verdicts (pure): one target's resolution, and every public name tried at once.
#include <algorithm>

#include "goinstall/base/strings.hpp"
#include "report_text.hpp"
#include "verdict_parts.hpp"

namespace goinstall::triage {

namespace {

std::string resolver_name(const TargetObservation& t) {
    if (!t.dns_system) return "the system resolver";
    for (const auto& d : t.dns_direct) {
        if (d.status == t.dns_system->status) return "the resolver " + d.resolver;
    }
    std::string all;
    for (const auto& d : t.dns_direct) all += (all.empty() ? "" : ", ") + d.resolver;
    return all.empty() ? "the system resolver" : "the system resolver (nameservers " + all + ")";
}

bool all_bogon(const std::vector<std::string>& addrs) {
    return !addrs.empty() &&
           std::all_of(addrs.begin(), addrs.end(), [](const std::string& a) { return is_bogon(classify_address(a)); });
}

// "10.0.0.53:53" → "10.0.0.53", "[::1]:53" → "::1" (nameservers are named as queried).
std::string host_of_nameserver(const std::string& ns) {
    if (ns.starts_with("[")) return ns.substr(1, ns.find(']') - 1);
    auto colon = ns.rfind(':');
    return colon == std::string::npos ? ns : ns.substr(0, colon);
}

// A public name goinstall looked up itself (not pinned, not a literal, not localhost), with what
// the system resolver and each nameserver answered.
struct NameTried {
    std::string host;
    std::string what; // "index", "mirror google", "captive-portal probe"
    const DnsResult* system = nullptr;
    const std::vector<DnsResult>* direct = nullptr;
    bool worked = false; // the target answered anyway (then DNS cannot be what is wrong)
};

std::vector<NameTried> public_names_tried(const Observations& obs) {
    std::vector<NameTried> out;
    auto add = [&](const std::string& host, const std::string& what, const DnsResult* system,
                   const std::vector<DnsResult>* direct, bool worked) {
        if (system == nullptr || system->resolver == "--resolve" || host.empty() || is_localhost_name(host) ||
            classify_address(host) != AddressClass::invalid) {
            return;
        }
        auto same = std::find_if(out.begin(), out.end(), [&](const NameTried& n) { return n.host == host; });
        if (same != out.end()) {
            same->worked = same->worked || worked;
            return;
        }
        out.push_back(NameTried{host, what, system, direct, worked});
    };
    for (const auto& t : obs.targets) {
        if (t.local_file || t.proxy || !t.dns_system) continue;
        add(t.host, t.target.label, &*t.dns_system, &t.dns_direct, target_ok(t));
    }
    if (obs.captive.dns) add(obs.captive.host, "captive-portal probe", &*obs.captive.dns, nullptr, false);
    return out;
}

bool nxdomain_everywhere(const NameTried& n) {
    if (n.system->status != DnsStatus::nxdomain) return false;
    return n.direct == nullptr || std::all_of(n.direct->begin(), n.direct->end(),
                                              [](const DnsResult& d) { return d.status == DnsStatus::nxdomain; });
}

bool bogon_everywhere(const NameTried& n) {
    if (n.system->status != DnsStatus::ok || !all_bogon(n.system->addresses)) return false;
    return n.direct == nullptr || std::all_of(n.direct->begin(), n.direct->end(), [](const DnsResult& d) {
               return d.status == DnsStatus::ok && all_bogon(d.addresses);
           });
}

} // namespace

std::optional<Verdict> no_public_dns_verdict(const Observations& obs) {
    const std::vector<NameTried> names = public_names_tried(obs);
    // One name that fails may be misspelt; two unrelated ones failing alike say it is the resolver.
    if (names.size() < 2 || std::any_of(names.begin(), names.end(), [](const NameTried& n) { return n.worked; })) {
        return std::nullopt;
    }
    const bool nx = std::all_of(names.begin(), names.end(), nxdomain_everywhere);
    const bool bogon = !nx && std::all_of(names.begin(), names.end(), bogon_everywhere);
    if (!nx && !bogon) return std::nullopt;
    std::vector<std::string> servers, tried, answers;
    for (const auto& n : names) {
        std::string what = n.what; // "index (fallback)" → "index fallback": one level of parentheses
        std::erase_if(what, [](char c) { return c == '(' || c == ')'; });
        tried.push_back(n.host + " (" + what + ")");
        for (const auto& a : n.system->addresses) {
            if (std::find(answers.begin(), answers.end(), a) == answers.end()) answers.push_back(a);
        }
        if (n.direct == nullptr) continue;
        for (const auto& d : *n.direct) {
            if (std::find(servers.begin(), servers.end(), d.resolver) == servers.end()) servers.push_back(d.resolver);
        }
    }
    if (answers.size() > 3) answers.resize(3);
    const std::string who = servers.empty()       ? "The system resolver"
                            : servers.size() == 1 ? "The nameserver " + servers.front()
                                                  : "The nameservers " + join(servers, ", ");
    const std::string said =
        nx ? "NXDOMAIN (no such name)" : "only private or blocking addresses (" + join(answers, ", ") + ")";
    return failed_verdict(
        "dns_no_public_names",
        who + " resolves no public name (filtered or split-horizon DNS, or no internet): it answered " + said +
            " for every name tried: " + join(tried, ", ") + ".",
        "Use the proxy or internal mirror your network provides (--proxy URL, --mirror URL, --index-url URL), or "
        "another resolver in /etc/resolv.conf");
}

std::optional<Verdict> dns_verdict(const Observations& obs, const TargetObservation& t) {
    if (t.proxy || !t.dns_system) return std::nullopt;
    const auto& d = *t.dns_system;
    const std::string who = resolver_name(t);
    if (d.status == DnsStatus::ok) {
        for (const auto& direct : t.dns_direct) {
            if (direct.status == DnsStatus::ok && all_bogon(direct.addresses) && all_bogon(d.addresses) &&
                !is_localhost_name(t.host)) {
                return failed_verdict(
                    "dns_bogon",
                    "The resolver " + direct.resolver + " answers " + direct.addresses.front() + " (" +
                        to_string(classify_address(direct.addresses.front())) + ") for " + t.host +
                        ": it is blocking or hijacking the name.",
                    "Use another nameserver in /etc/resolv.conf (e.g. your router's or 1.1.1.1), or " +
                        std::string("ask who runs ") + direct.resolver + " why " + t.host + " is blocked");
            }
        }
        return std::nullopt;
    }
    // Every nameserver failed to answer at all: that, not the system resolver's summary, is the finding.
    const bool none_answer =
        !t.dns_direct.empty() && std::all_of(t.dns_direct.begin(), t.dns_direct.end(), [](const DnsResult& r) {
            return r.status == DnsStatus::error || r.status == DnsStatus::timeout;
        });
    if (none_answer && d.status != DnsStatus::nxdomain && d.status != DnsStatus::no_data) {
        std::vector<std::string> parts;
        bool all_timeout = true;
        for (const auto& r : t.dns_direct) {
            all_timeout = all_timeout && r.status == DnsStatus::timeout;
            parts.push_back(
                r.resolver + " (" +
                (r.status == DnsStatus::timeout ? std::string("no answer") : sanitize_for_display(r.detail, 80)) + ")");
        }
        // Off the machine with no default route: not the nameservers' fault (no packet could reach them).
        const bool no_route = obs.local && obs.local->default_routes.empty() &&
                              std::none_of(t.dns_direct.begin(), t.dns_direct.end(), [](const DnsResult& r) {
                                  return classify_address(host_of_nameserver(r.resolver)) == AddressClass::loopback;
                              });
        if (no_route) {
            return failed_verdict("no_route",
                                  "This machine has no default route (not connected?), so no nameserver can be reached "
                                  "and " +
                                      t.host + " cannot be resolved: " + join(parts, ", ") + ".",
                                  "Connect to a network; 'ip route' should show a default route");
        }
        return failed_verdict(
            all_timeout ? "dns_timeout" : "dns_no_server",
            "No nameserver answers, so " + t.host + " cannot be resolved: " + join(parts, ", ") + ".",
            "Check the nameservers in /etc/resolv.conf (is the local DNS service, e.g. systemd-resolved or "
            "dnsmasq, running?), or use a reachable one");
    }
    std::string others;
    for (const auto& direct : t.dns_direct) {
        if (direct.status == DnsStatus::ok) others = direct.resolver + " answers " + join(direct.addresses, ", ");
    }
    const std::string but = others.empty() ? "" : " (but " + others + ")";
    switch (d.status) {
    case DnsStatus::nxdomain:
        return failed_verdict("dns_nxdomain", who + " says " + t.host + " does not exist (NXDOMAIN)" + but + ".",
                              "Check the host name '" + t.host + "' in " + url_source(t.target) +
                                  "; if it is right, use another nameserver in /etc/resolv.conf");
    case DnsStatus::no_data:
        return failed_verdict("dns_no_data", who + " knows " + t.host + " but returns no address for it" + but + ".",
                              "Check the host name '" + t.host + "' in " + url_source(t.target) + ", or use " +
                                  "another mirror");
    case DnsStatus::servfail:
        return failed_verdict(
            "dns_servfail",
            who + " failed to resolve " + t.host + " (SERVFAIL: its upstream or DNSSEC failed)" + but + ".",
            "Retry later, or use another nameserver in /etc/resolv.conf (e.g. your router's or 1.1.1.1)");
    case DnsStatus::refused:
        return failed_verdict("dns_refused",
                              who + " refuses to answer queries for " + t.host + " (REFUSED)" + but + ".",
                              "Use a nameserver that serves this machine in /etc/resolv.conf");
    case DnsStatus::timeout:
        return failed_verdict(
            "dns_timeout",
            who + " did not answer for " + t.host + " within " + std::to_string(d.elapsed.count()) + " ms" + but + ".",
            "Check that the nameserver in /etc/resolv.conf is reachable ('resolvectl status'), or use another one");
    case DnsStatus::error:
    case DnsStatus::ok: break;
    }
    return failed_verdict("dns_error",
                          "Resolving " + t.host + " failed: " + sanitize_for_display(d.detail, 120) + but + ".",
                          "Check /etc/resolv.conf and the host name in " + url_source(t.target));
}
} // namespace goinstall::triage
