#include <catch2/catch.hpp>

#include "goinstall/triage/probes.hpp"

using namespace goinstall::triage;

TEST_CASE("DNS status names are stable", "[triage][dns]") {
    CHECK(std::string(to_string(DnsStatus::nxdomain)) == "nxdomain");
    CHECK(std::string(to_string(DnsStatus::timeout)) == "timeout");
}
