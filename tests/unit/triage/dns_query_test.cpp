// query_nameserver against a scripted DNS responder on 127.0.0.1, and resolve_system on names that
// never leave the machine ("localhost" from /etc/hosts).

#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "goinstall/triage/probes.hpp"
#include "udp_responder.hpp"

using namespace goinstall::triage;
using triage_test::Bytes;
using triage_test::make_answer;
using triage_test::Query;
using triage_test::UdpResponder;
using namespace std::chrono_literals;

namespace {

// Answers A with v4 and AAAA with v6 (either may be empty).
UdpResponder::Handler answering(std::vector<std::string> v4, std::vector<std::string> v6) {
    return [=](const Query& q, int) -> std::vector<Bytes> { return {make_answer(q, 0, q.qtype == 1 ? v4 : v6)}; };
}

UdpResponder::Handler rcode(int code) {
    return [=](const Query& q, int) -> std::vector<Bytes> { return {make_answer(q, code)}; };
}

} // namespace

TEST_CASE("query_nameserver: addresses from A and AAAA, IPv4 first", "[triage][dns]") {
    UdpResponder ns(answering({"93.184.216.34"}, {"2606:2800:220:1::1946", "2606:2800:220:1::1947"}));
    DnsResult r = query_nameserver(ns.address(), "Example.COM", 30s, nullptr);
    CHECK(r.status == DnsStatus::ok);
    CHECK(r.resolver == ns.address());
    CHECK(r.addresses == std::vector<std::string>{"93.184.216.34", "2606:2800:220:1::1946", "2606:2800:220:1::1947"});
    CHECK(r.detail.empty());
    CHECK(r.elapsed < 10s);    // answered, not the 30 s timeout (3x margin)
    CHECK(ns.received() == 2); // one A, one AAAA, no retry needed (it would go out at 15 s)
    CHECK(ns.names() == std::vector<std::string>{"Example.COM", "Example.COM"});
}

TEST_CASE("query_nameserver maps rcodes to statuses", "[triage][dns]") {
    // clang-format off
    auto [code, status, detail] = GENERATE(table<int, DnsStatus, std::string>({
        {3, DnsStatus::nxdomain, "NXDOMAIN"},
        {2, DnsStatus::servfail, "SERVFAIL"},
        {5, DnsStatus::refused, "REFUSED"},
        {4, DnsStatus::error, "NOTIMP 4"},
    }));
    // clang-format on
    UdpResponder ns(rcode(code));
    DnsResult r = query_nameserver(ns.address(), "blocked.example", 30s, nullptr);
    CHECK(r.status == status);
    CHECK(r.detail == detail);
    CHECK(r.addresses.empty());
}

TEST_CASE("query_nameserver: NOERROR without records is no_data", "[triage][dns]") {
    UdpResponder ns(answering({}, {}));
    DnsResult r = query_nameserver(ns.address(), "empty.example", 30s, nullptr);
    CHECK(r.status == DnsStatus::no_data);
}

TEST_CASE("query_nameserver reports a bogon answer as it is, for the verdict to judge", "[triage][dns]") {
    UdpResponder ns(answering({"0.0.0.0"}, {}));
    DnsResult r = query_nameserver(ns.address(), "go.dev", 30s, nullptr);
    REQUIRE(r.status == DnsStatus::ok);
    REQUIRE(r.addresses == std::vector<std::string>{"0.0.0.0"});
    CHECK(classify_address(r.addresses[0]) == AddressClass::unspecified);
    CHECK(is_bogon(classify_address(r.addresses[0])));
}

TEST_CASE("query_nameserver times out on a silent server after one retry", "[triage][dns]") {
    UdpResponder ns([](const Query&, int) { return std::vector<Bytes>{}; });
    auto t0 = std::chrono::steady_clock::now();
    DnsResult r = query_nameserver(ns.address(), "go.dev", 300ms, nullptr);
    auto took = std::chrono::steady_clock::now() - t0;
    CHECK(r.status == DnsStatus::timeout);
    CHECK(r.elapsed >= 290ms); // a lower bound: load only lengthens it
    CHECK(took < 10s);         // its 300 ms timeout, not waiting for answers that never come
    // Let the last datagrams land before counting: 2 queries + 2 retries (bounded poll).
    for (int i = 0; i < 500 && ns.received() < 4; ++i) std::this_thread::sleep_for(10ms);
    CHECK(ns.received() == 4);
}

TEST_CASE("query_nameserver retries unanswered queries", "[triage][dns]") {
    // Drops the first two datagrams (the first A and AAAA), answers the retries.
    UdpResponder ns([](const Query& q, int nth) -> std::vector<Bytes> {
        if (nth <= 2) return {};
        return {make_answer(q, 0, q.qtype == 1 ? std::vector<std::string>{"192.0.2.1"} : std::vector<std::string>{})};
    });
    DnsResult r = query_nameserver(ns.address(), "go.dev", 600ms, nullptr);
    CHECK(r.status == DnsStatus::ok);
    CHECK(r.addresses == std::vector<std::string>{"192.0.2.1"});
    CHECK(r.elapsed >= 290ms); // the retry goes out halfway through
    CHECK(ns.received() == 4);
}

TEST_CASE("query_nameserver ignores answers with the wrong id or question", "[triage][dns]") {
    SECTION("a forged id first, then the real answer") {
        UdpResponder ns([](const Query& q, int) -> std::vector<Bytes> {
            auto forged_id = static_cast<std::uint16_t>(q.id ^ 0x5555);
            return {make_answer(q, 0, {"10.6.6.6"}, forged_id), make_answer(q, 0, {"192.0.2.80"})};
        });
        DnsResult r = query_nameserver(ns.address(), "go.dev", 30s, nullptr);
        CHECK(r.status == DnsStatus::ok);
        CHECK(r.addresses == std::vector<std::string>{"192.0.2.80"});
    }
    SECTION("only answers about another name") {
        UdpResponder ns([](const Query& q, int) -> std::vector<Bytes> {
            Query other = q;
            other.question[1] = 'x'; // first label's first letter changed
            return {make_answer(other, 0, {"10.6.6.6"})};
        });
        DnsResult r = query_nameserver(ns.address(), "go.dev", 300ms, nullptr);
        CHECK(r.status == DnsStatus::timeout);
        CHECK(r.addresses.empty());
    }
    SECTION("a malformed answer with the right id is an error, not a hang") {
        UdpResponder ns([](const Query& q, int) -> std::vector<Bytes> {
            Bytes b = make_answer(q, 0, {"192.0.2.1"});
            b.resize(b.size() - 2); // cut the A record's rdata short
            return {b};
        });
        DnsResult r = query_nameserver(ns.address(), "go.dev", 30s, nullptr);
        CHECK(r.status == DnsStatus::error);
        CHECK_THAT(r.detail, Catch::Contains("malformed"));
        CHECK(r.elapsed < 10s); // an error at once, not the 30 s timeout
    }
}

TEST_CASE("query_nameserver: nothing listening on the port is an error, at once", "[triage][dns]") {
    std::string address;
    {
        UdpResponder closed([](const Query&, int) { return std::vector<Bytes>{}; });
        address = closed.address();
    } // closed: ICMP port unreachable from now on
    DnsResult r = query_nameserver(address, "go.dev", 30s, nullptr);
    CHECK(r.status == DnsStatus::error);
    CHECK_THAT(r.detail, Catch::Contains("refused"));
    CHECK(r.elapsed < 10s); // at once, not the 30 s timeout
}

TEST_CASE("query_nameserver honours cancellation", "[triage][dns]") {
    UdpResponder ns([](const Query&, int) { return std::vector<Bytes>{}; });
    goinstall::CancelToken token;
    std::thread canceller([&] {
        // Once the queries are out and unanswered (bounded poll), as a signal handler would: flag only.
        for (int i = 0; i < 1000 && ns.received() < 1; ++i) std::this_thread::sleep_for(10ms);
        token.cancel();
    });
    DnsResult r = query_nameserver(ns.address(), "go.dev", 30s, &token);
    canceller.join();
    CHECK(ns.received() >= 1);
    CHECK(r.status == DnsStatus::error);
    CHECK(r.detail == "cancelled");
    CHECK(r.elapsed < 10s); // ended by the cancel, not the 30 s timeout
}

TEST_CASE("query_nameserver rejects bad nameserver and host text", "[triage][dns]") {
    std::string bad = GENERATE("", "dns.example", "1.2.3.4:0", "1.2.3.4:70000", "[::1", "[::1]x", "1.2.3.4:");
    DnsResult r = query_nameserver(bad, "go.dev", 100ms, nullptr);
    CHECK(r.status == DnsStatus::error);
    CHECK_THAT(r.detail, Catch::Contains("not a nameserver"));

    DnsResult h = query_nameserver("127.0.0.1:9", "a..b", 100ms, nullptr);
    CHECK(h.status == DnsStatus::error);
    CHECK_THAT(h.detail, Catch::Contains("host name"));
    CHECK(h.resolver == "127.0.0.1:9");
}

TEST_CASE("resolve_system finds localhost", "[triage][dns]") {
    DnsResult r = resolve_system("localhost", 30s, nullptr);
    CHECK(r.resolver == "system");
    REQUIRE(r.status == DnsStatus::ok);
    bool loopback = false;
    for (const auto& a : r.addresses) loopback = loopback || classify_address(a) == AddressClass::loopback;
    CHECK(loopback);
    CHECK(r.elapsed < 10s); // not the 30 s timeout
}

TEST_CASE("resolve_system returns at once when already cancelled", "[triage][dns]") {
    goinstall::CancelToken token;
    token.cancel();
    DnsResult r = resolve_system("localhost", 30s, &token);
    CHECK(r.status == DnsStatus::error);
    CHECK(r.detail == "cancelled");
    CHECK(r.addresses.empty());
}
