// probe_proxy against scripted proxies on 127.0.0.1: HTTP CONNECT answers, an https:// proxy (TLS
// first), a plain-HTTP proxy named with https://, and minimal SOCKS5/SOCKS4a servers.

#include <catch2/catch.hpp>

#include <openssl/ssl.h>
#include <sys/socket.h>

#include <chrono>

#include "goinstall/triage/probes.hpp"
#include "loopback_server.hpp"

using namespace goinstall::triage;
using namespace std::chrono_literals;
using goinstall::ProxyScheme;
using goinstall::ProxySpec;
using triage_test::LoopbackServer;

namespace {

const std::string k_password = "s3cr3t-PW";

ProxySpec spec(ProxyScheme scheme, const LoopbackServer& s, bool credentials = false) {
    ProxySpec p;
    p.scheme = scheme;
    p.host = s.ip();
    p.port = static_cast<unsigned>(s.port());
    if (credentials) {
        p.user = "alice";
        p.password = k_password;
    }
    return p;
}

void check_no_secret(const ProxyHopResult& r) {
    CHECK(r.proxy.find(k_password) == std::string::npos);
    CHECK(r.detail.find(k_password) == std::string::npos);
    if (r.tls) CHECK(r.tls->detail.find(k_password) == std::string::npos);
}

// Reads the CONNECT request, records it, sends `answer`, then waits for the client to hang up.
LoopbackServer::Handler connect_answering(LoopbackServer*& self, std::string answer) {
    return [&self, answer](int fd) {
        std::string head = triage_test::read_head(fd);
        if (self != nullptr) self->note(head);
        if (!answer.empty()) triage_test::write_all(fd, answer);
        triage_test::drain_until_closed(fd);
        return false;
    };
}

std::string recv_exact(int fd, std::size_t n) {
    std::string out;
    char buf[512];
    while (out.size() < n) {
        ssize_t got = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
        if (got <= 0) return {};
        out.append(buf, static_cast<std::size_t>(got));
    }
    return out;
}

struct Socks5Script {
    bool require_auth = false;
    int reply = 0;
};

// RFC 1928/1929 server side: notes "user:<u> pass-ok:<0|1>" and "atyp:<n> addr:<text> port:<p>".
LoopbackServer::Handler socks5_server(LoopbackServer*& self, Socks5Script script) {
    return [&self, script](int fd) {
        std::string g = recv_exact(fd, 2);
        if (g.size() != 2 || g[0] != 5) return false;
        std::string methods = recv_exact(fd, static_cast<unsigned char>(g[1]));
        bool offers_auth = methods.find('\x02') != std::string::npos;
        if (script.require_auth && !offers_auth) {
            triage_test::write_all(fd, std::string("\x05\xFF", 2));
            return false;
        }
        triage_test::write_all(fd, script.require_auth ? std::string("\x05\x02", 2) : std::string("\x05\x00", 2));
        if (script.require_auth) {
            std::string ver_ulen = recv_exact(fd, 2);
            std::string user = recv_exact(fd, static_cast<unsigned char>(ver_ulen[1]));
            std::string plen = recv_exact(fd, 1);
            std::string pass = recv_exact(fd, static_cast<unsigned char>(plen[0]));
            bool ok = pass == k_password;
            self->note("user:" + user + " pass-ok:" + (ok ? "1" : "0"));
            triage_test::write_all(fd, ok ? std::string("\x01\x00", 2) : std::string("\x01\x01", 2));
            if (!ok) return false;
        }
        std::string req = recv_exact(fd, 4);
        if (req.size() != 4) return false;
        int atyp = req[3];
        std::string addr;
        if (atyp == 1) {
            std::string a = recv_exact(fd, 4);
            for (int i = 0; i < 4; ++i) addr += (i ? "." : "") + std::to_string(static_cast<unsigned char>(a[i]));
        } else if (atyp == 3) {
            addr = recv_exact(fd, static_cast<unsigned char>(recv_exact(fd, 1)[0]));
        } else {
            addr = "(ipv6)";
            recv_exact(fd, 16);
        }
        std::string port = recv_exact(fd, 2);
        int p = (static_cast<unsigned char>(port[0]) << 8) | static_cast<unsigned char>(port[1]);
        self->note("atyp:" + std::to_string(atyp) + " addr:" + addr + " port:" + std::to_string(p));
        std::string reply("\x05\x00\x00\x01\x7f\x00\x00\x01\x1f\x90", 10);
        reply[1] = static_cast<char>(script.reply);
        triage_test::write_all(fd, reply);
        triage_test::drain_until_closed(fd);
        return false;
    };
}

} // namespace

TEST_CASE("auth_schemes_from_challenges", "[triage][proxy]") {
    CHECK(auth_schemes_from_challenges({"Basic realm=\"x\"", "NTLM"}) == std::vector<std::string>{"Basic", "NTLM"});
    CHECK(auth_schemes_from_challenges({"Digest realm=\"a, b\", qop=\"auth\", nonce=\"1\", Basic realm=x"}) ==
          std::vector<std::string>{"Digest", "Basic"});
    CHECK(auth_schemes_from_challenges({"Negotiate", "negotiate", "NTLM TlRMTVNTUAACAAAA"}) ==
          std::vector<std::string>{"Negotiate", "NTLM"});
    CHECK(auth_schemes_from_challenges({"", " , "}).empty());
}

TEST_CASE("probe_proxy: CONNECT answers", "[triage][proxy]") {
    struct Case {
        std::string answer;
        ProxyHopStatus status;
        long http;
        std::vector<std::string> schemes;
    };
    auto c = GENERATE(values<Case>({
        {"HTTP/1.1 200 Connection established\r\n\r\n", ProxyHopStatus::ok, 200, {}},
        {"HTTP/1.0 200 OK\r\nProxy-Agent: test\r\n\r\n", ProxyHopStatus::ok, 200, {}},
        {"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n", ProxyHopStatus::forbidden, 403, {}},
        {"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm=x\r\n"
         "proxy-authenticate: NTLM\r\nContent-Length: 0\r\n\r\n",
         ProxyHopStatus::auth_required,
         407,
         {"Basic", "NTLM"}},
        {"HTTP/1.1 502 Bad Gateway\r\n\r\n", ProxyHopStatus::bad_status, 502, {}},
        {"SSH-2.0-OpenSSH_9.2\r\n\r\n", ProxyHopStatus::error, 0, {}},
    }));
    bool credentials = GENERATE(false, true);
    LoopbackServer* self = nullptr;
    LoopbackServer server(connect_answering(self, c.answer));
    self = &server;
    ProxyHopResult r = probe_proxy(spec(ProxyScheme::http, server, credentials), "go.dev", 443, 30s, nullptr);
    INFO(r.detail);
    CHECK(r.status == c.status);
    CHECK(r.http_status == c.http);
    CHECK(r.auth_schemes == c.schemes);
    CHECK(r.proxy ==
          (credentials ? "http://alice:***@127.0.0.1:" : "http://127.0.0.1:") + std::to_string(server.port()));
    REQUIRE(r.tcp.has_value());
    CHECK(r.tcp->status == TcpStatus::connected);
    CHECK(r.elapsed < 10s); // not the 30 s timeout
    if (c.status == ProxyHopStatus::ok) CHECK(r.detail.empty());
    if (c.http == 407) CHECK_THAT(r.detail, Catch::Contains(credentials ? "refused" : "no credentials"));
    check_no_secret(r);
    REQUIRE(server.notes().size() == 1);
    std::string request = server.notes()[0];
    CHECK(request.rfind("CONNECT go.dev:443 HTTP/1.1\r\nHost: go.dev:443\r\n", 0) == 0);
    CHECK((request.find("Proxy-Authorization: Basic YWxpY2U6czNjcjN0LVBX\r\n") != std::string::npos) == credentials);
}

TEST_CASE("probe_proxy: a proxy that hangs up, or never answers", "[triage][proxy]") {
    LoopbackServer* self = nullptr;
    LoopbackServer closer(connect_answering(self, ""));
    ProxyHopResult r = probe_proxy(spec(ProxyScheme::http, closer), "go.dev", 443, 30s, nullptr);
    CHECK(r.status == ProxyHopStatus::closed);
    CHECK_THAT(r.detail, Catch::Contains("without answering"));

    LoopbackServer silent([](int) { return true; });
    ProxyHopResult t = probe_proxy(spec(ProxyScheme::http, silent), "go.dev", 443, 300ms, nullptr);
    CHECK(t.status == ProxyHopStatus::timeout);
    CHECK(t.elapsed >= 290ms); // a lower bound: load only lengthens it
    CHECK(t.elapsed < 10s);    // its 300 ms timeout, not waiting for a proxy that never answers

    LoopbackServer half([](int fd) {
        triage_test::read_head(fd);
        triage_test::write_all(fd, "HTTP/1.1 200 Conn");
        return false;
    });
    CHECK(probe_proxy(spec(ProxyScheme::http, half), "go.dev", 443, 30s, nullptr).status == ProxyHopStatus::closed);
}

TEST_CASE("probe_proxy: nothing listening is unreachable", "[triage][proxy]") {
    int port = 0;
    {
        LoopbackServer gone([](int) { return false; });
        port = gone.port();
    }
    ProxySpec p;
    p.host = "127.0.0.1";
    p.port = static_cast<unsigned>(port);
    p.user = "alice";
    p.password = k_password;
    ProxyHopResult r = probe_proxy(p, "go.dev", 443, 30s, nullptr);
    CHECK(r.status == ProxyHopStatus::unreachable);
    REQUIRE(r.tcp.has_value());
    CHECK(r.tcp->status == TcpStatus::refused);
    check_no_secret(r);
}

TEST_CASE("probe_proxy: an https:// URL for a plain-HTTP proxy is tls_to_plain", "[triage][proxy]") {
    LoopbackServer plain([](int fd) {
        char buf[2048];
        (void)::recv(fd, buf, sizeof buf, 0); // the ClientHello, which a plain proxy cannot parse
        triage_test::write_all(fd, "HTTP/1.1 400 Bad Request\r\nServer: tinyproxy\r\n\r\n");
        triage_test::drain_until_closed(fd);
        return false;
    });
    triage_test::TestPki pki;
    TlsProbeOptions trust;
    trust.extra_ca_file = pki.ca_file(); // the proxy's trust: this file only (skips the system store)
    ProxyHopResult r = probe_proxy(spec(ProxyScheme::https, plain, true), "go.dev", 443, 30s, nullptr, trust);
    CHECK(r.status == ProxyHopStatus::tls_to_plain);
    REQUIRE(r.tls.has_value());
    CHECK(r.tls->status == TlsStatus::not_tls);
    CHECK_THAT(r.detail, Catch::Contains("http://"));
    check_no_secret(r);
}

TEST_CASE("probe_proxy: CONNECT through a real https:// proxy", "[triage][proxy]") {
    triage_test::TestPki pki;
    triage_test::Pem leaf = pki.issue("proxy", {});
    std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
    REQUIRE(SSL_CTX_use_certificate_file(ctx.get(), leaf.cert_path.c_str(), SSL_FILETYPE_PEM) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey_file(ctx.get(), leaf.key_path.c_str(), SSL_FILETYPE_PEM) == 1);
    LoopbackServer* self = nullptr;
    LoopbackServer server([&](int fd) {
        SSL* ssl = SSL_new(ctx.get());
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1) {
            char buf[4096];
            int n = SSL_read(ssl, buf, sizeof buf);
            if (n > 0 && self != nullptr) self->note(std::string(buf, static_cast<std::size_t>(n)));
            std::string ok = "HTTP/1.1 200 Connection established\r\n\r\n";
            SSL_write(ssl, ok.data(), static_cast<int>(ok.size()));
            (void)SSL_read(ssl, buf, sizeof buf); // until the client closes
        }
        SSL_free(ssl);
        return false;
    });
    self = &server;
    TlsProbeOptions trust;
    trust.extra_ca_file = pki.ca_file();
    ProxySpec p = spec(ProxyScheme::https, server);
    p.host = "localhost"; // resolved from /etc/hosts, checked against the certificate
    ProxyHopResult r = probe_proxy(p, "go.dev", 443, 30s, nullptr, trust);
    INFO(r.detail);
    CHECK(r.status == ProxyHopStatus::ok);
    CHECK(r.http_status == 200);
    REQUIRE(r.tls.has_value());
    CHECK(r.tls->status == TlsStatus::ok);
    CHECK(r.tls->issuer == "CN=goinstall test CA, O=goinstall tests");
    REQUIRE(server.notes().size() == 1);
    CHECK(server.notes()[0].rfind("CONNECT go.dev:443 HTTP/1.1\r\n", 0) == 0);

    // Without the CA the proxy's certificate is not trusted: the hop fails before CONNECT.
    ProxyHopResult u = probe_proxy(p, "go.dev", 443, 30s, nullptr);
    CHECK(u.status == ProxyHopStatus::error);
    REQUIRE(u.tls.has_value());
    CHECK(u.tls->status == TlsStatus::untrusted);
    CHECK_THAT(u.detail, Catch::Contains("untrusted"));
}

TEST_CASE("probe_proxy: SOCKS5", "[triage][proxy]") {
    LoopbackServer* self = nullptr;
    SECTION("socks5h sends the name, no authentication") {
        LoopbackServer s(socks5_server(self, {}));
        self = &s;
        ProxyHopResult r = probe_proxy(spec(ProxyScheme::socks5h, s), "go.dev", 443, 30s, nullptr);
        CHECK(r.status == ProxyHopStatus::ok);
        CHECK(r.socks_reply == 0);
        CHECK(s.notes() == std::vector<std::string>{"atyp:3 addr:go.dev port:443"});
    }
    SECTION("socks5 resolves here and sends the address") {
        LoopbackServer s(socks5_server(self, {}));
        self = &s;
        ProxyHopResult r = probe_proxy(spec(ProxyScheme::socks5, s), "localhost", 8080, 30s, nullptr);
        CHECK(r.status == ProxyHopStatus::ok);
        CHECK(s.notes() == std::vector<std::string>{"atyp:1 addr:127.0.0.1 port:8080"});
    }
    SECTION("socks5 sends the address --resolve pins for the target, not a DNS answer") {
        LoopbackServer s(socks5_server(self, {}));
        self = &s;
        ProxyProbeOptions o{30s, {}, {}, {"127.0.0.9"}};
        ProxyHopResult r = probe_proxy(spec(ProxyScheme::socks5, s), "mirror.test", 8080, o, nullptr);
        CHECK(r.status == ProxyHopStatus::ok);
        CHECK(s.notes() == std::vector<std::string>{"atyp:1 addr:127.0.0.9 port:8080"});
    }
    SECTION("user and password (RFC 1929)") {
        LoopbackServer s(socks5_server(self, {true, 0}));
        self = &s;
        ProxyHopResult r = probe_proxy(spec(ProxyScheme::socks5h, s, true), "go.dev", 443, 30s, nullptr);
        CHECK(r.status == ProxyHopStatus::ok);
        CHECK(s.notes() == std::vector<std::string>{"user:alice pass-ok:1", "atyp:3 addr:go.dev port:443"});
        check_no_secret(r);
    }
    SECTION("wrong password, and no credentials for a proxy that wants them") {
        LoopbackServer s(socks5_server(self, {true, 0}));
        self = &s;
        ProxySpec wrong = spec(ProxyScheme::socks5h, s, true);
        wrong.password = "nope";
        ProxyHopResult r = probe_proxy(wrong, "go.dev", 443, 30s, nullptr);
        CHECK(r.status == ProxyHopStatus::auth_required);
        CHECK_THAT(r.detail, Catch::Contains("refused"));
        ProxyHopResult n = probe_proxy(spec(ProxyScheme::socks5h, s), "go.dev", 443, 30s, nullptr);
        CHECK(n.status == ProxyHopStatus::auth_required);
    }
    SECTION("reply codes") {
        // clang-format off
        auto [rep, status] = GENERATE(table<int, ProxyHopStatus>({{2, ProxyHopStatus::forbidden},
                                                                   {5, ProxyHopStatus::bad_status},
                                                                   {1, ProxyHopStatus::bad_status}}));
        // clang-format on
        LoopbackServer s(socks5_server(self, {false, rep}));
        self = &s;
        ProxyHopResult r = probe_proxy(spec(ProxyScheme::socks5h, s), "go.dev", 443, 30s, nullptr);
        CHECK(r.status == status);
        CHECK(r.socks_reply == rep);
        CHECK_THAT(r.detail, Catch::Contains("SOCKS5 reply " + std::to_string(rep)));
    }
}

TEST_CASE("probe_proxy: SOCKS4a", "[triage][proxy]") {
    int cd = GENERATE(90, 91);
    LoopbackServer* self = nullptr;
    LoopbackServer s([&self, cd](int fd) {
        std::string head = recv_exact(fd, 8);
        std::string rest;
        char c = 0;
        for (int i = 0; i < 600 && ::recv(fd, &c, 1, 0) == 1; ++i) { // user id NUL host NUL
            rest += c;
            if (std::count(rest.begin(), rest.end(), '\0') == 2) break;
        }
        self->note(std::to_string(head[0]) + " " + rest.substr(0, rest.find('\0')) + " " +
                   rest.substr(rest.find('\0') + 1, rest.size() - rest.find('\0') - 2));
        std::string reply("\x00\x5a\x00\x00\x00\x00\x00\x00", 8);
        reply[1] = static_cast<char>(cd);
        triage_test::write_all(fd, reply);
        triage_test::drain_until_closed(fd);
        return false;
    });
    self = &s;
    ProxyHopResult r = probe_proxy(spec(ProxyScheme::socks4a, s, true), "go.dev", 443, 30s, nullptr);
    CHECK(r.status == (cd == 90 ? ProxyHopStatus::ok : ProxyHopStatus::bad_status));
    CHECK(r.socks_reply == cd);
    CHECK(s.notes() == std::vector<std::string>{"4 alice go.dev"});
    check_no_secret(r);
}
