#include <catch2/catch.hpp>

#include "goinstall/sumdb/toolchain_version.hpp"
#include "sumdb_fixtures.hpp"

using namespace goinstall;
using namespace goinstall::sumdb;
using namespace goinstall::sumdb::test;

TEST_CASE("toolchain module versions map to and from (go version, os, arch)", "[sumdb][toolchain_version]") {
    struct Row {
        const char* module_version;
        const char* go;
        const char* goos;
        const char* goarch;
    };
    auto row = GENERATE(Row{"v0.0.1-go1.21.3.linux-amd64", "go1.21.3", "linux", "amd64"},
                        Row{"v0.0.1-go1.22rc1.darwin-arm64", "go1.22rc1", "darwin", "arm64"},
                        Row{"v0.0.1-go1.20.windows-386", "go1.20", "windows", "386"},
                        Row{"v0.0.1-go1.4beta1.linux-amd64", "go1.4beta1", "linux", "amd64"},
                        Row{"v0.0.1-go1.9.2rc2.freebsd-arm", "go1.9.2rc2", "freebsd", "arm"},
                        Row{"v0.0.1-go1.21.0.linux-ppc64le", "go1.21.0", "linux", "ppc64le"});
    CAPTURE(row.module_version);
    auto v = parse_toolchain_module_version(row.module_version);
    REQUIRE(v);
    CHECK(to_string(v->go) == row.go);
    CHECK(v->goos == row.goos);
    CHECK(v->goarch == row.goarch);
    CHECK(toolchain_module_version(v->go, v->goos, v->goarch) == row.module_version);
}

TEST_CASE("tarball arch names become Go's in module versions", "[sumdb][toolchain_version]") {
    const Version v = *parse_version("go1.21.3");
    CHECK(toolchain_module_version(v, "linux", "armv6l") == "v0.0.1-go1.21.3.linux-arm");
    CHECK(toolchain_module_version(v, "linux", "x86_64") == "v0.0.1-go1.21.3.linux-amd64");
    CHECK(toolchain_module_version(v, "macos", "aarch64") == "v0.0.1-go1.21.3.darwin-arm64");
}

TEST_CASE("malformed toolchain module versions", "[sumdb][toolchain_version]") {
    auto bad = GENERATE("", "go1.21.3.linux-amd64", "v0.0.2-go1.21.3.linux-amd64", "v0.0.1-go1.21.3",
                        "v0.0.1-go1.21.3.linux", "v0.0.1-go1.21.3.Linux-amd64", "v0.0.1-1.21.3.linux-amd64",
                        "v0.0.1-go1.21.x.linux-amd64", "v0.0.1-go1.21.3.linux-amd64/go.mod", "v0.0.1-go1.21.3.linux-");
    CAPTURE(bad);
    CHECK_FALSE(parse_toolchain_module_version(bad));
}

TEST_CASE("the versions of a real module listing, in Go's order", "[sumdb][toolchain_version]") {
    const std::string list = read_fixture("toolchain-module-versions-ustc-2024-06.txt");
    const auto all = toolchain_versions_from_list(list);
    CHECK(all.size() == 288); // go1.2.2 … go1.22.4 (tests/fixtures/SOURCES.md)
    CHECK(to_string(all.front()) == "go1.2.2");
    CHECK(to_string(all.back()) == "go1.22.4");
    CHECK(std::is_sorted(all.begin(), all.end(), [](const Version& a, const Version& b) { return a < b; }));
    auto pos = [&all](const char* name) {
        const auto it = std::find_if(all.begin(), all.end(), [name](const Version& v) { return to_string(v) == name; });
        REQUIRE(it != all.end());
        return it - all.begin();
    };
    // Release order, not semver's: rc before the release, beta before rc, go1.N before go1.N.1.
    CHECK(pos("go1.21rc2") < pos("go1.21.0"));
    CHECK(pos("go1.4beta1") < pos("go1.4rc1"));
    CHECK(pos("go1.4rc2") < pos("go1.4"));
    CHECK(pos("go1.20") < pos("go1.20.1"));
    CHECK(pos("go1.20rc3") < pos("go1.20"));
    CHECK(pos("go1.9.7") < pos("go1.10beta1"));

    const auto arm = toolchain_versions_from_list(list, "linux", "arm");
    CHECK_FALSE(arm.empty());
    CHECK(arm.size() < all.size());
    const auto arm6 = toolchain_versions_from_list(list, "linux", "arm6"); // the listing's one odd name
    REQUIRE(arm6.size() == 1);
    CHECK(to_string(arm6[0]) == "go1.6beta1");
}
