// Inputs found by the fuzz targets (tests/fuzz, docs/fuzzing.md) that broke a documented property,
// kept as unit tests. The crash inputs themselves are in tests/fuzz/corpus/<target>/regress-*.
#include <catch2/catch.hpp>

#include <string>

#include "goinstall/net/no_proxy.hpp"

using namespace goinstall;

// tests/fuzz/corpus/no_proxy/regress-ipv4-trailing-dot: "1.2.3.4." was read as a host name, so it
// matched neither the entry 1.2.3.4 nor loopback, although the dialect ignores a trailing dot.
TEST_CASE("fuzz regression: a trailing dot on an IPv4 host is ignored", "[net][proxy][fuzz]") {
    // clang-format off
    auto [no_proxy, host, bypass] = GENERATE(table<std::string, std::string, bool>({
        {"1.2.3.4", "1.2.3.4.", true},
        {"10.0.0.0/8", "10.1.2.3.", true},
        {"1.2.3.4:443", "1.2.3.4.", true},
        {"", "127.0.0.1.", true},          // loopback is never proxied
        {"1.2.3.5", "1.2.3.4.", false},
        {"4.", "1.2.3.4.", false},         // still not a domain match on the last label
        {"1.2.3.4", "1.2.3.4..", false},   // only one trailing dot is dropped
    }));
    // clang-format on
    CAPTURE(no_proxy, host);
    CHECK(bypass_reason(parse_no_proxy(no_proxy), host, 443).has_value() == bypass);
}

TEST_CASE("fuzz regression: is_loopback_host accepts a trailing dot on 127.x", "[net][proxy][fuzz]") {
    CHECK(is_loopback_host("127.0.0.1."));
    CHECK(is_loopback_host("127.9.9.9."));
    CHECK_FALSE(is_loopback_host("128.0.0.1."));
}
