// The report model's helpers: dates, durations, the findings table, secret scrubbing.
#include <catch2/catch.hpp>

#include "goinstall/triage/report.hpp"

using namespace goinstall;
using namespace goinstall::triage;

TEST_CASE("parse_http_date reads the three HTTP date forms and rejects the rest", "[triage][report]") {
    struct Row {
        const char* text;
        std::optional<std::int64_t> unix;
    };
    auto row = GENERATE(values<Row>({
        {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777},
        {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777},
        {"Sun Nov  6 08:49:37 1994", 784111777},
        {"  Mon, 01 Jan 2001 00:00:00 GMT ", 978307200},
        {"Mon, 01 Jan 2001 00:00:00 GMT trailing", std::nullopt},
        {"yesterday", std::nullopt},
        {"", std::nullopt},
    }));
    INFO(row.text);
    CHECK(parse_http_date(row.text) == row.unix);
}

TEST_CASE("durations and UTC dates for people", "[triage][report]") {
    CHECK(describe_duration(12) == "12 s");
    CHECK(describe_duration(-600) == "10 min");
    CHECK(describe_duration(3 * 3600) == "3 h");
    CHECK(describe_duration(5 * 86400) == "5 days");
    CHECK(describe_duration(25LL * 365 * 86400 + 7) == "25 years");
    CHECK(format_utc(978307200) == "2001-01-01 00:00:00 UTC");
}

TEST_CASE("scrub_secrets removes raw and percent-encoded secrets everywhere", "[triage][report]") {
    TriageReport r;
    r.findings.push_back(Finding{
        Layer::proxy, Mark::fail, "http://u:p@ss w@x:1", Millis{0}, "said p@ss w and p%40ss%20w", {{"k", "p@ss w"}}});
    r.verdict.title = "p@ss w";
    r.verdict.action = "--proxy-user u:p@ss w";
    r.settings.emplace_back("proxy", "p%40ss%20w");
    scrub_secrets(r, {"p@ss w", ""});
    for (const std::string* s : {&r.findings[0].target, &r.findings[0].summary, &r.findings[0].facts[0].second,
                                 &r.verdict.title, &r.verdict.action, &r.settings[0].second}) {
        CHECK(s->find("p@ss") == std::string::npos);
        CHECK(s->find("p%40ss") == std::string::npos);
    }
    CHECK(r.verdict.action == "--proxy-user u:***");
}

TEST_CASE("findings: one row per layer, naming resolver, addresses and routes", "[triage][report]") {
    Observations o;
    o.local_time = 1'780'000'000;
    LocalContext l;
    l.interfaces.push_back(NetInterface{"eth0", true, false, {"10.0.0.2"}});
    l.default_routes = {DefaultRoute{"eth0", "10.0.0.1", false}, DefaultRoute{"tun0", "", false}};
    o.local = l;
    o.config.settings.emplace_back("proxy", "none");
    TargetObservation t;
    t.target = Target{"mirror m", "https://user:pw@mirror.test/x", Role::mirror};
    t.host = "mirror.test";
    t.port = 443;
    t.https = true;
    t.dns_system = DnsResult{"system", DnsStatus::nxdomain, {}, Millis{5}, "Name or service not known"};
    t.dns_direct = {DnsResult{"127.0.0.1:53", DnsStatus::nxdomain, {}, Millis{2}, ""}};
    o.targets.push_back(t);
    auto rows = build_findings(o);
    auto has = [&](Layer layer, Mark m, const std::string& words) {
        for (const auto& f : rows) {
            if (f.layer == layer && f.status == m && f.summary.find(words) != std::string::npos) return true;
        }
        return false;
    };
    CHECK(has(Layer::config, Mark::ok, "proxy: none"));
    CHECK(has(Layer::local, Mark::warn, "several IPv4 default routes"));
    CHECK(has(Layer::dns, Mark::fail, "system resolver: NXDOMAIN"));
    CHECK(has(Layer::dns, Mark::fail, "nameserver 127.0.0.1:53: NXDOMAIN"));
    CHECK(has(Layer::http, Mark::skipped, "not reached"));
    for (const auto& f : rows) CHECK(f.target.find(":pw@") == std::string::npos);
}
