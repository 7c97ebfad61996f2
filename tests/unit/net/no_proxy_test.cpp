// The NO_PROXY dialect of no_proxy.hpp, as one table; a row whose answer differs between curl and
// Go says which one this dialect follows (docs/no_proxy.md). The rows of curl's and Go's own tests
// are in no_proxy_upstream_test.cpp.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "goinstall/net/no_proxy.hpp"
#include "goinstall/net/proxy_resolver.hpp"

#include <map>

using namespace goinstall;

namespace {

constexpr int k_no_port = -1;

} // namespace

TEST_CASE("NO_PROXY dialect: which hosts bypass the proxy", "[net][proxy]") {
    // clang-format off
    auto [no_proxy, host, port, bypass] = GENERATE(table<std::string, std::string, int, bool>({
        // --- domains
        {"example.com", "example.com", 443, true},
        {"example.com", "foo.example.com", 443, true},
        {"example.com", "a.b.example.com", 443, true},
        {"example.com", "badexample.com", 443, false},
        {"example.com", "example.com.evil.net", 443, false},
        {"example.com", "com", 443, false},
        {"example.com", "example.org", 443, false},
        // --- empty entries, separators, case, trailing dots
        {"", "example.com", 443, false},
        {",,", "example.com", 443, false},
        {",,example.com,,", "example.com", 443, true},
        {"  example.com  ", "www.example.com", 443, true},
        {"foo.org\texample.com\nbar.net", "example.com", 443, true}, // Go splits on commas only: differs, we follow curl
        {"a b", "b", 443, true},                                      // whitespace separates: "a" and "b"
        {"EXAMPLE.com", "www.Example.COM", 443, true},
        {"example.com.", "www.example.com", 443, true},
        {"example.com", "www.example.com.", 443, true}, // Go compares the dot literally: differs, we follow curl
        // --- leading dot and "*."
        {".example.com", "example.com", 443, true}, // Go: subdomains only (false); curl: true. We follow curl.
        {".example.com", "www.example.com", 443, true},
        {".example.com", "nonexample.com", 443, false},
        {"*.example.com", "example.com", 443, true},     // Go: false; curl: no "*." syntax (false). Same as .example.com here.
        {"*.example.com", "www.example.com", 443, true}, // curl: false (literal "*."); Go: true. We follow Go.
        {"foo*.com", "foox.com", 443, false},            // no other wildcards: ignored
        // --- "*"
        {"*", "anything.example", 443, true},
        {"*", "10.1.2.3", 443, true},
        {"*", "[2001:db8::1]", 443, true},
        {"example.org,*", "example.com", 443, true}, // curl: only a lone "*" (false); Go: true. We follow Go.
        {"* example.org", "example.com", 443, true},
        {"*:80", "example.com", 80, false}, // garbage, ignored
        // --- ports (curl has no ports in NO_PROXY: such entries never match there; we follow Go)
        {"example.com:8443", "example.com", 8443, true},
        {"example.com:8443", "example.com", 443, false},
        {"example.com:8443", "www.example.com", 8443, true},
        {"example.com:8443", "example.com", k_no_port, false},
        {"10.1.2.3:8080", "10.1.2.3", 8080, true},
        {"10.1.2.3:8080", "10.1.2.3", 80, false},
        {"[2001:db8::1]:8080", "2001:db8::1", 8080, true},
        {"[2001:db8::1]:8080", "[2001:db8::1]", 443, false},
        {"host:99999", "host", 443, false},
        {"host:0", "host", 443, false},
        {"host:", "host", 443, false},
        // --- IP literals (IPv6 compared as bytes)
        {"10.1.2.3", "10.1.2.3", 443, true},
        {"10.1.2.3", "10.1.2.4", 443, false},
        {"2001:db8::1", "[2001:db8::1]", 443, true},
        {"2001:db8::1", "2001:db8::1", 443, true},
        {"[2001:db8::1]", "2001:db8:0:0:0:0:0:1", 443, true},
        {"2001:DB8::1", "2001:db8::1", 443, true},
        {"0:0:0:0:0:0:0:2", "[::2]", 443, true},
        {"2001:db8::1", "2001:db8::2", 443, false},
        // --- names and addresses never cross (no DNS lookups)
        {"3.4", "1.2.3.4", 443, false}, // Go: its suffix test makes "3.4" match 1.2.3.4 (true); curl: false. We follow curl.
        {"example.com", "93.184.216.34", 443, false},
        {"10.0.0.0/8", "ten.example", 443, false},
        {"10.1.2.3", "10.1.2.3.nip.io", 443, false},
        // --- CIDR, IPv4
        {"10.0.0.0/8", "10.0.0.0", 443, true},
        {"10.0.0.0/8", "10.255.255.255", 443, true},
        {"10.0.0.0/8", "11.0.0.0", 443, false},
        {"10.0.0.0/8", "9.255.255.255", 443, false},
        {"10.1.2.3/8", "10.9.9.9", 443, true}, // host bits of the entry are ignored
        {"172.16.0.0/12", "172.31.255.255", 443, true},
        {"172.16.0.0/12", "172.32.0.0", 443, false},
        {"192.168.0.1/32", "192.168.0.1", 443, true},
        {"0.0.0.0/0", "203.0.113.7", 443, true}, // curl reads /0 as /32 (false); Go: true. We follow Go.
        {"0.0.0.0/0", "[2001:db8::1]", 443, false},
        {"10.0.0.0/8", "::ffff:10.1.2.3", 443, false}, // Go maps v4-in-v6 (true); curl: false. We follow curl.
        {"10.0.0.0/33", "10.0.0.1", 443, false},
        {"1.2.3.4/x", "1.2.3.4", 443, false},
        {"1.2.3.4/", "1.2.3.4", 443, false},
        // --- CIDR, IPv6
        {"fd00::/8", "fd12:3456::1", 443, true},
        {"fd00::/8", "fe00::1", 443, false},
        {"[fd00::]/8", "[fdff:ffff::1]", 443, true},
        {"2001:db8::/32", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", 443, true},
        {"2001:db8::/32", "2001:db9::", 443, false},
        {"2001:db8::/31", "2001:db9::1", 443, true},
        {"2001:db8::/33", "2001:db8:8000::1", 443, false},
        {"2001:db8::/33", "2001:db8:7fff::1", 443, true},
        {"2001:db8::1/128", "2001:db8::1", 443, true},
        {"2001:db8::1/128", "2001:db8::2", 443, false},
        {"::/0", "2001:db8::1", 443, true},
        {"::/0", "10.1.2.3", 443, false},
        {"2001:db8::/129", "2001:db8::1", 443, false},
        // --- loopback is never proxied (Go); curl proxies it unless NO_PROXY lists it
        {"", "localhost", 443, true},
        {"", "LOCALHOST.", 443, true},
        {"", "127.0.0.1", 443, true},
        {"", "127.255.255.254", 443, true},
        {"", "[::1]", 443, true},
        {"", "0:0:0:0:0:0:0:1", 443, true},
        {"", "::ffff:127.0.0.1", 443, true},
        {"", "app.localhost", 443, true}, // Go proxies *.localhost; we follow RFC 6761
        {"other.example", "localhost", 443, true},
        {"", "localhost.example.com", 443, false},
        {"", "128.0.0.1", 443, false},
        {"", "[::2]", 443, false},
        {"*", "", 443, false}, // an empty host never bypasses
        // --- garbage beside good entries
        {"@@,example.com", "example.com", 443, true},
        {"[::1,example.com", "example.com", 443, true},
        {"10.0.0.0/33 example.com", "example.com", 443, true},
        // --- IPv6 zones (issue #14 item 7; Go's CVE-2025-22870): the address without the zone
        {"fe80::/10", "fe80::1%25eth0", 443, true},
        {"fe80::/10", "[fe80::1%25eth0]", 443, true},
        {"fe80::/10", "[fe80::1%eth0]", 443, true},
        {"fe80::1", "[fe80::1%25eth0]", 443, true},
        {"[fe80::1]:8443", "[fe80::1%25eth0]", 8443, true},
        {"fe80::2", "[fe80::1%25eth0]", 443, false},
        {"", "[::1%25lo]", 443, true}, // loopback with a zone is still loopback (as Go)
        // ... and a zone never makes a name match
        {"example.com", "[1000::%25.example.com]", 443, false},
        {"example.com", "1000::%25.example.com", 443, false},
        {"example.com", "[::1%25.example.com]", 443, true}, // direct, but because ::1 is loopback
        {"example.com", "www%25.example.com", 443, false},
        {"eth0", "[fe80::1%25eth0]", 443, false},
        {"25eth0", "fe80::1%25eth0", 443, false},
        {"localhost", "[localhost%25x]", 443, false},
        {"10.0.0.0/8", "10.1.2.3%25eth0", 443, false}, // IPv4 has no zones: not an address
        {"*", "[fe80::1%25eth0]", 443, true},
        {"fe80::1%eth0", "[fe80::1]", 443, false}, // an entry with a zone is not understood
        // --- IDNA (issue #14 item 8; Go's proxyForURLTests): one ASCII form on both sides
        {".示例.com", "www.示例.com", 443, true},
        {"xn--fsq092h.com", "www.示例.com", 443, true},
        {"示例.com", "www.xn--fsq092h.com", 443, true},
        {"示例.com", "xn--fsq092h.com", 443, true},
        {"XN--FSQ092H.com", "示例.com", 443, true},
        {"Bücher.example", "xn--bcher-kva.example", 443, true}, // UTS #46 maps the capital Ü
        {"xn--bcher-kva.example", "BÜCHER.example", 443, true},
        {"bücher.example:8443", "xn--bcher-kva.example", 8443, true},
        {"a。b.example", "a.b.example", 443, true}, // the ideographic full stop is a dot
        {"bücher.example", "bucher.example", 443, false},
        {"示例.com", "示例.net", 443, false},
        {"\xff\xfe.example", "example", 443, false},
    }));
    // clang-format on
    CAPTURE(no_proxy, host, port);
    auto list = parse_no_proxy(no_proxy);
    auto why = bypass_reason(list, host, port == k_no_port ? std::nullopt : std::optional<unsigned>(port));
    CHECK(why.has_value() == bypass);
}

TEST_CASE("NO_PROXY entries are parsed into kinds, canonical values and ports", "[net][proxy]") {
    auto list = parse_no_proxy("Example.COM., *.Corp.example:8443, 10.1.2.3/8, [::1]:8080, 0:0:0:0:0:0:0:2, "
                               "192.0.2.1, [FD00::]/8, *");
    REQUIRE(list.ignored.empty());
    REQUIRE(list.entries.size() == 8);
    CHECK(list.entries[0].kind == NoProxyKind::domain);
    CHECK(list.entries[0].value == "example.com");
    CHECK(list.entries[0].original == "Example.COM.");
    CHECK(list.entries[1].kind == NoProxyKind::domain);
    CHECK(list.entries[1].value == "corp.example");
    CHECK(list.entries[1].port == 8443u);
    CHECK(list.entries[2].kind == NoProxyKind::cidr4);
    CHECK(list.entries[2].value == "10.0.0.0/8");
    CHECK(list.entries[2].prefix_bits == 8u);
    CHECK(list.entries[3].kind == NoProxyKind::ipv6);
    CHECK(list.entries[3].value == "::1");
    CHECK(list.entries[3].port == 8080u);
    CHECK(list.entries[4].kind == NoProxyKind::ipv6);
    CHECK(list.entries[4].value == "::2");
    CHECK_FALSE(list.entries[4].port);
    CHECK(list.entries[5].kind == NoProxyKind::ipv4);
    CHECK(list.entries[5].value == "192.0.2.1");
    CHECK(list.entries[6].kind == NoProxyKind::cidr6);
    CHECK(list.entries[6].value == "fd00::/8");
    CHECK(list.entries[7].kind == NoProxyKind::wildcard);
}

TEST_CASE("NO_PROXY entries that cannot be read are listed, never fatal", "[net][proxy]") {
    auto list = parse_no_proxy("10.0.0.0/33, 1.2.3.4/x [::1 host:99999 @@ good.example *:80 . [10.0.0.1] a:b:c "
                               "bad\x01name");
    REQUIRE(list.entries.size() == 1);
    CHECK(list.entries[0].value == "good.example");
    CHECK(list.ignored == std::vector<std::string>{"10.0.0.0/33", "1.2.3.4/x", "[::1", "host:99999", "@@", "*:80", ".",
                                                   "[10.0.0.1]", "a:b:c", "bad?name"});
    CHECK(bypass_reason(list, "www.good.example", 443));
    CHECK_FALSE(bypass_reason(list, "10.0.0.1", 443));
}

TEST_CASE("bypass_reason says which entry matched, or that loopback is never proxied", "[net][proxy]") {
    auto list = parse_no_proxy("internal.example, .Corp.Example, 10.0.0.0/8, [fd00::1]:8443, *.svc");
    CHECK(bypass_reason(list, "build.corp.example", 443) ==
          std::optional<std::string>("NO_PROXY entry '.Corp.Example'"));
    CHECK(bypass_reason(list, "10.20.30.40", 443) == std::optional<std::string>("NO_PROXY entry '10.0.0.0/8'"));
    CHECK(bypass_reason(list, "[fd00::1]", 8443) == std::optional<std::string>("NO_PROXY entry '[fd00::1]:8443'"));
    CHECK(bypass_reason(list, "api.svc", 443) == std::optional<std::string>("NO_PROXY entry '*.svc'"));
    CHECK(bypass_reason(list, "localhost", 443) == std::optional<std::string>("loopback is never proxied"));
    CHECK(bypass_reason(parse_no_proxy("*"), "127.0.0.1", 80) ==
          std::optional<std::string>("loopback is never proxied"));
    CHECK(bypass_reason(parse_no_proxy("*"), "go.dev", 443) == std::optional<std::string>("NO_PROXY entry '*'"));
    CHECK_FALSE(bypass_reason(list, "go.dev", 443));
    // The first matching entry is the one named.
    CHECK(bypass_reason(parse_no_proxy("example.com www.example.com"), "www.example.com", 443) ==
          std::optional<std::string>("NO_PROXY entry 'example.com'"));
}

TEST_CASE("is_loopback_host", "[net][proxy]") {
    // clang-format off
    auto [host, loopback] = GENERATE(table<std::string, bool>({
        {"localhost", true},
        {"LocalHost", true},
        {"localhost.", true},
        {"foo.localhost", true},
        {"127.0.0.1", true},
        {"127.1.2.3", true},
        {"::1", true},
        {"[::1]", true},
        {"0:0:0:0:0:0:0:1", true},
        {"::ffff:127.0.0.1", true},
        {"::ffff:127.255.0.9", true},
        {"", false},
        {"localhost.example", false},
        {"notlocalhost", false},
        {"126.255.255.255", false},
        {"128.0.0.1", false},
        {"::2", false},
        {"::ffff:128.0.0.1", false},
        {"::127.0.0.1", false}, // IPv4-compatible, not mapped
        {"[::1", false},
    }));
    // clang-format on
    CAPTURE(host);
    CHECK(is_loopback_host(host) == loopback);
}

TEST_CASE("covers_loopback: which lists already send loopback direct", "[net][proxy]") {
    // clang-format off
    auto [no_proxy, covers] = GENERATE(table<std::string, bool>({
        {"localhost", true},
        {".localhost", true},
        {"*.localhost", true},
        {"127.0.0.1", true},
        {"127.0.0.0/8", true},
        {"127.0.0.1/8", true},
        {"127.0.0.0/16", true},
        {"::1", true},
        {"[::1]", true},
        {"0:0:0:0:0:0:0:1", true},
        {"::1/128", true},
        {"localhost:8080", true}, // whatever the port
        {"*", true},
        {"corp.example 127.0.0.1/8", true},
        {"corp.example", false},
        {"127.0.0.2", false},
        {"127.0.0.2/32", false},
        {"::2", false},
        {"10.0.0.0/8", false},
        {"localhost.example", false},
        {"", false},
    }));
    // clang-format on
    CAPTURE(no_proxy);
    CHECK(covers_loopback(parse_no_proxy(no_proxy)) == covers);
}

TEST_CASE("the resolver notes a NO_PROXY without loopback only when no entry covers it", "[net][proxy]") {
    // The note is produced in ProxyResolver::create (proxy_resolver.cpp). Issue #14 item 9: it
    // appeared for 127.0.0.1/8 and [::1] too, which other tools read as loopback.
    const std::string note = "NO_PROXY does not list localhost: goinstall never proxies loopback, but other tools may";
    // clang-format off
    auto [no_proxy, noted] = GENERATE(table<std::string, bool>({
        {"corp.example", true},
        {"corp.example,127.0.0.2", true},
        {"corp.example,localhost", false},
        {"corp.example 127.0.0.1", false}, // a blank separates entries here too
        {"corp.example,127.0.0.1/8", false},
        {"corp.example,127.0.0.0/8", false},
        {"corp.example,[::1]", false},
        {"corp.example,::1", false},
        {"corp.example,.localhost", false},
        {"*", false},
    }));
    // clang-format on
    CAPTURE(no_proxy);
    auto r = ProxyResolver::create(
        {.use_system = false}, MapEnv(std::map<std::string, std::string>{{"NO_PROXY", no_proxy}}), SystemProxyLookup{});
    REQUIRE(r);
    CHECK((std::find(r->notes().begin(), r->notes().end(), note) != r->notes().end()) == noted);
}
