// probe_proxy with target_tls: the TLS handshake with the target made inside the CONNECT tunnel,
// against a scripted proxy on 127.0.0.1 that answers the handshake itself, as a TLS-inspecting
// proxy does, with a certificate its own CA issued for the target's name.

#include <catch2/catch.hpp>

#include <chrono>

#include "goinstall/triage/probes.hpp"
#include "loopback_server.hpp"

using namespace goinstall::triage;
using namespace std::chrono_literals;
using goinstall::ProxyScheme;
using goinstall::ProxySpec;
using triage_test::CertSpec;
using triage_test::LoopbackServer;
using triage_test::TestPki;

namespace {

// A CONNECT proxy that says 200, then does the TLS handshake in the tunnel with `leaf`.
LoopbackServer::Handler inspecting_proxy(const triage_test::Pem& leaf) {
    auto tls = triage_test::tls_handler(leaf);
    return [tls](int fd) {
        triage_test::read_head(fd);
        triage_test::write_all(fd, "HTTP/1.1 200 Connection established\r\n\r\n");
        return tls(fd);
    };
}

ProxyProbeOptions options(const std::string& trust_file, bool target_tls) {
    ProxyProbeOptions o;
    o.timeout = 30s; // outcomes are checked; the elapsed bound below is far from it
    o.tls.ca_file_override = trust_file;
    o.target_tls = target_tls;
    return o;
}

ProxySpec http_proxy(const LoopbackServer& s) {
    ProxySpec p;
    p.scheme = ProxyScheme::http;
    p.host = s.ip();
    p.port = static_cast<unsigned>(s.port());
    return p;
}

} // namespace

TEST_CASE("probe_proxy: the handshake inside the tunnel records the inspecting proxy's issuer",
          "[triage][proxy][tls]") {
    TestPki inspection("Corp Inspection CA");
    CertSpec for_target;
    for_target.cn = "go.dev";
    for_target.dns = {"go.dev"};
    for_target.ips = {};
    LoopbackServer proxy(inspecting_proxy(inspection.issue("go.dev", for_target)));
    TestPki trusted("goinstall trusted CA"); // the machine trusts another CA, not the proxy's

    ProxyHopResult r = probe_proxy(http_proxy(proxy), "go.dev", 443, options(trusted.ca_file(), true), nullptr);
    INFO(r.detail);
    CHECK(r.status == ProxyHopStatus::ok);
    REQUIRE(r.target_tls.has_value());
    CHECK(r.target_tls->status == TlsStatus::untrusted);
    CHECK(r.target_tls->issuer == "CN=Corp Inspection CA, O=goinstall tests");
    CHECK(r.target_tls->subject.find("CN=go.dev") != std::string::npos);
    CHECK(r.target_tls->elapsed < 10s);

    // With the proxy's CA trusted (--cacert), the same handshake verifies.
    r = probe_proxy(http_proxy(proxy), "go.dev", 443, options(inspection.ca_file(), true), nullptr);
    REQUIRE(r.target_tls.has_value());
    CHECK(r.target_tls->status == TlsStatus::ok);

    // Not asked for: the tunnel is closed once open, as before.
    r = probe_proxy(http_proxy(proxy), "go.dev", 443, options(trusted.ca_file(), false), nullptr);
    CHECK(r.status == ProxyHopStatus::ok);
    CHECK_FALSE(r.target_tls.has_value());
}

TEST_CASE("probe_proxy: no handshake in a tunnel that did not open", "[triage][proxy][tls]") {
    LoopbackServer proxy([](int fd) {
        triage_test::read_head(fd);
        triage_test::write_all(fd, "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
        triage_test::drain_until_closed(fd);
        return false;
    });
    TestPki pki;
    ProxyHopResult r = probe_proxy(http_proxy(proxy), "go.dev", 443, options(pki.ca_file(), true), nullptr);
    CHECK(r.status == ProxyHopStatus::forbidden);
    CHECK_FALSE(r.target_tls.has_value());
}
