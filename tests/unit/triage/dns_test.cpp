#include <catch2/catch.hpp>

#include <thread>

#include "goinstall/triage/probes.hpp"
#include "udp_responder.hpp"

using namespace goinstall::triage;
using triage_test::Bytes;
using triage_test::put16;
using triage_test::put_name;

namespace {

Bytes header(std::uint16_t id, unsigned flags, unsigned qd, unsigned an) {
    Bytes b;
    put16(b, id);
    put16(b, flags);
    put16(b, qd);
    put16(b, an);
    put16(b, 0);
    put16(b, 0);
    return b;
}

void question(Bytes& b, const std::string& name, unsigned type = 1) {
    put_name(b, name);
    put16(b, type);
    put16(b, 1);
}

// A resource record whose owner is written by `owner` (a name or pointer) and rdata given raw.
void record(Bytes& b, const Bytes& owner, unsigned type, const Bytes& rdata) {
    b.insert(b.end(), owner.begin(), owner.end());
    put16(b, type);
    put16(b, 1);
    put16(b, 0);
    put16(b, 300);
    put16(b, static_cast<unsigned>(rdata.size()));
    b.insert(b.end(), rdata.begin(), rdata.end());
}

Bytes ptr(unsigned offset) {
    return {static_cast<unsigned char>(0xC0 | (offset >> 8)), static_cast<unsigned char>(offset & 0xFF)};
}
Bytes name_bytes(const std::string& n) {
    Bytes b;
    put_name(b, n);
    return b;
}

DnsMessage parse_ok(const Bytes& b) {
    auto m = parse_dns_response(b);
    REQUIRE(m.has_value());
    return *m;
}

} // namespace

TEST_CASE("DNS status names are stable", "[triage][dns]") {
    CHECK(std::string(to_string(DnsStatus::nxdomain)) == "nxdomain");
    CHECK(std::string(to_string(DnsStatus::no_data)) == "no_data");
    CHECK(std::string(to_string(DnsStatus::timeout)) == "timeout");
    CHECK(std::string(to_string(AddressClass::shared_cgnat)) == "shared_cgnat");
}

TEST_CASE("build_dns_query writes an RFC 1035 query", "[triage][dns]") {
    Bytes expect = header(0xBEEF, 0x0100, 1, 0);
    question(expect, "go.dev", 28);
    CHECK(build_dns_query(0xBEEF, "go.dev", 28) == expect);
    CHECK(build_dns_query(0xBEEF, "go.dev.", 28) == expect); // trailing dot = same name

    CHECK(build_dns_query(1, "", 1).empty());
    CHECK(build_dns_query(1, "a..b", 1).empty());
    CHECK(build_dns_query(1, std::string(63, 'a') + ".com", 1).size() == 12 + 1 + 63 + 4 + 1 + 4);
    CHECK(build_dns_query(1, std::string(64, 'a') + ".com", 1).empty());
    std::string long_name;
    for (int i = 0; i < 5; ++i) long_name += std::string(60, 'x') + ".";
    CHECK(build_dns_query(1, long_name, 1).empty()); // 5 * 61 + 1 > 255 octets
}

TEST_CASE("parse_dns_response reads answers with compression", "[triage][dns]") {
    Bytes b = header(0x1234, 0x8180, 1, 2);
    question(b, "Go.Dev");
    record(b, ptr(12), 1, {142, 250, 1, 2});
    record(b, ptr(12), 1, {142, 250, 1, 3});
    DnsMessage m = parse_ok(b);
    CHECK(m.id == 0x1234);
    CHECK(m.is_response);
    CHECK(m.rcode == 0);
    CHECK_FALSE(m.truncated);
    CHECK(m.qname == "go.dev");
    CHECK(m.qtype == 1);
    CHECK(m.addresses == std::vector<std::string>{"142.250.1.2", "142.250.1.3"});
}

TEST_CASE("parse_dns_response follows a CNAME chain and ignores records off the chain", "[triage][dns]") {
    Bytes b = header(7, 0x8180, 1, 5);
    question(b, "www.example.com", 28);
    std::size_t first_target = b.size() + 12; // where the first CNAME's rdata starts
    record(b, ptr(12), 5, name_bytes("cdn.example.net"));
    Bytes second = {4, 'e', 'd', 'g', 'e'}; // "edge." + pointer to "cdn.example.net"
    Bytes p = ptr(static_cast<unsigned>(first_target));
    second.insert(second.end(), p.begin(), p.end());
    record(b, ptr(static_cast<unsigned>(first_target)), 5, second);
    Bytes v6(16, 0);
    v6[0] = 0x20, v6[1] = 0x01, v6[2] = 0x0d, v6[3] = 0xb8, v6[15] = 9;
    record(b, name_bytes("EDGE.cdn.example.net"), 28, v6);           // end of the chain, any case
    record(b, name_bytes("unrelated.example.org"), 1, {9, 9, 9, 9}); // not on the chain
    record(b, ptr(12), 16, {3, 'a', 'b', 'c'});                      // TXT: skipped
    DnsMessage m = parse_ok(b);
    CHECK(m.addresses == std::vector<std::string>{"2001:db8::9"});
}

TEST_CASE("parse_dns_response reports rcodes and the TC bit", "[triage][dns]") {
    int rcode = GENERATE(2, 3, 5);
    Bytes b = header(9, 0x8180 | static_cast<unsigned>(rcode), 1, 0);
    question(b, "nope.example");
    DnsMessage m = parse_ok(b);
    CHECK(m.rcode == rcode);
    CHECK(m.addresses.empty());

    Bytes t = header(9, 0x8380, 1, 2); // TC: the second record is cut off by the server
    question(t, "big.example");
    record(t, ptr(12), 1, {1, 2, 3, 4});
    t.insert(t.end(), {0xC0, 0x0C, 0x00});
    DnsMessage tm = parse_ok(t);
    CHECK(tm.truncated);
    CHECK(tm.addresses == std::vector<std::string>{"1.2.3.4"});
}

TEST_CASE("parse_dns_response rejects every truncation of a valid answer", "[triage][dns]") {
    Bytes b = header(1, 0x8180, 1, 1);
    question(b, "a.example");
    record(b, ptr(12), 28, Bytes(16, 0x20));
    REQUIRE(parse_dns_response(b).has_value());
    for (std::size_t len = 0; len < b.size(); ++len) {
        INFO("length " << len);
        CHECK_FALSE(parse_dns_response(std::span<const unsigned char>(b.data(), len)).has_value());
    }
}

TEST_CASE("parse_dns_response rejects hostile names and records", "[triage][dns]") {
    SECTION("a pointer to itself") {
        Bytes b = header(1, 0x8180, 1, 0);
        b.insert(b.end(), {0xC0, 0x0C, 0, 1, 0, 1});
        CHECK_FALSE(parse_dns_response(b).has_value());
    }
    SECTION("a pointer forward (two pointers pointing at each other)") {
        Bytes b = header(1, 0x8180, 1, 0);
        b.insert(b.end(), {0xC0, 0x0E, 0xC0, 0x0C, 0, 1, 0, 1});
        CHECK_FALSE(parse_dns_response(b).has_value());
    }
    SECTION("an answer name pointing at a pointer loop") {
        Bytes b = header(1, 0x8180, 0, 1);
        b.insert(b.end(), {0xC0, 0x0C}); // answer owner points at itself
        put16(b, 1);
        CHECK_FALSE(parse_dns_response(b).has_value());
    }
    SECTION("extended label types (0x40, 0x80 prefixes)") {
        for (unsigned char len : {0x40, 0x80, 0xBF}) {
            Bytes b = header(1, 0x8180, 1, 0);
            b.push_back(len);
            b.insert(b.end(), 70, 'a');
            b.insert(b.end(), {0, 0, 1, 0, 1});
            CHECK_FALSE(parse_dns_response(b).has_value());
        }
    }
    SECTION("a name longer than 255 octets") {
        Bytes b = header(1, 0x8180, 1, 0);
        for (int i = 0; i < 5; ++i) {
            b.push_back(60);
            b.insert(b.end(), 60, 'x');
        }
        b.insert(b.end(), {0, 0, 1, 0, 1});
        CHECK_FALSE(parse_dns_response(b).has_value());
    }
    SECTION("rdlength past the end, or the wrong size for A/AAAA") {
        Bytes b = header(1, 0x8180, 1, 1);
        question(b, "a.example");
        record(b, ptr(12), 1, {1, 2, 3, 4});
        b[b.size() - 5] = 9; // rdlength 4 → 9
        CHECK_FALSE(parse_dns_response(b).has_value());
        Bytes c = header(1, 0x8180, 1, 1);
        question(c, "a.example");
        record(c, ptr(12), 1, {1, 2, 3, 4, 5});
        CHECK_FALSE(parse_dns_response(c).has_value());
        Bytes d = header(1, 0x8180, 1, 1);
        question(d, "a.example");
        record(d, ptr(12), 28, {1, 2, 3, 4});
        CHECK_FALSE(parse_dns_response(d).has_value());
    }
    SECTION("a label containing a dot (fuzz regression): one label \"a.example\" is not the name a.example") {
        Bytes b = header(1, 0x8180, 1, 0);
        b.push_back(9);
        for (char c : std::string("a.example")) b.push_back(static_cast<unsigned char>(c));
        b.insert(b.end(), {0, 0, 1, 0, 1});
        CHECK_FALSE(parse_dns_response(b).has_value());
        Bytes ok = header(1, 0x8180, 1, 0);
        question(ok, "a.example");
        CHECK(parse_ok(ok).qname == "a.example");
    }
    SECTION("an answer count larger than the packet") {
        Bytes b = header(1, 0x8180, 1, 0xFFFF);
        question(b, "a.example");
        record(b, ptr(12), 1, {1, 2, 3, 4});
        CHECK_FALSE(parse_dns_response(b).has_value());
    }
}

TEST_CASE("classify_address covers the RFC 6890 ranges at their boundaries", "[triage][dns]") {
    // clang-format off
    auto [ip, cls] = GENERATE(table<std::string, AddressClass>({
        {"0.0.0.0", AddressClass::unspecified},        {"0.255.255.255", AddressClass::unspecified},
        {"1.0.0.0", AddressClass::global},             {"9.255.255.255", AddressClass::global},
        {"10.0.0.0", AddressClass::private_net},       {"10.255.255.255", AddressClass::private_net},
        {"11.0.0.0", AddressClass::global},            {"100.63.255.255", AddressClass::global},
        {"100.64.0.0", AddressClass::shared_cgnat},    {"100.127.255.255", AddressClass::shared_cgnat},
        {"100.128.0.0", AddressClass::global},         {"126.255.255.255", AddressClass::global},
        {"127.0.0.1", AddressClass::loopback},         {"127.255.255.255", AddressClass::loopback},
        {"128.0.0.0", AddressClass::global},           {"169.253.255.255", AddressClass::global},
        {"169.254.0.0", AddressClass::link_local},     {"169.254.255.255", AddressClass::link_local},
        {"172.15.255.255", AddressClass::global},      {"172.16.0.0", AddressClass::private_net},
        {"172.31.255.255", AddressClass::private_net}, {"172.32.0.0", AddressClass::global},
        {"192.0.0.0", AddressClass::reserved},         {"192.0.0.255", AddressClass::reserved},
        {"192.0.1.0", AddressClass::global},           {"192.0.2.0", AddressClass::documentation},
        {"192.0.2.255", AddressClass::documentation},  {"192.0.3.0", AddressClass::global},
        {"192.167.255.255", AddressClass::global},     {"192.168.0.0", AddressClass::private_net},
        {"192.168.255.255", AddressClass::private_net}, {"192.169.0.0", AddressClass::global},
        {"198.17.255.255", AddressClass::global},      {"198.18.0.0", AddressClass::reserved},
        {"198.19.255.255", AddressClass::reserved},    {"198.20.0.0", AddressClass::global},
        {"198.51.100.7", AddressClass::documentation}, {"203.0.113.255", AddressClass::documentation},
        {"203.0.114.0", AddressClass::global},         {"223.255.255.255", AddressClass::global},
        {"224.0.0.0", AddressClass::multicast},        {"239.255.255.255", AddressClass::multicast},
        {"240.0.0.0", AddressClass::reserved},         {"255.255.255.255", AddressClass::reserved},
        {"142.250.74.14", AddressClass::global},
        {"::", AddressClass::unspecified},             {"::1", AddressClass::loopback},
        {"[::1]", AddressClass::loopback},             {"::2", AddressClass::reserved},
        {"::ffff:127.0.0.1", AddressClass::loopback},  {"::ffff:10.1.2.3", AddressClass::private_net},
        {"::ffff:8.8.8.8", AddressClass::global},      {"::ffff:0.0.0.0", AddressClass::unspecified},
        {"64:ff9b::808:808", AddressClass::global},    {"100::1", AddressClass::reserved},
        {"1fff:ffff::1", AddressClass::reserved},      {"2000::", AddressClass::global},
        {"2001:db7:ffff::1", AddressClass::global},    {"2001:db8::", AddressClass::documentation},
        {"2001:db8:ffff:ffff::1", AddressClass::documentation}, {"2001:db9::", AddressClass::global},
        {"2001:2::1", AddressClass::reserved},         {"2606:4700::1111", AddressClass::global},
        {"3fff:ffff::1", AddressClass::global},        {"4000::1", AddressClass::reserved},
        {"fbff::1", AddressClass::reserved},           {"fc00::", AddressClass::private_net},
        {"fdff:ffff::1", AddressClass::private_net},   {"fe80::", AddressClass::link_local},
        {"fe80::1%eth0", AddressClass::link_local},    {"febf:ffff::1", AddressClass::link_local},
        {"fec0::1", AddressClass::reserved},           {"ff00::", AddressClass::multicast},
        {"ff02::1", AddressClass::multicast},
        {"", AddressClass::invalid},                   {"1.2.3", AddressClass::invalid},
        {"256.0.0.1", AddressClass::invalid},          {"example.com", AddressClass::invalid},
        {"1.2.3.4 ", AddressClass::invalid},           {":::1", AddressClass::invalid},
    }));
    // clang-format on
    INFO(ip);
    CHECK(classify_address(ip) == cls);
    CHECK(is_bogon(cls) == (cls != AddressClass::global));
}

TEST_CASE("nameservers_from_resolv_conf keeps nameserver lines in order", "[triage][dns]") {
    const char* text = "# Generated by NetworkManager\n"
                       "search corp.example\n"
                       "nameserver 127.0.0.53\n"
                       "options edns0 trust-ad\n"
                       "nameserver\t192.168.1.1   # the router\n"
                       "  nameserver fe80::1%eth0\n"
                       "; nameserver 9.9.9.9\n"
                       "nameserver not-an-ip\n"
                       "nameservers 1.1.1.1\n"
                       "nameserver 2001:db8::53\r\n";
    CHECK(nameservers_from_resolv_conf(text) ==
          std::vector<std::string>{"127.0.0.53", "192.168.1.1", "fe80::1%eth0", "2001:db8::53"});
    CHECK(nameservers_from_resolv_conf("").empty());
}

TEST_CASE("hosts_file_names finds a name on any hosts line, never the address", "[triage][dns]") {
    const char* text = "127.0.0.1\tlocalhost\n"
                       "# 127.0.0.1 commented.test\n"
                       "::1 localhost ip6-localhost\r\n"
                       "127.0.0.1 Mirror.Test other.test # a comment naming trailing.test\n"
                       "10.0.0.1\n";
    // clang-format off
    auto [host, named] = GENERATE(table<std::string, bool>({
        {"localhost", true}, {"mirror.test", true}, {"MIRROR.TEST", true}, {"other.test", true},
        {"ip6-localhost", true}, {"commented.test", false}, {"trailing.test", false}, {"127.0.0.1", false},
        {"10.0.0.1", false}, {"mirror", false}, {"", false},
    }));
    // clang-format on
    CAPTURE(host);
    CHECK(hosts_file_names(text, host) == named);
}
