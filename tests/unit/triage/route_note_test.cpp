// Triage with both routes in view: the release index with its mirrors, and the toolchain-module
// route (a module proxy and a checksum database). Either route is enough to install, so the health
// and the verdict say which one works.
#include <catch2/catch.hpp>

#include "goinstall/triage/report.hpp"

using namespace goinstall;
using namespace goinstall::triage;

namespace {

// A target that answered 200 (ok) or whose name did not resolve (NXDOMAIN: go.dev blocked by DNS).
TargetObservation target(Role role, const std::string& url, bool ok) {
    TargetObservation t;
    t.target = Target{to_string(role) + std::string(" ") + url, url, role};
    t.host = url.substr(url.find("://") + 3, url.find('/', url.find("://") + 3) - url.find("://") - 3);
    t.port = 443;
    t.https = true;
    t.proxy_reason = "no proxy configured";
    if (!ok) {
        t.dns_system = DnsResult{"system", DnsStatus::nxdomain, {}, Millis{4}, ""};
        t.dns_direct = {DnsResult{"127.0.0.53:53", DnsStatus::nxdomain, {}, Millis{4}, ""}};
        return t;
    }
    t.dns_system = DnsResult{"system", DnsStatus::ok, {"192.0.2.10"}, Millis{3}, ""};
    t.tcp.push_back(TcpResult{"192.0.2.10", 443, false, TcpStatus::connected, 0, Millis{20}});
    TlsResult tls;
    tls.status = TlsStatus::ok;
    tls.issuer = "CN=Test CA";
    t.tls = tls;
    t.http.attempted = true;
    t.http.status = 200;
    t.http.sample_complete = true;
    t.http.sample_bytes = 120;
    return t;
}

Observations observe(std::vector<TargetObservation> targets) {
    Observations o;
    o.local_time = 1'780'000'000;
    o.budget = Millis{10000};
    o.targets = std::move(targets);
    return o;
}

const std::string k_index = "https://go.dev/dl/?mode=json&include=all";
const std::string k_proxy = "https://goproxy.test/golang.org/toolchain/@v/list";
const std::string k_db_via_proxy = "https://goproxy.test/sumdb/sum.golang.org/supported";
const std::string k_db = "https://sum.golang.org/latest";

} // namespace

TEST_CASE("triage: go.dev blocked, the module proxy and its database answer: degraded, the route named",
          "[triage][verdict][goproxy]") {
    auto obs = observe({target(Role::index, k_index, false), target(Role::goproxy, k_proxy, true),
                        target(Role::sumdb, k_db_via_proxy, true), target(Role::sumdb, k_db, false)});
    CHECK(overall_health(obs) == Health::degraded);
    Verdict v = decide_verdict(obs);
    INFO(v.code << ": " << v.title << " → " << v.action);
    CHECK(v.code == "dns_nxdomain"); // what is wrong with the index is still the verdict
    CHECK_THAT(v.title, Catch::Contains("go.dev"));
    CHECK_THAT(v.title, Catch::Contains("Installs work through the module proxy: GOPROXY https://goproxy.test"));
    CHECK_THAT(v.title, Catch::Contains("checked by the checksum database https://goproxy.test"));
    CHECK_THAT(v.action, Catch::Contains("--via goproxy"));
}

TEST_CASE("triage: go.dev and the module proxy both blocked: failed, no route offered", "[triage][verdict][goproxy]") {
    auto obs = observe(
        {target(Role::index, k_index, false), target(Role::goproxy, k_proxy, false), target(Role::sumdb, k_db, true)});
    CHECK(overall_health(obs) == Health::failed);
    Verdict v = decide_verdict(obs);
    CHECK(v.title.find("Installs work through") == std::string::npos);
}

TEST_CASE("triage: the proxy answers but no way to the checksum database works: the route does not count",
          "[triage][verdict][goproxy]") {
    auto obs = observe({target(Role::index, k_index, false), target(Role::goproxy, k_proxy, true),
                        target(Role::sumdb, k_db_via_proxy, false), target(Role::sumdb, k_db, false)});
    CHECK(overall_health(obs) == Health::failed);
    CHECK(decide_verdict(obs).title.find("Installs work through") == std::string::npos);
}

TEST_CASE("triage: one way to the checksum database suffices; a broken fallback route is degraded",
          "[triage][verdict][goproxy]") {
    // The proxy does not serve the database (404 there), but the database answers directly.
    auto no_proxy_db = target(Role::sumdb, k_db_via_proxy, true);
    no_proxy_db.http.status = 404;
    auto all_ok = observe({target(Role::index, k_index, true), target(Role::goproxy, k_proxy, true), no_proxy_db,
                           target(Role::sumdb, k_db, true)});
    CHECK(overall_health(all_ok) == Health::ok);
    CHECK(decide_verdict(all_ok).code == "ok");
    // The index works, the module proxy (the fallback) does not: works, but something is wrong.
    auto fallback_dead = observe(
        {target(Role::index, k_index, true), target(Role::goproxy, k_proxy, false), target(Role::sumdb, k_db, true)});
    CHECK(overall_health(fallback_dead) == Health::degraded);
    Verdict v = decide_verdict(fallback_dead);
    CHECK(v.code == "dns_nxdomain");
    CHECK_THAT(v.title, Catch::Contains("goproxy.test"));
}
