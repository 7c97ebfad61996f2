#include <catch2/catch.hpp>

#include "goinstall/platform/host.hpp"
#include "goinstall/platform/paths.hpp"

using namespace goinstall;

TEST_CASE("normalize_arch maps common spellings to Go's names", "[platform]") {
    // clang-format off
    auto [input, expected] = GENERATE(table<std::string, std::string>({
        {"x86_64", "amd64"}, {"AMD64", "amd64"}, {"aarch64", "arm64"}, {"i686", "386"}, {"armv6l", "arm"},
        {"armv7l", "arm"},   {"arm", "arm"},     {"ppc64el", "ppc64le"}, {"loongarch64", "loong64"},
        {"s390x", "s390x"},  {"riscv64", "riscv64"},
    }));
    // clang-format on
    CHECK(normalize_arch(input) == expected);
}

TEST_CASE("host_platform uses Go's names", "[platform]") {
    auto p = host_platform();
    CHECK(p.os == "linux");
    CHECK((p.arch == "amd64" || p.arch == "arm64" || p.arch == "386" || p.arch == "arm" || p.arch == "ppc64le" ||
           p.arch == "s390x" || p.arch == "riscv64" || p.arch == "loong64"));
}

TEST_CASE("default paths follow XDG and fall back to HOME", "[platform]") {
    MapEnv xdg({{"XDG_DATA_HOME", "/x/data"}, {"XDG_CACHE_HOME", "/x/cache"}, {"HOME", "/home/u"}});
    CHECK(default_root(xdg).value() == "/x/data/goinstall");
    CHECK(default_cache_dir(xdg).value() == "/x/cache/goinstall");
    MapEnv home({{"HOME", "/home/u"}, {"XDG_DATA_HOME", "relative/ignored"}});
    CHECK(default_root(home).value() == "/home/u/.local/share/goinstall");
    CHECK(default_config_dir(home).value() == "/home/u/.config/goinstall");
    MapEnv none({});
    auto r = default_root(none);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::usage);
    CHECK(r.error().message().find("HOME") != std::string::npos);
}
