// WPAD (wpad.hpp): the candidate list (resolv.conf parsing, devolution that stops at the registrable
// domain), discovery over a scripted transport and clock, and how the resolver explains a miss.
#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <map>
#include <string>
#include <vector>

#include "../fakes/fake_clock.hpp"
#include "../fakes/fake_transport.hpp"
#include "goinstall/net/pac.hpp"
#include "goinstall/net/proxy_resolver.hpp"
#include "goinstall/net/wpad.hpp"

using namespace goinstall;
using namespace std::chrono_literals;
using Strings = std::vector<std::string>;

TEST_CASE("resolv.conf search domains", "[net][wpad]") {
    struct Case {
        const char* name;
        const char* text;
        Strings expected;
    };
    auto c = GENERATE(values<Case>({
        {"search line, several domains",
         "nameserver 10.0.0.53\nsearch eng.corp.example corp.example\n",
         {"eng.corp.example", "corp.example"}},
        {"domain line", "domain corp.example\nnameserver 10.0.0.53\n", {"corp.example"}},
        {"the last search/domain line wins", "search a.example\ndomain b.example\n", {"b.example"}},
        {"the last one wins the other way round too",
         "domain b.example\nsearch a.example c.example\n",
         {"a.example", "c.example"}},
        {"tabs, upper case, trailing dots, duplicates",
         "search\tCorp.Example.  corp.example\tEng.Corp.Example\n",
         {"corp.example", "eng.corp.example"}},
        {"comments and a trailing comment",
         "# search no.example\n; domain no2.example\nsearch yes.example # x.example\n",
         {"yes.example"}},
        {"invalid names are left out",
         "search . -bad.example 10.0.0.1 under_score.example ok.example\n",
         {"ok.example"}},
        {"no search or domain line", "nameserver 127.0.0.53\noptions edns0\n", {}},
        {"empty text", "", {}},
    }));
    INFO(c.name);
    CHECK(parse_resolv_conf_domains(c.text) == c.expected);
}

TEST_CASE("domain of a host name", "[net][wpad]") {
    CHECK(domain_of_fqdn("build7.corp.example") == "corp.example");
    CHECK(domain_of_fqdn("Build7.Corp.Example.") == "corp.example");
    CHECK(domain_of_fqdn("laptop") == "");
    CHECK(domain_of_fqdn("") == "");
    CHECK(domain_of_fqdn("host.bad_label.example") == "");
}

TEST_CASE("public suffixes", "[net][wpad]") {
    for (const char* yes :
         {"com", "uk", "lan", "home", "corp", "co.uk", "CO.UK", "co.uk.", "com.cn", "com.au", "co.jp"}) {
        INFO(yes);
        CHECK(is_public_suffix(yes));
    }
    for (const char* no : {"example.com", "corp.example", "example.co.uk", "shop.com.cn", "uk.example"}) {
        INFO(no);
        CHECK_FALSE(is_public_suffix(no));
    }
}

TEST_CASE("WPAD candidates devolve to the registrable domain and no further", "[net][wpad]") {
    struct Case {
        const char* name;
        Strings domains;
        Strings expected;
    };
    auto c = GENERATE(values<Case>({
        {"four labels under .com",
         {"a.b.corp.example.com"},
         {"http://wpad.a.b.corp.example.com/wpad.dat", "http://wpad.b.corp.example.com/wpad.dat",
          "http://wpad.corp.example.com/wpad.dat", "http://wpad.example.com/wpad.dat"}},
        {"never wpad.<TLD>",
         {"eng.corp.example"},
         {"http://wpad.eng.corp.example/wpad.dat", "http://wpad.corp.example/wpad.dat"}},
        {"a registrable domain alone", {"example.com"}, {"http://wpad.example.com/wpad.dat"}},
        {"never past a multi-label public suffix",
         {"dept.example.co.uk"},
         {"http://wpad.dept.example.co.uk/wpad.dat", "http://wpad.example.co.uk/wpad.dat"}},
        {"com.cn", {"shop.com.cn"}, {"http://wpad.shop.com.cn/wpad.dat"}},
        {"a bare TLD or internal single label gives nothing", {"com", "lan", "home"}, {}},
        {"a public suffix itself gives nothing", {"co.uk", "com.au"}, {}},
        {"invalid domains give nothing", {"-bad.example.com", "10.0.0.1", "a..example.com", ""}, {}},
        {"several search domains, deduplicated in order",
         {"a.example.com", "b.example.com"},
         {"http://wpad.a.example.com/wpad.dat", "http://wpad.example.com/wpad.dat",
          "http://wpad.b.example.com/wpad.dat"}},
    }));
    INFO(c.name);
    auto got = wpad_candidates(c.domains);
    CHECK(got == c.expected);
    for (const auto& url : got) { // whatever the list, no candidate is wpad.<public suffix>
        std::string host = url.substr(std::string("http://wpad.").size());
        host = host.substr(0, host.find('/'));
        INFO(url);
        CHECK_FALSE(is_public_suffix(host));
    }
}

TEST_CASE("WPAD candidates are capped", "[net][wpad]") {
    auto got = wpad_candidates({"a.b.c.d.e.f.g.h.i.j.example.com"}, 3);
    CHECK(got == Strings{"http://wpad.a.b.c.d.e.f.g.h.i.j.example.com/wpad.dat",
                         "http://wpad.b.c.d.e.f.g.h.i.j.example.com/wpad.dat",
                         "http://wpad.c.d.e.f.g.h.i.j.example.com/wpad.dat"});
    CHECK(wpad_candidates({"a.b.c.d.e.f.g.h.i.j.example.com"}).size() == 8);
}

namespace {

const std::string k_a = "http://wpad.eng.corp.example/wpad.dat";
const std::string k_b = "http://wpad.corp.example/wpad.dat";
const std::string k_pac = "function FindProxyForURL(url, host) { return 'PROXY 10.1.2.3:3128; DIRECT'; }\n";

} // namespace

#ifdef GOINSTALL_HAVE_PAC

TEST_CASE("WPAD discovery: the first candidate with a PAC script wins", "[net][wpad]") {
    test::FakeTransport t;
    test::FakeClock clock;
    SECTION("a 404, then a PAC script") {
        t.script(k_a, test::Scripted::with_status(404));
        t.script(k_b, test::Scripted::ok(k_pac));
        auto r = discover_wpad({k_a, k_b}, t, clock);
        REQUIRE(r.script);
        CHECK(r.url == k_b);
        REQUIRE(r.attempts.size() == 2);
        CHECK(r.attempts[0].outcome == "HTTP 404");
        CHECK(r.attempts[1].outcome == "found");
        CHECK(r.summary() == "WPAD: found " + k_b);
        auto answer = r.script->find_proxy("https://go.dev/", "go.dev");
        REQUIRE(answer);
        CHECK((*answer)[0].host_port == "10.1.2.3:3128");
        // Each request: no redirects, a 2 s connect timeout, the 5 s budget, a 1 MiB cap.
        REQUIRE(t.requests().size() == 2);
        for (const auto& rq : t.requests()) {
            CHECK(rq.max_redirects == 0);
            CHECK(rq.limits.connect_timeout == 2000ms);
            CHECK(rq.limits.total_timeout == 5000ms);
            CHECK(rq.limits.max_body_bytes == 1024 * 1024);
        }
    }
    SECTION("a body that is not a PAC script is skipped") {
        t.script(k_a, test::Scripted::ok("<html>captive portal</html>"));
        t.script(k_b, test::Scripted::ok(k_pac));
        auto r = discover_wpad({k_a, k_b}, t, clock);
        REQUIRE(r.script);
        CHECK(r.url == k_b);
        CHECK(r.attempts[0].outcome.starts_with("not a PAC script"));
    }
    SECTION("the first hit ends the search") {
        t.script(k_a, test::Scripted::ok(k_pac));
        auto r = discover_wpad({k_a, k_b}, t, clock);
        CHECK(r.url == k_a);
        CHECK(t.requests().size() == 1);
    }
}

TEST_CASE("WPAD discovery: nothing found says where it looked", "[net][wpad]") {
    test::FakeTransport t;
    test::FakeClock clock;
    t.script(k_a, test::Scripted::failure(test::net_error(NetPhase::resolve, 6, k_a)));
    t.script(k_b, test::Scripted::with_status(302, {{"location", "http://elsewhere.example/"}}));
    auto r = discover_wpad({k_a, k_b}, t, clock);
    CHECK_FALSE(r.script);
    CHECK(r.summary() == "WPAD: no wpad.dat at " + k_a + " (host not found), " + k_b + " (HTTP 302)");
}

TEST_CASE("WPAD discovery: the 5 s budget covers all candidates", "[net][wpad]") {
    test::FakeTransport t;
    test::FakeClock clock;
    const std::string k_c = "http://wpad.example.com/wpad.dat";
    t.on_fetch([&](const Request&, std::size_t) { clock.advance(3000ms); }); // each attempt takes 3 s
    auto r = discover_wpad({k_a, k_b, k_c}, t, clock);
    CHECK_FALSE(r.script);
    REQUIRE(t.requests().size() == 2);
    CHECK(t.requests()[1].limits.total_timeout == 2000ms); // what was left
    REQUIRE(r.attempts.size() == 3);
    CHECK(r.attempts[0].outcome == "connection refused"); // the fake's unscripted answer (curl 7)
    CHECK(r.attempts[2].outcome.starts_with("not tried: the 5000 ms WPAD budget was used up"));
}

TEST_CASE("WPAD discovery: cancelled", "[net][wpad]") {
    test::FakeTransport t;
    test::FakeClock clock;
    CancelToken cancel;
    cancel.cancel();
    auto r = discover_wpad({k_a}, t, clock, {}, &cancel);
    CHECK(t.requests().empty());
    REQUIRE(r.attempts.size() == 1);
    CHECK(r.attempts[0].outcome == "not tried: cancelled");
}

TEST_CASE("the resolver uses a WPAD script as its PAC step", "[net][wpad]") {
    auto script = PacScript::compile(k_pac, k_b);
    REQUIRE(script);
    SystemProxyLookup sys;
    sys.found = SystemProxy{.source = "KDE (kioslaverc)", .mode = SystemProxy::Mode::auto_pac};
    ProxySettings ps;
    ps.pac = std::make_shared<const PacScript>(std::move(*script));
    ps.pac_source = k_b + " (WPAD, from KDE (kioslaverc))";
    auto r = ProxyResolver::create(ps, MapEnv({}), sys);
    REQUIRE(r);
    auto c = r->choose("https://go.dev/dl/");
    REQUIRE(c.proxy);
    CHECK(c.proxy->display() == "http://10.1.2.3:3128");
    CHECK(c.source == "PAC " + k_b + " (WPAD, from KDE (kioslaverc))");
    CHECK(std::find(c.skipped.begin(), c.skipped.end(),
                    "system settings: KDE (kioslaverc) uses WPAD auto-discovery: see the PAC step") != c.skipped.end());
}

#else

TEST_CASE("WPAD discovery without PAC support fetches nothing", "[net][wpad]") {
    test::FakeTransport t;
    test::FakeClock clock;
    auto r = discover_wpad({k_a}, t, clock);
    CHECK(t.requests().empty());
    CHECK(r.summary().find("no PAC support") != std::string::npos);
}

#endif

TEST_CASE("WPAD discovery with no candidates", "[net][wpad]") {
    test::FakeTransport t;
    test::FakeClock clock;
    auto r = discover_wpad({}, t, clock);
    CHECK_FALSE(r.script);
    CHECK(t.requests().empty());
    CHECK(r.summary().starts_with("WPAD: "));
}

TEST_CASE("the resolver explains a WPAD miss and goes direct", "[net][wpad]") {
    SystemProxyLookup sys;
    sys.found = SystemProxy{.source = "GNOME (gsettings org.gnome.system.proxy)", .mode = SystemProxy::Mode::auto_pac};
    ProxySettings ps;
    ps.pac_unavailable = "WPAD: no wpad.dat at " + k_b + " (HTTP 404)";
    auto r = ProxyResolver::create(ps, MapEnv({}), sys);
    REQUIRE(r);
    auto c = r->choose("https://go.dev/dl/");
    CHECK_FALSE(c.proxy);
    CHECK(c.reason == "WPAD: no wpad.dat at " + k_b + " (HTTP 404); going direct");
    CHECK(std::find(c.skipped.begin(), c.skipped.end(),
                    "system settings: GNOME (gsettings org.gnome.system.proxy) uses WPAD auto-discovery; WPAD: no "
                    "wpad.dat at " +
                        k_b + " (HTTP 404)") != c.skipped.end());
    REQUIRE(r->notes().size() == 1);
    CHECK(r->notes()[0] == "WPAD: no wpad.dat at " + k_b + " (HTTP 404)");
    // A source the resolver consults first still decides.
    auto with_env = ProxyResolver::create(
        ps, MapEnv(std::map<std::string, std::string>{{"https_proxy", "http://10.9.9.9:8080"}}), sys);
    REQUIRE(with_env);
    CHECK(with_env->choose("https://go.dev/").source == "https_proxy");
}
