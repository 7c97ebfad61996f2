// --resolve HOST:PORT:ADDR[,ADDR...] as curl reads it (resolve_pin.hpp): accepted forms, the curl
// rendering, which pin applies to a host:port, and usage errors that name the bad value.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "goinstall/net/resolve_pin.hpp"

using namespace goinstall;

TEST_CASE("parse_resolve_pin accepts curl's forms", "[net][resolve]") {
    auto [text, host, port, addresses, curl] =
        // clang-format off
        GENERATE(table<std::string, std::string, int, std::vector<std::string>, std::string>({
            {"mirror.test:443:127.0.0.1", "mirror.test", 443, {"127.0.0.1"}, "mirror.test:443:127.0.0.1"},
            {"Mirror.TEST:8443:[::1]", "mirror.test", 8443, {"::1"}, "mirror.test:8443:[::1]"},
            {"m:1:[::1],127.0.0.1", "m", 1, {"::1", "127.0.0.1"}, "m:1:[::1],127.0.0.1"},
            {"m:65535:::1", "m", 65535, {"::1"}, "m:65535:[::1]"}, // bare IPv6, as curl allows
            {"m:80:10.0.0.1,10.0.0.2,[2001:DB8::1]", "m", 80, {"10.0.0.1", "10.0.0.2", "2001:db8::1"},
             "m:80:10.0.0.1,10.0.0.2,[2001:db8::1]"},
            {"*:443:127.0.0.2", "*", 443, {"127.0.0.2"}, "*:443:127.0.0.2"},
        }));
    // clang-format on
    CAPTURE(text);
    auto pin = parse_resolve_pin(text);
    REQUIRE(pin);
    CHECK(pin->host == host);
    CHECK(pin->port == port);
    CHECK(pin->addresses == addresses);
    CHECK(to_curl_resolve(*pin) == curl);
}

TEST_CASE("parse_resolve_pin rejects bad values with a usage error naming them", "[net][resolve]") {
    // clang-format off
    auto [text, why] = GENERATE(table<std::string, std::string>({
        {"", "is empty"},
        {"mirror.test", "has no port"},
        {"mirror.test:443", "has no address"},
        {"mirror.test:443:", "has no address"},
        {":443:127.0.0.1", "has no valid host name"},
        {"mirror.test:0:127.0.0.1", "port from 1 to 65535"},
        {"mirror.test:65536:127.0.0.1", "port from 1 to 65535"},
        {"mirror.test:https:127.0.0.1", "port from 1 to 65535"},
        {"mirror.test:443:localhost", "'localhost', which is not an IP address"},
        {"mirror.test:443:127.0.0.1,", "'', which is not an IP address"},
        {"mirror.test:443:[127.0.0.1]", "'127.0.0.1', which is not an IP address"}, // brackets are for IPv6
        {"mirror.test:443:[::1", "'[::1', which is not an IP address"},
        {"mirror.test:443:256.1.1.1", "not an IP address"},
        {"+mirror.test:443:127.0.0.1", "'+' or '-' prefix"},
        {"-mirror.test:443", "'+' or '-' prefix"},
    }));
    // clang-format on
    CAPTURE(text);
    auto pin = parse_resolve_pin(text);
    REQUIRE_FALSE(pin);
    CHECK(pin.error().code() == ErrorCode::usage);
    CHECK_THAT(pin.error().message(), Catch::Contains("--resolve: '" + text + "'"));
    CHECK_THAT(pin.error().message(), Catch::Contains(why));
}

TEST_CASE("find_resolve_pin: exact host and port, the latest entry, then the wildcard", "[net][resolve]") {
    std::vector<ResolvePin> pins;
    for (const char* s : {"*:443:127.0.0.9", "a.test:443:127.0.0.1", "a.test:443:127.0.0.2", "b.test:80:[::1]"}) {
        auto p = parse_resolve_pin(s);
        REQUIRE(p);
        pins.push_back(*p);
    }
    auto a = find_resolve_pin(pins, "A.Test", 443);
    REQUIRE(a);
    CHECK(a->addresses == std::vector<std::string>{"127.0.0.2"});
    CHECK(find_resolve_pin(pins, "b.test", 80)->addresses == std::vector<std::string>{"::1"});
    CHECK_FALSE(find_resolve_pin(pins, "b.test", 443 + 1));
    CHECK(find_resolve_pin(pins, "c.test", 443)->addresses == std::vector<std::string>{"127.0.0.9"});
    CHECK_FALSE(find_resolve_pin(pins, "a.test", 80));
    CHECK_FALSE(find_resolve_pin({}, "a.test", 443));
}
