// The rows of curl's and Go's own NO_PROXY tests, each run twice: through the matcher
// (bypass_reason with the URL's effective port) and through the ProxyResolver (http_proxy and
// https_proxy set, so "proxy" and "direct" are both possible; default ports filled in by it).
// Sources, read for this table:
//   curl: tests/unit/unit1614.c (curl/curl e64457c4, the list4/list6 CIDR rows and the
//         Curl_check_noproxy rows; curl passes the bare host, we use https:// URLs)
//   Go:   golang.org/x/net http/httpproxy/proxy_test.go (golang/net 29181b8c: proxyForURLTests,
//         TestUseProxy with its noProxy list and hosts on port 80, TestAllNoProxy, TestInvalidNoProxy)
// `expect_direct` is goinstall's answer (docs/no_proxy.md). Where it differs from the upstream
// answer, `differs` says so and why; an empty `differs` means goinstall agrees with the source.
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "goinstall/base/url.hpp"
#include "goinstall/net/no_proxy.hpp"
#include "goinstall/net/proxy_resolver.hpp"

using namespace goinstall;

namespace {

// Go's TestUseProxy list (proxy_test.go `noProxy`).
const std::string k_go = "foobar.com, .barbaz.net, *.wildcard.io, 192.168.1.1, 192.168.1.2:81, 192.168.1.3:80, "
                         "10.0.0.0/30, 2001:db8::52:0:1, [2001:db8::52:0:2]:443, [2001:db8::52:0:3]:80, "
                         "2002:db8:a::45/64";
// The 128- and 127-byte "addresses" of unit1614.
const std::string k_long128 = "localhost,127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1."
                              "127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.";
const std::string k_long127 = "localhost,127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1."
                              "127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0.1.127.0.0";
const char* const k_loop = "differs: loopback is never proxied (Go's rule; curl proxies it unless listed)";
const char* const k_dot =
    "differs: a leading dot or '*.' also matches the bare domain (curl's reading; Go: subdomains only)";

struct Row {
    std::string no_proxy;
    std::string url;
    bool expect_direct;
    std::string differs;
};

std::optional<unsigned> effective_port(const Url& u) {
    if (u.port) return u.port;
    return u.scheme == "https" ? 443u : 80u;
}

void check_row(const Row& row) {
    CAPTURE(row.no_proxy, row.url, row.differs);
    auto u = parse_url(row.url);
    REQUIRE(u);
    // The matcher, given the effective port.
    CHECK(bypass_reason(parse_no_proxy(row.no_proxy), u->host, effective_port(*u)).has_value() == row.expect_direct);
    // The resolver, given the URL: it must fill in the default port itself.
    auto r = ProxyResolver::create({.use_system = false},
                                   MapEnv(std::map<std::string, std::string>{{"http_proxy", "http://10.9.9.9:3128"},
                                                                             {"https_proxy", "http://10.9.9.9:3128"},
                                                                             {"no_proxy", row.no_proxy}}),
                                   SystemProxyLookup{});
    REQUIRE(r);
    auto c = r->choose(row.url);
    CAPTURE(c.reason);
    CHECK(c.proxy.has_value() == !row.expect_direct);
}

} // namespace

TEST_CASE("NO_PROXY: the rows of curl's unit1614", "[net][proxy][upstream]") {
    auto row = GENERATE(values<Row>({
        // list4 / list6: Curl_cidr4_match(a, n, bits), written here as the entry "n/bits" for host a.
        {"192.160.0.1/33", "https://192.160.0.1/", false, ""},
        {"192.160.0.1/32", "https://192.160.0.1/", true, ""},
        {"192.160.0.1/0", "https://192.160.0.1/", true, ""},
        {"192.160.0.1/24", "https://192.160.0.1/", true, ""},
        {"192.160.0.1/26", "https://192.160.0.1/", true, ""},
        {"192.160.0.1/20", "https://192.160.0.1/", true, ""},
        {"192.160.0.1/18", "https://192.160.0.1/", true, ""},
        {"192.160.0.1/12", "https://192.160.0.1/", true, ""},
        {"192.160.0.1/8", "https://192.160.0.1/", true, ""},
        {"10.0.0.1/8", "https://192.160.0.1/", false, ""},
        {"10.0.0.1/32", "https://192.160.0.1/", false, ""},
        {"10.0.0.1/0", "https://192.160.0.1/", true,
         "differs: /0 matches every IPv4 address (Go); curl reads 0 as /32"},
        {"::1/0", "https://[::1]/", true, ""},
        {"::1/128", "https://[::1]/", true, ""},
        {"0:0::1/128", "https://[::1]/", true, ""},
        {"0:0::1/129", "https://[::1]/", true, k_loop}, // curl: false (bad prefix); the entry is ignored here
        {"0:0::1/129", "https://[::2]/", false, ""},    // the same entry, on a host that is not loopback
        {"fe80::ab47:4396:55c9:8474/64", "https://[fe80::ab47:4396:55c9:8474]/", true, ""},
        // Curl_check_noproxy(host, list)
        {"localhost .example.com .example.de", "https://www.example.com/", true,
         "differs: blanks separate entries (curl 7.86-8.8); curl 8.9+ stops at the first blank"},
        {"localhost,.example.com,.example.de", "https://www.example.com/", true, ""},
        {"localhost,.example.com,.example.de", "https://www.example.com./", true, ""},
        {"localhost,.example.com,.example.de", "https://example.com/", true, ""},
        {"localhost,.example.com,.example.de", "https://example.com./", true, ""},
        {"localhost,.example.com.,.example.de", "https://www.example.com/", true, ""},
        {"localhost,www.example.com.,.example.de", "https://www.example.com/", true, ""},
        {"localhost,example.com,.example.de", "https://example.com/", true, ""},
        {"localhost,example.com,.example.de", "https://example.com./", true, ""},
        {"localhost,example.com,.example.de", "https://nexample.com/", false, ""},
        {"localhost,example.com,.example.de", "https://www.example.com/", true, ""},
        {"127.0.0.1,localhost", "https://127.0.0.1/", true, ""},
        {"127.0.0.1,localhost,", "https://127.0.0.1/", true, ""},
        {"127.0.0.1/8,localhost,", "https://127.0.0.1/", true, ""},
        {"127.0.0.1/28,localhost,", "https://127.0.0.1/", true, ""},
        {"127.0.0.1/31,localhost,", "https://127.0.0.1/", true, ""},
        {"localhost,127.0.0.1", "https://127.0.0.1/", true, ""},
        {k_long128, "https://127.0.0.1/", true, k_loop}, // curl: false
        {k_long127, "https://127.0.0.1/", true, k_loop}, // curl: false
        {"localhost,127.0.0.1", "https://localhost/", true, ""},
        {"127.0.0.1,localhost", "https://localhost/", true, ""},
        {"barfoo", "https://foobar/", false, ""},
        {"foobar", "https://foobar/", true, ""},
        {"foobar", "https://192.168.0.1/", false, ""},
        {"192.168.0.0/16", "https://192.168.0.1/", true, ""},
        {"192.168.0.0/24", "https://192.168.0.1/", true, ""},
        {"192.168.0.0/32", "https://192.168.0.1/", false, ""},
        {"192.168.0.0", "https://192.168.0.1/", false, ""},
        {"192.168.0.0/24", "https://192.168.1.1/", false, ""},
        {"foo, bar, 192.168.0.0/24", "https://192.168.1.1/", false, ""},
        {"foo, bar, 192.168.0.0/16", "https://192.168.1.1/", true, ""},
        {"foo, bar, 192.168.0.0/16", "https://[::1]/", true, k_loop}, // curl: false
        {"foo, bar, ::1/64", "https://[::1]/", true, ""},
        {"foo, bar, ::1/64", "https://bar/", true, ""},
        {"foo, bar, ::1/64", "https://BAr/", true, ""},
        {"foo,,,,,              bar, ::1/64", "https://BAr/", true, ""},
        {"foo, .example.com", "https://www.example.com/", true, ""},
        {"www2.example.com, .example.net", "https://www.example.com/", false, ""},
        {".example.com, .example.net", "https://example.com/", true, ""},
        {".example.com, .example.net", "https://nonexample.com/", false, ""},
    }));
    check_row(row);
}

TEST_CASE("NO_PROXY: the rows of Go's httpproxy tests", "[net][proxy][upstream]") {
    auto row = GENERATE(values<Row>({
        // proxyForURLTests with a NoProxy (the request goes to port 80: "http://" without a port).
        {"example.com", "http://example.com/", true, ""},
        {".example.com", "http://example.com/", true, k_dot},
        {"ample.com", "http://example.com/", false, ""},
        {"example.com", "http://foo.example.com/", true, ""},
        {".foo.com", "http://example.com/", false, ""},
        {".示例.com", "http://www.示例.com", true, ""},
        {"xn--fsq092h.com", "http://www.示例.com", true, ""},
        {"示例.com", "http://www.xn--fsq092h.com", true, ""},
        {"example.com", "http://[1000::%25.example.com]:123", false, ""}, // CVE-2025-22870
        // TestUseProxy: useProxy(host + ":80") — here "http://host/", port 80 by default.
        {k_go, "http://localhost/", true, ""},
        {k_go, "http://127.0.0.1/", true, ""},
        {k_go, "http://127.0.0.2/", true, ""},
        {k_go, "http://[::1]/", true, ""},
        {k_go, "http://[::2]/", false, ""},
        {k_go, "http://192.168.1.1/", true, ""},
        {k_go, "http://192.168.1.2/", false, ""}, // the entry is for port 81
        {k_go, "http://192.168.1.3/", true, ""},  // 192.168.1.3:80, and the default port is 80
        {k_go, "http://192.168.1.4/", false, ""},
        {k_go, "http://10.0.0.2/", true, ""},
        {k_go, "http://[2001:db8::52:0:1]/", true, ""},
        {k_go, "http://[2001:db8::52:0:2]/", false, ""}, // the entry is for port 443
        {k_go, "http://[2001:db8::52:0:3]/", true, ""},  // [..]:80, the default port
        {k_go, "http://[2002:db8:a::123]/", true, ""},
        {k_go, "http://[fe80::424b:c8be:1643:a1b6]/", false, ""},
        {k_go, "http://barbaz.net/", true, k_dot},
        {k_go, "http://www.barbaz.net/", true, ""},
        {k_go, "http://foobar.com/", true, ""},
        {k_go, "http://www.foobar.com/", true, ""},
        {k_go, "http://foofoobar.com/", false, ""},
        {k_go, "http://baz.com/", false, ""},
        {k_go, "http://localhost.net/", false, ""},
        {k_go, "http://local.localhost/", true, "differs: *.localhost is loopback (RFC 6761); Go proxies it"},
        {k_go, "http://barbarbaz.net/", false, ""},
        {k_go, "http://wildcard.io/", true, k_dot},
        {k_go, "http://nested.wildcard.io/", true, ""},
        {k_go, "http://awildcard.io/", false, ""},
        // The same hosts over https (port 443): the port-restricted entries flip.
        {k_go, "https://192.168.1.3/", false, ""},
        {k_go, "https://[2001:db8::52:0:2]/", true, ""},
        {k_go, "https://[2001:db8::52:0:3]/", false, ""},
        // TestInvalidNoProxy: ":1" is not understood, example.com still goes through the proxy.
        {":1", "http://example.com/", false, ""},
        // TestAllNoProxy: "*" sends every host direct.
        {"*", "http://192.168.1.4/", true, ""},
        {"*", "http://[2001:db8::52:0:2]/", true, ""},
        {"*", "http://barbaz.net/", true, ""},
        {"*", "http://awildcard.io/", true, ""},
        {"*", "http://[::2]/", true, ""},
    }));
    check_row(row);
}

TEST_CASE("NO_PROXY host:port entries compare with the effective port", "[net][proxy]") {
    // Issue #14 item 6: a port-less URL goes to 443 (https) or 80 (http), and so must the match.
    auto row = GENERATE(values<Row>({
        {"mirror.corp:443", "https://mirror.corp/dl/go.tgz", true, ""},
        {"mirror.corp:443", "https://mirror.corp:443/dl/go.tgz", true, ""},
        {"mirror.corp:443", "http://mirror.corp/dl/go.tgz", false, ""},
        {"mirror.corp:80", "http://mirror.corp/dl/go.tgz", true, ""},
        {"mirror.corp:80", "https://mirror.corp/dl/go.tgz", false, ""},
        {"mirror.corp:443", "https://mirror.corp:8443/", false, ""},
        {"10.1.2.3:443", "https://10.1.2.3/", true, ""},
        {"[2001:db8::7]:443", "https://[2001:db8::7]/", true, ""},
    }));
    check_row(row);
}
