// Verdicts drawn from several observations at once: a TLS-inspecting proxy seen inside its CONNECT
// tunnel, and a nameserver that resolves no public name (every target and the captive-portal
// probe's host NXDOMAIN, or only private answers).
#include <catch2/catch.hpp>

#include "goinstall/triage/report.hpp"

using namespace goinstall;
using namespace goinstall::triage;

namespace {

constexpr std::int64_t k_now = 1'780'000'000; // 2026-05-28
const std::string k_mitm = "CN=mitmproxy, O=mitmproxy";

Observations base(std::vector<TargetObservation> targets) {
    Observations o;
    o.local_time = k_now;
    o.budget = Millis{10000};
    o.targets = std::move(targets);
    LocalContext l;
    l.default_routes.push_back(DefaultRoute{"eth0", "10.0.0.1", false});
    o.local = l;
    return o;
}

TargetObservation target(const std::string& host, Role role, const std::string& label) {
    TargetObservation t;
    t.target = Target{label, "https://" + host + "/dl/", role};
    t.host = host;
    t.port = 443;
    t.https = true;
    return t;
}

// Reached through an http:// proxy whose tunnel opened; the handshake inside it showed a leaf for
// `host` issued by `issuer` (self-signed when the issuer is the subject) that did not verify.
TargetObservation tunnelled(const std::string& host, Role role, const std::string& issuer, bool self_signed = false) {
    auto t = target(host, role, role == Role::index ? "index" : "mirror " + host);
    ProxySpec p;
    p.scheme = ProxyScheme::http;
    p.host = "127.0.0.1";
    p.port = 8080;
    p.user = "bob";
    p.password = "s3cret";
    t.proxy = p;
    t.proxy_source = "HTTPS_PROXY";
    ProxyHopResult hop;
    hop.status = ProxyHopStatus::ok;
    hop.http_status = 200;
    hop.proxy = p.display();
    t.proxy_hop = hop;
    TlsResult tls;
    tls.status = TlsStatus::untrusted;
    tls.verify_code = 20;
    tls.verify_text = "unable to get local issuer certificate";
    tls.issuer = issuer;
    tls.subject = self_signed ? issuer : "CN=" + host;
    t.tls = tls;
    t.proxy_hop->target_tls = tls;
    return t;
}

DnsResult dns(const std::string& resolver, DnsStatus status, std::vector<std::string> addresses = {}) {
    return DnsResult{resolver, status, std::move(addresses), Millis{2}, ""};
}

TargetObservation unresolved(const std::string& host, Role role, const std::string& label,
                             DnsStatus status = DnsStatus::nxdomain, const std::vector<std::string>& addresses = {}) {
    auto t = target(host, role, label);
    t.dns_system = dns("system", status, addresses);
    t.dns_direct = {dns("10.0.0.53:53", status, addresses)};
    return t;
}

void captive_unresolved(Observations& o, DnsStatus status = DnsStatus::nxdomain,
                        std::vector<std::string> addresses = {}) {
    o.captive.attempted = true;
    o.captive.url = "http://connectivitycheck.gstatic.com/generate_204";
    o.captive.error = "Could not resolve host: connectivitycheck.gstatic.com";
    o.captive.host = "connectivitycheck.gstatic.com";
    o.captive.dns = dns("system", status, std::move(addresses));
}

} // namespace

TEST_CASE("verdict: a TLS-inspecting proxy, seen inside its tunnel", "[triage][verdict]") {
    SECTION("one host is enough through a proxy when its CA re-signed the leaf") {
        Verdict v = decide_verdict(base({tunnelled("go.dev", Role::index, k_mitm)}));
        INFO(v.title);
        CHECK(v.code == "tls_interception");
        CHECK_THAT(v.title, Catch::Contains("a TLS-inspecting proxy (issuer: " + k_mitm + ")"));
        CHECK_THAT(v.title, Catch::Contains("http://bob:***@127.0.0.1:8080 (from HTTPS_PROXY)"));
        CHECK_THAT(v.title, Catch::Contains("go.dev"));
        CHECK_THAT(v.action, Catch::Contains("--cacert"));
        CHECK(v.title.find("s3cret") == std::string::npos);
    }
    SECTION("two hosts behind the same proxy are named together") {
        Verdict v = decide_verdict(
            base({tunnelled("go.dev", Role::index, k_mitm), tunnelled("dl.google.com", Role::mirror, k_mitm)}));
        CHECK(v.code == "tls_interception");
        CHECK_THAT(v.title, Catch::Contains("dl.google.com, go.dev"));
    }
    SECTION("a self-signed leaf through a proxy is the server's own: untrusted, not interception") {
        Verdict v = decide_verdict(base({tunnelled("mirror.test", Role::mirror, "CN=mirror.test", true)}));
        CHECK(v.code == "tls_untrusted");
        CHECK_THAT(v.title, Catch::Contains("seen through the proxy http://bob:***@127.0.0.1:8080"));
        CHECK_THAT(v.action, Catch::Contains("--cacert"));
    }
    SECTION("the findings show the issuer seen in the tunnel") {
        auto findings = build_findings(base({tunnelled("go.dev", Role::index, k_mitm)}));
        bool shown = false;
        for (const auto& f : findings) {
            if (f.layer == Layer::tls && f.target == "go.dev")
                shown = f.summary.find("issuer " + k_mitm) != std::string::npos;
        }
        CHECK(shown);
    }
}

TEST_CASE("verdict: a nameserver that resolves no public name", "[triage][verdict]") {
    SECTION("NXDOMAIN for both index hosts, a mirror and the captive-portal probe") {
        auto o = base({unresolved("go.dev", Role::index, "index"),
                       unresolved("golang.google.cn", Role::index, "index (fallback)"),
                       unresolved("dl.google.com", Role::mirror, "mirror official")});
        captive_unresolved(o);
        Verdict v = decide_verdict(o);
        INFO(v.title);
        CHECK(v.code == "dns_no_public_names");
        CHECK(v.health == Health::failed);
        CHECK_THAT(v.title, Catch::StartsWith("The nameserver 10.0.0.53:53 resolves no public name (filtered or "
                                              "split-horizon DNS, or no internet)"));
        CHECK_THAT(v.title, Catch::Contains("NXDOMAIN"));
        CHECK_THAT(v.title, Catch::Contains("go.dev (index), golang.google.cn (index fallback), dl.google.com (mirror "
                                            "official), connectivitycheck.gstatic.com (captive-portal probe)."));
        CHECK_THAT(v.action, Catch::Contains("proxy or internal mirror your network provides"));
        CHECK_THAT(v.action, Catch::Contains("another resolver"));
        CHECK(v.action.find("Check the host name") == std::string::npos);
    }
    SECTION("split horizon: only private answers for every name") {
        auto o = base({unresolved("go.dev", Role::index, "index", DnsStatus::ok, {"10.11.12.13"})});
        captive_unresolved(o, DnsStatus::ok, {"10.11.12.13"});
        Verdict v = decide_verdict(o);
        CHECK(v.code == "dns_no_public_names");
        CHECK_THAT(v.title, Catch::Contains("only private or blocking addresses (10.11.12.13)"));
    }
    SECTION("one name alone may be misspelt: the per-target verdict stays") {
        Verdict v = decide_verdict(base({unresolved("go.dev", Role::index, "index")}));
        CHECK(v.code == "dns_nxdomain");
        CHECK_THAT(v.action, Catch::Contains("Check the host name 'go.dev'"));
    }
    SECTION("a name that resolves means the resolver works") {
        auto ok = unresolved("dl.google.com", Role::mirror, "mirror official", DnsStatus::ok, {"142.250.1.1"});
        auto o = base({unresolved("go.dev", Role::index, "index"), ok});
        captive_unresolved(o);
        CHECK(decide_verdict(o).code == "dns_nxdomain");
    }
    SECTION("different failures (NXDOMAIN here, SERVFAIL there) are not one story") {
        auto o = base({unresolved("go.dev", Role::index, "index"),
                       unresolved("dl.google.com", Role::mirror, "mirror official", DnsStatus::servfail)});
        CHECK(decide_verdict(o).code != "dns_no_public_names");
    }
}
