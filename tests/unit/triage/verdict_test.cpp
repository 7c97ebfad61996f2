// The verdict table: every failure row of docs/field-notes.md#network-triage → the verdict code,
// health and the words of the title and the one next action.
#include <catch2/catch.hpp>

#include <functional>

#include "goinstall/triage/report.hpp"

using namespace goinstall;
using namespace goinstall::triage;

namespace {

constexpr std::int64_t k_now = 1'780'000'000; // 2026-05-28

TargetObservation healthy(const std::string& host, Role role = Role::mirror, const std::string& name = "") {
    TargetObservation t;
    t.target = Target{role == Role::index ? "index" : "mirror " + (name.empty() ? host : name),
                      "https://" + host + "/dl/go1.22.0.linux-amd64.tar.gz", role};
    t.host = host;
    t.port = 443;
    t.https = true;
    t.proxy_reason = "no proxy configured";
    t.dns_system = DnsResult{"system", DnsStatus::ok, {"93.184.216.34"}, Millis{3}, ""};
    t.dns_direct.push_back(DnsResult{"127.0.0.53:53", DnsStatus::ok, {"93.184.216.34"}, Millis{2}, ""});
    t.tcp.push_back(TcpResult{"93.184.216.34", 443, false, TcpStatus::connected, 0, Millis{20}});
    TlsResult tls;
    tls.status = TlsStatus::ok;
    tls.issuer = "CN=R11, O=Let's Encrypt";
    tls.protocol = "TLSv1.3";
    t.tls = tls;
    t.http.attempted = true;
    t.http.status = 200;
    t.http.sample_bytes = 256 * 1024;
    t.http.sample_time = Millis{100};
    t.http.bytes_per_second = 2.5e6;
    t.http.server_date = k_now;
    return t;
}

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

void http_unreached(TargetObservation& t) { t.http = HttpObservation{}; }

ProxySpec proxy(ProxyScheme scheme, const std::string& user = "", const std::string& password = "") {
    ProxySpec p;
    p.scheme = scheme;
    p.host = "proxy.corp";
    p.port = 3128;
    p.user = user;
    p.password = password;
    return p;
}

TargetObservation via_proxy(ProxySpec spec, ProxyHopStatus status, const std::string& source = "HTTPS_PROXY") {
    auto t = healthy("go.dev", Role::index);
    t.dns_system.reset();
    t.dns_direct.clear();
    t.tcp.clear();
    t.tls.reset();
    t.proxy = spec;
    t.proxy_source = source;
    t.proxy_reason = "from " + source;
    ProxyHopResult hop;
    hop.status = status;
    hop.proxy = spec.display();
    if (status == ProxyHopStatus::auth_required) {
        hop.http_status = 407;
        hop.auth_schemes = {"Basic"};
    }
    if (status == ProxyHopStatus::forbidden) hop.http_status = 403;
    t.proxy_hop = hop;
    if (status != ProxyHopStatus::ok) http_unreached(t);
    return t;
}

TargetObservation dns_fail(DnsStatus status, const std::string& resolver = "127.0.0.1:53") {
    auto t = healthy("mirror.test");
    t.dns_system = DnsResult{"system", status, {}, Millis{status == DnsStatus::timeout ? 3000 : 4}, ""};
    t.dns_direct = {DnsResult{resolver, status, {}, Millis{4}, ""}};
    t.tcp.clear();
    t.tls.reset();
    http_unreached(t);
    return t;
}

TargetObservation tcp_fail(std::vector<TcpStatus> statuses) {
    auto t = healthy("mirror.test");
    t.tcp.clear();
    t.dns_system->addresses.clear();
    int i = 0;
    for (auto s : statuses) {
        std::string addr = "192.0.2." + std::to_string(++i);
        t.dns_system->addresses.push_back(addr);
        t.tcp.push_back(TcpResult{addr, 443, false, s, 0, Millis{s == TcpStatus::timeout ? 3000 : 1}});
    }
    t.tls.reset();
    http_unreached(t);
    return t;
}

TargetObservation tls_fail(const std::string& host, TlsStatus status, const std::string& issuer = "CN=Test CA") {
    auto t = healthy(host);
    t.tls->status = status;
    t.tls->issuer = issuer;
    t.tls->verify_text = "unable to get local issuer certificate";
    t.tls->subject = "CN=other.example";
    t.tls->not_before = k_now + 86400;
    t.tls->not_after = k_now - 86400;
    http_unreached(t);
    return t;
}

TargetObservation http_status(const std::string& host, long status, const std::string& ctype = "text/html",
                              const std::string& name = "") {
    auto t = healthy(host, Role::mirror, name);
    t.http.status = status;
    t.http.content_type = ctype;
    t.http.sample_bytes = 0;
    t.http.snippet = "Access denied";
    return t;
}

struct Case {
    const char* name;
    std::function<Observations()> make;
    const char* code;
    Health health;
    std::vector<std::string> in_title;
    std::vector<std::string> in_action;
};

// clang-format off
std::vector<Case> cases() {
    return {
        {"all good", [] { return base({healthy("go.dev", Role::index), healthy("dl.google.com")}); }, "ok", Health::ok,
         {"Every check passed"}, {"run it again"}},
        // proxy layer
        {"https:// to a plain proxy", [] { return base({via_proxy(proxy(ProxyScheme::https), ProxyHopStatus::tls_to_plain)}); },
         "proxy_scheme", Health::failed, {"https://proxy.corp:3128", "HTTPS_PROXY", "plain HTTP"},
         {"export HTTPS_PROXY=http://proxy.corp:3128"}},
        {"https:// proxy from --proxy", [] { return base({via_proxy(proxy(ProxyScheme::https), ProxyHopStatus::tls_to_plain, "--proxy")}); },
         "proxy_scheme", Health::failed, {"--proxy"}, {"--proxy http://proxy.corp:3128"}},
        {"407 without credentials", [] { return base({via_proxy(proxy(ProxyScheme::http), ProxyHopStatus::auth_required)}); },
         "proxy_auth", Health::failed, {"http://proxy.corp:3128", "407", "Basic", "no credentials"}, {"--proxy-user USER:PASSWORD"}},
        {"407 with wrong credentials", [] { return base({via_proxy(proxy(ProxyScheme::http, "bob", "s3cret"), ProxyHopStatus::auth_required)}); },
         "proxy_auth", Health::failed, {"user 'bob'", "bob:***@proxy.corp"}, {"--proxy-user"}},
        {"https:// proxy that never finishes the handshake", [] {
             auto t = via_proxy(proxy(ProxyScheme::https), ProxyHopStatus::timeout);
             t.proxy_hop->detail = "TLS to the proxy: ClientHello sent, no answer";
             return base({t});
         }, "proxy_scheme", Health::failed, {"most likely a plain-HTTP proxy"}, {"export HTTPS_PROXY=http://proxy.corp:3128"}},
        {"401 to CONNECT with wrong credentials (tinyproxy)", [] {
             auto t = via_proxy(proxy(ProxyScheme::http, "bob", "s3cret"), ProxyHopStatus::bad_status);
             t.proxy_hop->http_status = 401;
             return base({t});
         }, "proxy_auth", Health::failed, {"HTTP 401", "user 'bob'"}, {"--proxy-user"}},
        {"CONNECT 403", [] { return base({via_proxy(proxy(ProxyScheme::http), ProxyHopStatus::forbidden)}); },
         "proxy_forbidden", Health::failed, {"go.dev:443", "403"}, {"--noproxy-hosts go.dev"}},
        {"CONNECT 403 to a port other than 443 (squid's SSL_ports)", [] {
             auto t = via_proxy(proxy(ProxyScheme::http), ProxyHopStatus::forbidden);
             t.port = 8443;
             return base({t});
         }, "proxy_forbidden", Health::failed, {"403", "only allow tunnels to port 443", "port 8443"}, {"port 443", "8443"}},
        {"407 on the transfer although credentials were given", [] {
             auto t = via_proxy(proxy(ProxyScheme::http, "bob", "s3cret"), ProxyHopStatus::ok);
             t.proxy_hop.reset();
             t.http.attempted = true;
             t.http.transport_failed = true;
             t.http.error_code = ErrorCode::proxy_auth;
             return base({t});
         }, "proxy_auth", Health::failed, {"refused the credentials given for user 'bob'"}, {"Check the user name and password"}},
        {"proxy hangs up", [] { return base({via_proxy(proxy(ProxyScheme::http), ProxyHopStatus::closed)}); },
         "proxy_closed", Health::failed, {"closed the connection"}, {"--proxy-auth"}},
        {"proxy host unresolvable", [] { return base({via_proxy(proxy(ProxyScheme::http), ProxyHopStatus::unresolvable)}); },
         "proxy_unresolvable", Health::failed, {"'proxy.corp'", "HTTPS_PROXY"}, {"--no-proxy"}},
        {"nothing at the proxy", [] { return base({via_proxy(proxy(ProxyScheme::http), ProxyHopStatus::unreachable)}); },
         "proxy_unreachable", Health::failed, {"http://proxy.corp:3128"}, {"--no-proxy"}},
        // DNS
        {"NXDOMAIN", [] { return base({dns_fail(DnsStatus::nxdomain)}); }, "dns_nxdomain", Health::failed,
         {"127.0.0.1:53", "mirror.test", "NXDOMAIN"}, {"mirror.test", "--mirror", "/etc/resolv.conf"}},
        {"SERVFAIL", [] { return base({dns_fail(DnsStatus::servfail)}); }, "dns_servfail", Health::failed,
         {"127.0.0.1:53", "SERVFAIL"}, {"/etc/resolv.conf"}},
        {"resolver silent", [] { return base({dns_fail(DnsStatus::timeout, "10.9.9.9:53")}); }, "dns_timeout", Health::failed,
         {"10.9.9.9:53", "No nameserver answers"}, {"resolv.conf"}},
        {"no DNS server listening", [] {
             auto t = dns_fail(DnsStatus::servfail);
             t.dns_direct[0].status = DnsStatus::error;
             t.dns_direct[0].detail = "connection refused";
             return base({t});
         }, "dns_no_server", Health::failed, {"127.0.0.1:53 (connection refused)"}, {"systemd-resolved"}},
        {"nameservers unreachable, no default route", [] {
             auto t = dns_fail(DnsStatus::servfail, "10.9.9.9:53");
             t.dns_direct[0].status = DnsStatus::error;
             t.dns_direct[0].detail = "socket: Network is unreachable";
             auto o = base({t});
             o.local->default_routes.clear();
             return o;
         }, "no_route", Health::failed, {"no default route", "10.9.9.9:53"}, {"ip route"}},
        {"a loopback nameserver down without a default route is still the nameserver", [] {
             auto t = dns_fail(DnsStatus::servfail);
             t.dns_direct[0].status = DnsStatus::error;
             t.dns_direct[0].detail = "connection refused";
             auto o = base({t});
             o.local->default_routes.clear();
             return o;
         }, "dns_no_server", Health::failed, {"127.0.0.1:53 (connection refused)"}, {"systemd-resolved"}},
        {"bogon answer", [] {
             auto t = healthy("mirror.test");
             t.dns_system->addresses = {"0.0.0.0"};
             t.dns_direct = {DnsResult{"127.0.0.1:53", DnsStatus::ok, {"0.0.0.0"}, Millis{2}, ""}};
             t.tcp = {TcpResult{"0.0.0.0", 443, false, TcpStatus::refused, 0, Millis{1}}};
             t.tls.reset();
             http_unreached(t);
             return base({t});
         }, "dns_bogon", Health::failed, {"127.0.0.1:53", "0.0.0.0", "blocking"}, {"nameserver"}},
        {"/etc/hosts loopback is not a bogon", [] {
             auto t = healthy("mirror.test");
             t.dns_system->addresses = {"127.0.0.1"};
             t.dns_direct = {DnsResult{"127.0.0.1:53", DnsStatus::nxdomain, {}, Millis{2}, ""}};
             return base({t});
         }, "ok", Health::ok, {}, {}},
        // TCP
        {"refused", [] { return base({tcp_fail({TcpStatus::refused, TcpStatus::refused})}); }, "tcp_refused", Health::failed,
         {"mirror.test:443", "192.0.2.1 refused", "nothing listens"}, {"port"}},
        {"dropped", [] { return base({tcp_fail({TcpStatus::timeout})}); }, "tcp_dropped", Health::failed,
         {"no answer", "firewall"}, {"--proxy http://PROXY:PORT"}},
        {"no route, no default route", [] {
             auto o = base({tcp_fail({TcpStatus::unreachable})});
             o.local->default_routes.clear();
             return o;
         }, "no_route", Health::failed, {"no default route"}, {"ip route"}},
        {"IPv6 broken, IPv4 works", [] {
             auto t = healthy("dl.google.com");
             t.tcp.push_back(TcpResult{"2001:db8::1", 443, true, TcpStatus::timeout, 0, Millis{3000}});
             return base({t});
         }, "ipv6_broken", Health::degraded, {"IPv6 is broken", "IPv4 works"}, {"gai.conf"}},
        // TLS
        {"untrusted, one host", [] { return base({tls_fail("mirror.test", TlsStatus::untrusted)}); }, "tls_untrusted",
         Health::failed, {"'CN=Test CA'", "not trusted"}, {"--cacert"}},
        {"interception: one issuer on unrelated hosts", [] {
             return base({tls_fail("mirror.test", TlsStatus::untrusted, "CN=Corp Inspection CA"),
                          tls_fail("other.test", TlsStatus::untrusted, "CN=Corp Inspection CA")});
         }, "tls_interception", Health::failed, {"mirror.test, other.test", "CN=Corp Inspection CA", "TLS-inspecting"},
         {"--cacert"}},
        {"different issuers are not interception", [] {
             return base({tls_fail("mirror.test", TlsStatus::untrusted, "CN=A"), tls_fail("other.test", TlsStatus::untrusted, "CN=B")});
         }, "tls_untrusted", Health::failed, {}, {"--cacert"}},
        {"expired certificate, clock right", [] {
             auto t = tls_fail("mirror.test", TlsStatus::expired);
             t.clock.attempted = true;
             t.clock.server_date = k_now + 5;
             return base({t, healthy("good.test", Role::mirror, "good")});
         }, "tls_expired", Health::degraded, {"expired on"}, {"--mirror good"}},
        {"not yet valid + a 2001 Date: the clock", [] {
             auto t = tls_fail("mirror.test", TlsStatus::not_yet_valid);
             t.clock.attempted = true;
             t.clock.server_date = 978'307'200; // 2001-01-01
             return base({t});
         }, "clock_skew", Health::failed, {"25 years", "2001-01-01"}, {"timedatectl set-ntp true"}},
        {"not yet valid, no date seen", [] {
             auto t = tls_fail("mirror.test", TlsStatus::not_yet_valid);
             t.http.server_date.reset();
             return base({t});
         }, "tls_not_yet_valid", Health::failed, {"valid only from"}, {"clock"}},
        {"handshake stalls", [] { return base({tls_fail("mirror.test", TlsStatus::stalled)}); }, "tls_stalled", Health::failed,
         {"ClientHello", "MTU"}, {"mtu 1400"}},
        {"wrong name", [] { return base({tls_fail("mirror.test", TlsStatus::name_mismatch)}); }, "tls_name_mismatch",
         Health::failed, {"CN=other.example"}, {"--mirror"}},
        {"clock 3 h off, all works", [] {
             auto t = healthy("go.dev", Role::index);
             t.http.server_date = k_now - 3 * 3600;
             return base({t});
         }, "clock_skew", Health::degraded, {"3 h ahead"}, {"timedatectl"}},
        // HTTP
        {"403 + HTML", [] { return base({http_status("mirror.test", 403), healthy("good.test", Role::mirror, "good")}); },
         "http_blocked", Health::degraded, {"403", "HTML", "region"}, {"--mirror good"}},
        {"403 + HTML on the only mirror", [] { return base({http_status("mirror.test", 403)}); }, "http_blocked",
         Health::failed, {"firewall"}, {"goinstall mirrors --probe"}},
        {"404 on one mirror", [] {
             return base({http_status("a.test", 404, "text/plain", "a"), healthy("good.test", Role::mirror, "good")});
         }, "http_missing", Health::degraded, {"mirror a does not have"}, {"--mirror good"}},
        {"429", [] {
             auto t = http_status("mirror.test", 429, "text/plain");
             t.http.retry_after_seconds = 30;
             return base({t});
         }, "http_rate_limited", Health::failed, {"rate-limiting", "30 s"}, {"Wait 30 s"}},
        {"503", [] { return base({http_status("mirror.test", 503, "text/plain")}); }, "http_server_error", Health::failed,
         {"503"}, {"Retry later"}},
        {"captive portal", [] {
             auto o = base({tls_fail("mirror.test", TlsStatus::name_mismatch)});
             o.captive.attempted = true;
             o.captive.url = "http://127.0.0.1:9/generate_204";
             o.captive.status = 200;
             o.captive.final_url = "http://127.0.0.1:9/login";
             o.captive.portal = true;
             return o;
         }, "captive_portal", Health::failed, {"login page"}, {"http://127.0.0.1:9/login", "log in"}},
        // throughput
        {"slow mirror", [] {
             auto t = healthy("slow.test");
             t.http.bytes_per_second = 4000;
             return base({t});
         }, "slow_mirror", Health::degraded, {"slow.test is slow"}, {"mirrors --probe"}},
        // ordering and budget
        {"the dead role explains the failure first", [] {
             auto index = dns_fail(DnsStatus::nxdomain);
             index.target.role = Role::index;
             return base({http_status("a.test", 404, "text/plain", "a"), healthy("good.test", Role::mirror, "good"), index});
         }, "dns_nxdomain", Health::failed, {"mirror.test"}, {"--index-url"}},
        {"budget ran out", [] {
             auto t = healthy("mirror.test");
             t.tls.reset();
             t.tcp.clear();
             t.dns_system.reset();
             t.dns_direct.clear();
             http_unreached(t);
             t.incomplete = true;
             return base({t});
         }, "incomplete", Health::failed, {"ran out of time"}, {"--triage-timeout"}},
    };
}
// clang-format on

} // namespace

TEST_CASE("verdict: each failure row gives its verdict and one next action", "[triage][verdict]") {
    auto all = cases();
    auto c = GENERATE_COPY(range(std::size_t{0}, all.size()));
    const Case& tc = all[c];
    INFO(tc.name);
    Observations obs = tc.make();
    Verdict v = decide_verdict(obs);
    INFO(v.code << ": " << v.title << " → " << v.action);
    CHECK(v.code == tc.code);
    CHECK(v.health == tc.health);
    for (const auto& w : tc.in_title) CHECK_THAT(v.title, Catch::Contains(w));
    for (const auto& w : tc.in_action) CHECK_THAT(v.action, Catch::Contains(w));
    CHECK_FALSE(v.title.empty());
    CHECK_FALSE(v.action.empty());
    // Never a password, whatever the row.
    CHECK(v.title.find("s3cret") == std::string::npos);
    CHECK(v.action.find("s3cret") == std::string::npos);
    for (const auto& f : build_findings(obs)) {
        CHECK(f.summary.find("s3cret") == std::string::npos);
    }
}

TEST_CASE("verdict: a role with no working target is what fails the health", "[triage][verdict]") {
    auto index = http_status("go.dev", 503, "text/plain");
    index.target.role = Role::index;
    CHECK(overall_health(base({index, healthy("good.test")})) == Health::failed);
    CHECK(overall_health(base({healthy("go.dev", Role::index), http_status("a.test", 404), healthy("b.test")})) ==
          Health::degraded);
}
