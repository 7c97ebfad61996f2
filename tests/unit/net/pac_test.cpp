// PAC evaluation (pac.hpp). No test resolves a name: dnsResolve only knows IP literals and localhost.
#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <vector>

#include "goinstall/net/pac.hpp"

using namespace goinstall;
using Kind = PacEntry::Kind;

TEST_CASE("PAC answer parsing", "[net][pac]") {
    SECTION("several entries, in order") {
        auto r = parse_pac_answer("PROXY a:1; SOCKS5 b:2; DIRECT");
        REQUIRE(r);
        REQUIRE(r->size() == 3);
        CHECK((*r)[0] == PacEntry{Kind::proxy, "a:1", "http"});
        CHECK((*r)[1] == PacEntry{Kind::socks, "b:2", "socks5"});
        CHECK((*r)[2] == PacEntry{Kind::direct, "", ""});
    }
    SECTION("HTTPS, SOCKS, SOCKS4, lowercase keywords, extra blanks and separators") {
        auto r = parse_pac_answer("  https  secure:443 ;;socks s4:1080; Socks4 t:1;proxy  p:8080 ;  direct ;");
        REQUIRE(r);
        REQUIRE(r->size() == 5);
        CHECK((*r)[0] == PacEntry{Kind::proxy, "secure:443", "https"});
        CHECK((*r)[1] == PacEntry{Kind::socks, "s4:1080", "socks4"});
        CHECK((*r)[2] == PacEntry{Kind::socks, "t:1", "socks4"});
        CHECK((*r)[3] == PacEntry{Kind::proxy, "p:8080", "http"});
        CHECK((*r)[4] == PacEntry{Kind::direct, "", ""});
    }
    SECTION("unknown keywords and malformed entries are skipped") {
        auto r = parse_pac_answer("QUIC q:443; PROXY; PROXY a b; HTTP h:80");
        REQUIRE(r);
        REQUIRE(r->size() == 1);
        CHECK((*r)[0] == PacEntry{Kind::proxy, "h:80", "http"});
    }
    SECTION("empty or garbage answers are errors") {
        for (const char* bad : {"", "   ", ";;", "garbage", "PROXY"}) {
            auto r = parse_pac_answer(bad);
            CHECK_FALSE(r);
            if (!r) CHECK(r.error().code() == ErrorCode::usage);
        }
    }
}

#ifdef GOINSTALL_HAVE_PAC

namespace {

std::vector<PacEntry> run(const PacScript& pac, const std::string& url, const std::string& host) {
    auto r = pac.find_proxy(url, host);
    if (!r) FAIL(r.error().describe());
    return *r;
}

const std::vector<PacEntry> k_direct{{Kind::direct, "", ""}};
const std::vector<PacEntry> k_corp_proxy{{Kind::proxy, "proxy.example.com:3128", "http"}, {Kind::direct, "", ""}};

} // namespace

TEST_CASE("PAC: a typical corporate script", "[net][pac]") {
    const char* script = R"(
        function FindProxyForURL(url, host) {
            host = host.toLowerCase();
            if (isPlainHostName(host)) return "DIRECT";
            if (shExpMatch(host, "*.corp") || dnsDomainIs(host, ".intranet.example.com")) return "DIRECT";
            if (isInNet(host, "10.0.0.0", "255.0.0.0")) return "DIRECT";
            if (isInNet(host, "192.168.0.0", "255.255.0.0")) return "DIRECT";
            if (url.substring(0, 4) == "ftp:") return "DIRECT";
            return "PROXY proxy.example.com:3128; DIRECT";
        }
    )";
    auto pac = PacScript::compile(script, "https://wpad.example.com/proxy.pac");
    REQUIRE(pac);
    CHECK(run(*pac, "https://intranet/", "intranet") == k_direct);
    CHECK(run(*pac, "https://build.corp/x", "build.corp") == k_direct);
    CHECK(run(*pac, "https://A.B.CORP/x", "A.B.CORP") == k_direct);
    CHECK(run(*pac, "https://wiki.intranet.example.com/", "wiki.intranet.example.com") == k_direct);
    CHECK(run(*pac, "http://10.1.2.3/", "10.1.2.3") == k_direct);
    CHECK(run(*pac, "http://192.168.7.1/", "192.168.7.1") == k_direct);
    CHECK(run(*pac, "https://go.dev/dl/", "go.dev") == k_corp_proxy);
    CHECK(run(*pac, "https://corp.example.org/", "corp.example.org") == k_corp_proxy);
    CHECK(run(*pac, "http://11.1.2.3/", "11.1.2.3") == k_corp_proxy);
    // A name is never resolved, so isInNet on it is false even if DNS would say 10.x.
    CHECK(run(*pac, "https://dl.google.com/", "dl.google.com") == k_corp_proxy);
    CHECK(pac->source() == "https://wpad.example.com/proxy.pac");
}

TEST_CASE("PAC: helper functions", "[net][pac]") {
    const char* script = R"(
        function check(name, got, want) { if (got !== want) throw new Error(name + ": got " + got); }
        function FindProxyForURL(url, host) {
            check("plain", isPlainHostName("www"), true);
            check("plain2", isPlainHostName("www.x"), false);
            check("dnsDomainIs", dnsDomainIs("www.netscape.com", ".netscape.com"), true);
            check("dnsDomainIs2", dnsDomainIs("www", ".netscape.com"), false);
            check("localHostOrDomainIs", localHostOrDomainIs("www.netscape.com", "www.netscape.com"), true);
            check("localHostOrDomainIs2", localHostOrDomainIs("www", "www.netscape.com"), true);
            check("localHostOrDomainIs3", localHostOrDomainIs("www.mcom.com", "www.netscape.com"), false);
            check("levels", dnsDomainLevels("a.b.c"), 2);
            check("levels0", dnsDomainLevels("www"), 0);
            check("sh1", shExpMatch("http://home.netscape.com/people/ari/index.html", "*/ari/*"), true);
            check("sh2", shExpMatch("http://home.netscape.com/people/montulli/index.html", "*/ari/*"), false);
            check("sh3", shExpMatch("a.b", "a?b"), true);
            check("sh4", shExpMatch("a+b", "a.b"), false);
            check("sh5", shExpMatch("", "*"), true);
            check("resolve-ip", dnsResolve("10.1.2.3"), "10.1.2.3");
            check("resolve-v6", dnsResolve("[::1]"), "::1");
            check("resolve-localhost", dnsResolve("localhost"), "127.0.0.1");
            check("resolve-name", dnsResolve("example.com"), null);
            check("resolvable", isResolvable("example.com"), false);
            check("myip", myIpAddress(), "127.0.0.1");
            check("innet-localhost", isInNet("localhost", "127.0.0.0", "255.0.0.0"), true);
            check("innet-bad", isInNet("10.1.2.3", "10.0.0.0", "not-a-mask"), false);
            check("weekday-all", weekdayRange("SUN", "SAT"), true);
            check("weekday-gmt", weekdayRange("MON", "SUN", "GMT"), true);
            check("weekday-bad", weekdayRange("XYZ"), false);
            check("time-all", timeRange(0, 23), true);
            check("time-all-gmt", timeRange(0, 0, 0, 23, 59, 59, "GMT"), true);
            check("date-all", dateRange(1, 31), true);
            check("date-months", dateRange("JAN", "DEC"), true);
            check("date-year", dateRange(1995, 9999), true);
            check("date-bad", dateRange("XYZ"), false);
            alert("ignored");
            return "DIRECT";
        }
    )";
    auto pac = PacScript::compile(script, "helpers.pac");
    REQUIRE(pac);
    CHECK(run(*pac, "http://x/", "x") == k_direct);
}

TEST_CASE("PAC: answers with HTTPS and lowercase keywords", "[net][pac]") {
    auto pac = PacScript::compile(R"(function FindProxyForURL(u, h) {
        return h == "a" ? "HTTPS secure.example:443" : "proxy p:1; socks5 s:2; direct"; })",
                                  "kw.pac");
    REQUIRE(pac);
    CHECK(run(*pac, "https://a/", "a") == std::vector<PacEntry>{{Kind::proxy, "secure.example:443", "https"}});
    CHECK(run(*pac, "https://b/", "b") ==
          std::vector<PacEntry>{{Kind::proxy, "p:1", "http"}, {Kind::socks, "s:2", "socks5"}, {Kind::direct, "", ""}});
}

TEST_CASE("PAC: runaway scripts are stopped", "[net][pac]") {
    using namespace std::chrono;
    SECTION("infinite loop in FindProxyForURL, even one that swallows the timeout") {
        auto pac = PacScript::compile(R"(function FindProxyForURL(u, h) {
            for (;;) { try { while (true) {} } catch (e) {} } })",
                                      "loop.pac", milliseconds(300));
        REQUIRE(pac);
        const auto start = steady_clock::now();
        auto r = pac->find_proxy("https://go.dev/", "go.dev");
        CHECK(steady_clock::now() - start < seconds(10)); // stopped at its limit, not running forever
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == ErrorCode::usage);
        CHECK_THAT(r.error().describe(), Catch::Contains("timed out") && Catch::Contains("loop.pac"));
        // The script stays usable: the next call times out again rather than failing oddly.
        auto again = pac->find_proxy("https://go.dev/", "go.dev");
        REQUIRE_FALSE(again);
        CHECK_THAT(again.error().describe(), Catch::Contains("timed out"));
    }
    SECTION("infinite loop at the top level, with the default limit") {
        const auto start = steady_clock::now();
        auto pac =
            PacScript::compile("while (true) {}\nfunction FindProxyForURL(u, h) { return 'DIRECT'; }", "top.pac");
        CHECK(steady_clock::now() - start < seconds(10)); // stopped at its limit, not running forever
        REQUIRE_FALSE(pac);
        CHECK_THAT(pac.error().describe(), Catch::Contains("timed out"));
    }
    SECTION("native built-ins doing huge work are stopped too (a fuzz finding: it hung goinstall)") {
        // Each iteration is one native join of a million elements, so the interpreter's time check
        // (every 256k bytecodes) would come after hours; interned equal strings keep memory flat.
        auto pac = PacScript::compile(R"(var a = [];
            function FindProxyForURL(u, h) {
                if (h == "slow") { for (;;) a.push(new Array(1e6).join('x')); }
                return "DIRECT"; })",
                                      "native.pac", milliseconds(200));
        REQUIRE(pac);
        const auto start = steady_clock::now();
        auto r = pac->find_proxy("https://slow/", "slow");
        CHECK(steady_clock::now() - start < seconds(10)); // stopped at its limit, not running for hours
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == ErrorCode::usage);
        CHECK_THAT(r.error().describe(), Catch::Contains("timed out") && Catch::Contains("native.pac"));
        // The stopped evaluation ran in a child: the script still answers other hosts.
        auto fast = pac->find_proxy("https://go.dev/", "go.dev");
        REQUIRE(fast);
        CHECK(fast->front().kind == PacEntry::Kind::direct);
    }
    SECTION("a native built-in at the top level") {
        const auto start = steady_clock::now();
        auto pac = PacScript::compile("new Array(4e9).join('');\nfunction FindProxyForURL(u, h) { return 'DIRECT'; }",
                                      "top-native.pac", milliseconds(200));
        CHECK(steady_clock::now() - start < seconds(10)); // stopped at its limit, not running for hours
        REQUIRE_FALSE(pac);
        CHECK_THAT(pac.error().describe(), Catch::Contains("timed out") && Catch::Contains("top-native.pac"));
    }
    SECTION("memory exhaustion is an error, not a crash") {
        auto pac = PacScript::compile(R"(function FindProxyForURL(u, h) {
            var s = "xxxxxxxxxxxxxxxx"; var keep = [];
            for (;;) { s = s + s; keep.push(s); } })",
                                      "mem.pac", seconds(5));
        REQUIRE(pac);
        auto r = pac->find_proxy("https://go.dev/", "go.dev");
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == ErrorCode::usage);
    }
}

TEST_CASE("PAC: broken scripts", "[net][pac]") {
    SECTION("syntax error is a usage error naming the source") {
        auto pac = PacScript::compile("function FindProxyForURL(url, host) { return 'DIRECT' ", "https://wpad/x.pac");
        REQUIRE_FALSE(pac);
        CHECK(pac.error().code() == ErrorCode::usage);
        CHECK_THAT(pac.error().describe(), Catch::Contains("https://wpad/x.pac") && Catch::Contains("SyntaxError"));
    }
    SECTION("no FindProxyForURL") {
        auto pac = PacScript::compile("function findProxyForUrl(u, h) { return 'DIRECT'; }", "none.pac");
        REQUIRE_FALSE(pac);
        CHECK(pac.error().code() == ErrorCode::usage);
        CHECK_THAT(pac.error().describe(), Catch::Contains("FindProxyForURL"));
    }
    SECTION("FindProxyForURL that is not a function") {
        auto pac = PacScript::compile("var FindProxyForURL = 'DIRECT';", "var.pac");
        REQUIRE_FALSE(pac);
        CHECK(pac.error().code() == ErrorCode::usage);
    }
    SECTION("top level throws") {
        auto pac = PacScript::compile("throw new Error('boom');", "throw.pac");
        REQUIRE_FALSE(pac);
        CHECK_THAT(pac.error().describe(), Catch::Contains("boom"));
    }
    SECTION("non-string return values") {
        for (const char* body : {"return 42;", "return null;", "return;", "return {};", "return true;"}) {
            auto pac = PacScript::compile(std::string("function FindProxyForURL(u, h) { ") + body + " }", "ret.pac");
            REQUIRE(pac);
            auto r = pac->find_proxy("https://go.dev/", "go.dev");
            REQUIRE_FALSE(r);
            CHECK(r.error().code() == ErrorCode::usage);
            CHECK_THAT(r.error().describe(), Catch::Contains("instead of a string"));
        }
    }
    SECTION("garbage or empty answer") {
        auto pac = PacScript::compile("function FindProxyForURL(u, h) { return h == 'e' ? '' : 'NOPE x'; }", "g.pac");
        REQUIRE(pac);
        CHECK_FALSE(pac->find_proxy("https://e/", "e"));
        CHECK_FALSE(pac->find_proxy("https://g/", "g"));
    }
    SECTION("FindProxyForURL throws") {
        auto pac = PacScript::compile("function FindProxyForURL(u, h) { throw 'nope'; }", "t.pac");
        REQUIRE(pac);
        auto r = pac->find_proxy("https://go.dev/", "go.dev");
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().describe(), Catch::Contains("nope"));
    }
}

TEST_CASE("PAC: a moved-from script keeps working in its new owner", "[net][pac]") {
    auto pac = PacScript::compile("function FindProxyForURL(u, h) { return 'DIRECT'; }", "m.pac");
    REQUIRE(pac);
    PacScript moved = std::move(*pac);
    CHECK(run(moved, "https://go.dev/", "go.dev") == k_direct);
    CHECK(pac_supported());
}

#else

TEST_CASE("PAC: this build has no PAC support", "[net][pac]") {
    CHECK_FALSE(pac_supported());
    auto pac = PacScript::compile("function FindProxyForURL(u, h) { return 'DIRECT'; }", "x.pac");
    REQUIRE_FALSE(pac);
    CHECK_THAT(pac.error().describe(), Catch::Contains("no PAC support (install duktape-dev and rebuild)"));
}

#endif
