#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "goinstall/release/resolve.hpp"
#include "release_fixtures.hpp"

using goinstall::ErrorCode;
using goinstall::parse_version;
using goinstall::parse_version_spec;
using goinstall::ReleaseIndex;
using goinstall::resolve;
using goinstall::test::all_index;

namespace {

std::string resolved(const ReleaseIndex& index, const std::string& spec_text, bool unstable = false) {
    auto spec = parse_version_spec(spec_text);
    if (!spec) return "usage: " + spec.error().message();
    auto r = resolve(index, *spec, unstable);
    if (!r) return "error: " + r.error().message();
    return (*r)->version.text;
}

// The full index as it looked just before go1.27.0: the newest release is an rc.
ReleaseIndex before_go1_27_0() {
    ReleaseIndex index = all_index();
    std::erase_if(index.releases, [](const auto& r) { return r.version.text == "go1.27.0"; });
    return index;
}

} // namespace

TEST_CASE("resolve picks the release a spec means in the full index", "[release][resolve]") {
    struct Row {
        const char* spec;
        bool include_unstable;
        const char* expected;
    };
    auto row = GENERATE(values<Row>({
        {"latest", false, "go1.27.0"},
        {"stable", false, "go1.27.0"},
        {"latest", true, "go1.27.0"},
        {"1.21", false, "go1.21.13"},
        {"go1.21", false, "go1.21.13"},
        {"1.21", true, "go1.21.13"}, // include_unstable only affects latest
        {"1.21.3", false, "go1.21.3"},
        {"go1.21.3", false, "go1.21.3"},
        {"1.22rc1", false, "go1.22rc1"},
        {"1.21rc4", false, "go1.21rc4"},
        {"1.20.0", false, "go1.20"},
        {"1.20", false, "go1.20.14"},
        {"1.21.0", false, "go1.21.0"},
        {"go1.9.2rc2", false, "go1.9.2rc2"},
        {"1.9", false, "go1.9.7"},
        {"1.2", false, "go1.2.2"},
        {"1.6beta1", false, "go1.6beta1"},
        {"1.27", false, "go1.27.0"},
        {"go1", false, "go1"},
    }));
    CAPTURE(row.spec, row.include_unstable);
    CHECK(resolved(all_index(), row.spec, row.include_unstable) == row.expected);
}

TEST_CASE("resolve without a stable release yet", "[release][resolve]") {
    const auto index = before_go1_27_0();
    CHECK(resolved(index, "latest") == "go1.26.7");
    CHECK(resolved(index, "latest", true) == "go1.27rc3");
    CHECK(resolved(index, "1.27") == "go1.27rc3"); // a line with only rcs resolves to its newest rc
    CHECK(resolved(index, "1.26", true) == "go1.26.7");
}

TEST_CASE("resolve reports unknown versions as not_found with close matches", "[release][resolve]") {
    struct Row {
        const char* spec;
        const char* message;
    };
    auto row = GENERATE(values<Row>({
        {"1.21.99", "go1.21.99 is not in the release index (closest: go1.21.13, go1.21.12, go1.22.0)"},
        {"go1.20.99", "go1.20.99 is not in the release index (closest: go1.20.14, go1.20.13, go1.21.0)"},
        {"1.30", "go1.30 is not in the release index (closest: go1.27.0)"},
        {"1.30.1", "go1.30.1 is not in the release index (closest: go1.27.0)"},
        {"1.27.5", "go1.27.5 is not in the release index (closest: go1.27.0, go1.26.7)"},
        {"1.22rc9", "go1.22rc9 is not in the release index (closest: go1.22rc2, go1.22rc1, go1.23.0)"},
        {"1.21rc1", "go1.21rc1 is not in the release index (closest: go1.21rc4, go1.21rc3, go1.22.0)"},
        {"go2", "go2 is not in the release index (closest: go1.27.0)"},
        {"1.1", "go1.1 is not in the release index (closest: go1.2.2, go1)"},
    }));
    CAPTURE(row.spec);
    auto spec = parse_version_spec(row.spec);
    REQUIRE(spec);
    auto r = resolve(all_index(), *spec);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::not_found);
    CHECK(r.error().message() == row.message);
}

TEST_CASE("resolve on an empty index", "[release][resolve]") {
    const ReleaseIndex empty;
    auto latest = resolve(empty, parse_version_spec("latest").value());
    REQUIRE_FALSE(latest);
    CHECK(latest.error().code() == ErrorCode::not_found);
    CHECK(latest.error().message() == "the release index lists no stable release");
    auto exact = resolve(empty, parse_version_spec("1.21.3").value());
    REQUIRE_FALSE(exact);
    CHECK(exact.error().message() == "go1.21.3 is not in the release index");
    CHECK(goinstall::close_matches(empty, parse_version("1.21").value()).empty());
}

TEST_CASE("close_matches honours max and never lists the wanted version", "[release][resolve]") {
    const auto wanted = parse_version("1.21.99").value();
    CHECK(goinstall::close_matches(all_index(), wanted, 0).empty());
    CHECK(goinstall::close_matches(all_index(), wanted, 1) == std::vector<std::string>{"go1.21.13"});
    CHECK(goinstall::close_matches(all_index(), wanted, 5) ==
          std::vector<std::string>{"go1.21.13", "go1.21.12", "go1.21.11", "go1.21.10", "go1.22.0"});
    auto present = goinstall::close_matches(all_index(), parse_version("1.21.3").value());
    CHECK(std::find(present.begin(), present.end(), "go1.21.3") == present.end());
}
