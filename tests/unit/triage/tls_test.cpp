// probe_tls against in-test TLS servers on 127.0.0.1 serving certificates made by the test.

#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <thread>

#include <sys/socket.h>

#include "goinstall/triage/probes.hpp"
#include "loopback_server.hpp"

using namespace goinstall::triage;
using namespace std::chrono_literals;
using triage_test::CertSpec;
using triage_test::LoopbackServer;
using triage_test::TestPki;

namespace {

// Trusting only the test CA (SSL_CERT_FILE): loading the system store costs ~0.2 s per probe here,
// so one test below covers --cacert on top of the system store and the rest skip it.
// The default timeout is long (30 s): outcomes are checked, and an elapsed bound of 10 s is far
// from it; only the stall test sets a short one to see it expire.
TlsProbeOptions trusting(const TestPki& pki, Millis timeout = 30s) {
    TlsProbeOptions o;
    o.ca_file_override = pki.ca_file();
    o.timeout = timeout;
    return o;
}

TlsResult probe(const LoopbackServer& server, const std::string& host, const TlsProbeOptions& o) {
    return probe_tls(server.ip(), server.port(), host, o, nullptr);
}

} // namespace

TEST_CASE("tls_status_from_verify maps X509 verification codes", "[triage][tls]") {
    // clang-format off
    auto [code, status] = GENERATE(table<long, TlsStatus>({
        {0, TlsStatus::ok},
        {10, TlsStatus::expired},        // X509_V_ERR_CERT_HAS_EXPIRED
        {9, TlsStatus::not_yet_valid},   // X509_V_ERR_CERT_NOT_YET_VALID
        {62, TlsStatus::name_mismatch},  // X509_V_ERR_HOSTNAME_MISMATCH
        {64, TlsStatus::name_mismatch},  // X509_V_ERR_IP_ADDRESS_MISMATCH
        {18, TlsStatus::untrusted},      // X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT
        {19, TlsStatus::untrusted},      // X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN
        {20, TlsStatus::untrusted},      // X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY
        {21, TlsStatus::untrusted},      // X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE
    }));
    // clang-format on
    CHECK(tls_status_from_verify(code) == status);
}

TEST_CASE("probe_tls: a good certificate from a trusted CA", "[triage][tls]") {
    TestPki pki;
    LoopbackServer server(triage_test::tls_handler(pki.issue("good", {})));
    auto host = GENERATE(as<std::string>{}, "localhost", "127.0.0.1");
    TlsResult r = probe(server, host, trusting(pki));
    INFO(r.detail);
    CHECK(r.status == TlsStatus::ok);
    CHECK(r.verify_code == 0);
    CHECK(r.issuer == "CN=goinstall test CA, O=goinstall tests");
    CHECK(r.subject == "CN=localhost, O=Leaf Org");
    REQUIRE(r.not_before.has_value());
    REQUIRE(r.not_after.has_value());
    std::int64_t now = std::time(nullptr);
    CHECK(*r.not_before <= now - 86400 + 60);
    CHECK(*r.not_before >= now - 86400 - 60);
    CHECK(*r.not_after >= now + 30 * 86400 - 60);
    CHECK(*r.not_after <= now + 30 * 86400 + 60);
    CHECK((r.protocol == "TLSv1.3" || r.protocol == "TLSv1.2"));
    REQUIRE(r.tcp.has_value());
    CHECK(r.tcp->status == TcpStatus::connected);
    CHECK(r.detail.empty());
    CHECK(r.elapsed < 10s); // not the 30 s timeout
}

TEST_CASE("probe_tls: --cacert is trusted on top of the system store", "[triage][tls]") {
    TestPki pki;
    LoopbackServer server(triage_test::tls_handler(pki.issue("good", {})));
    TlsProbeOptions o;
    o.extra_ca_file = pki.ca_file();
    o.timeout = 10000ms; // a bound against hanging only: loading the system store is slow under load
    CHECK(probe(server, "localhost", o).status == TlsStatus::ok);
    TlsProbeOptions system_only;
    system_only.timeout = 10000ms;
    TlsResult r = probe(server, "localhost", system_only);
    CHECK(r.status == TlsStatus::untrusted);
    CHECK(r.verify_code == 20); // unable to get local issuer certificate
}

TEST_CASE("probe_tls: certificate problems, each with the leaf recorded", "[triage][tls]") {
    TestPki pki;
    CertSpec expired;
    expired.not_before_days = -30;
    expired.not_after_days = -1;
    CertSpec future;
    future.not_before_days = 2;
    future.not_after_days = 40;
    CertSpec wrong_name;
    wrong_name.cn = "other.example";
    wrong_name.dns = {"other.example"};
    wrong_name.ips = {"192.0.2.1"};
    CertSpec self;
    self.self_signed = true;
    struct Case {
        const char* name;
        CertSpec spec;
        TlsStatus status;
        long code;
        const char* issuer;
    };
    auto c = GENERATE_COPY(values<Case>({
        {"expired", expired, TlsStatus::expired, 10, "CN=goinstall test CA, O=goinstall tests"},
        {"future", future, TlsStatus::not_yet_valid, 9, "CN=goinstall test CA, O=goinstall tests"},
        {"wrongname", wrong_name, TlsStatus::name_mismatch, 62, "CN=goinstall test CA, O=goinstall tests"},
        {"selfsigned", self, TlsStatus::untrusted, 18, "CN=localhost, O=Leaf Org"},
    }));
    INFO(c.name);
    LoopbackServer server(triage_test::tls_handler(pki.issue(c.name, c.spec)));
    TlsResult r = probe(server, "localhost", trusting(pki));
    CHECK(r.status == c.status);
    CHECK(r.verify_code == c.code);
    CHECK(r.issuer == c.issuer);
    CHECK_FALSE(r.verify_text.empty());
    CHECK(r.detail == r.verify_text);
    CHECK(r.not_after.has_value());
}

TEST_CASE("probe_tls: the name check also applies to IP literals", "[triage][tls]") {
    TestPki pki;
    CertSpec names_only;
    names_only.ips = {};
    LoopbackServer server(triage_test::tls_handler(pki.issue("names", names_only)));
    TlsResult r = probe(server, "127.0.0.1", trusting(pki));
    CHECK(r.status == TlsStatus::name_mismatch);
    CHECK(r.verify_code == 64); // X509_V_ERR_IP_ADDRESS_MISMATCH
}

TEST_CASE("probe_tls: a CA not in the trust store is untrusted", "[triage][tls]") {
    TestPki pki;
    LoopbackServer server(triage_test::tls_handler(pki.issue("good", {})));
    TestPki other("another CA"); // trusting another CA only
    TlsProbeOptions o;
    o.ca_file_override = other.ca_file();
    o.timeout = 10000ms; // against hanging only
    TlsResult r = probe(server, "localhost", o);
    CHECK(r.status == TlsStatus::untrusted);
    CHECK(r.verify_code == 20); // unable to get local issuer certificate
    CHECK(r.issuer == "CN=goinstall test CA, O=goinstall tests");
}

TEST_CASE("probe_tls: a server that accepts and never answers has stalled", "[triage][tls]") {
    LoopbackServer server([](int) { return true; }); // keep the connection, say nothing
    TestPki pki;
    TlsProbeOptions o = trusting(pki, 300ms);
    TlsResult r = probe_tls(server.ip(), server.port(), "localhost", o, nullptr);
    CHECK(r.status == TlsStatus::stalled);
    REQUIRE(r.tcp.has_value());
    CHECK(r.tcp->status == TcpStatus::connected);
    CHECK(r.elapsed >= 290ms); // a lower bound: load only lengthens it
    CHECK(r.elapsed < 10s);    // its 300 ms timeout, not waiting for a server that never answers
}

TEST_CASE("probe_tls: a plain-HTTP server is not TLS", "[triage][tls]") {
    LoopbackServer http([](int fd) {
        char buf[2048];
        (void)::recv(fd, buf, sizeof buf, 0); // the ClientHello
        triage_test::write_all(fd, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
        triage_test::drain_until_closed(fd); // no RST racing the answer
        return false;
    });
    TestPki pki;
    TlsProbeOptions o = trusting(pki); // trust does not matter here; skips loading the system store
    TlsResult r = probe_tls(http.ip(), http.port(), "localhost", o, nullptr);
    CHECK(r.status == TlsStatus::not_tls);
    CHECK_THAT(r.detail, Catch::Contains("HTTP/1.1 400 Bad Request"));
}

TEST_CASE("probe_tls: a server that hangs up at once fails the handshake", "[triage][tls]") {
    LoopbackServer server([](int) { return false; });
    TestPki pki;
    TlsProbeOptions o = trusting(pki); // trust does not matter here; skips loading the system store
    TlsResult r = probe_tls(server.ip(), server.port(), "localhost", o, nullptr);
    CHECK(r.status == TlsStatus::handshake_failed);
    CHECK_FALSE(r.detail.empty());
    CHECK(r.elapsed < 10s); // failed at once, not after the 30 s timeout
}

TEST_CASE("probe_tls: TCP failure and cancellation", "[triage][tls]") {
    int port = 0;
    {
        LoopbackServer closed([](int) { return false; });
        port = closed.port();
    }
    TlsResult r = probe_tls("127.0.0.1", port, "localhost", {}, nullptr);
    CHECK(r.status == TlsStatus::connect_failed);
    REQUIRE(r.tcp.has_value());
    CHECK(r.tcp->status == TcpStatus::refused);

    LoopbackServer silent([](int) { return true; });
    TestPki pki;
    TlsProbeOptions o = trusting(pki); // trust does not matter here; skips loading the system store
    goinstall::CancelToken token;
    std::thread canceller([&] {
        // Cancel once the probe is connected and waiting for the handshake (bounded poll).
        for (int i = 0; i < 1000 && silent.accepted() == 0; ++i) std::this_thread::sleep_for(10ms);
        token.cancel();
    });
    TlsResult c = probe_tls(silent.ip(), silent.port(), "localhost", o, &token);
    canceller.join();
    CHECK(silent.accepted() >= 1);
    // The server's accept() can come before the probe has seen its connect() complete, so the
    // cancel may land in either step; either way the probe says it was cancelled.
    INFO(c.detail);
    CHECK(((c.status == TlsStatus::handshake_failed && c.detail == "cancelled") ||
           (c.status == TlsStatus::connect_failed && c.detail.find("cancel") != std::string::npos)));
    CHECK(c.elapsed < 10s); // ended by the cancel, not the 30 s timeout
}
