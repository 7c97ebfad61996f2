#include <catch2/catch.hpp>

#include <compare>
#include <string>

#include "goinstall/base/strings.hpp"
#include "goinstall/release/version.hpp"
#include "goinstall/release/version_spec.hpp"

using goinstall::parse_version;
using goinstall::parse_version_spec;
using goinstall::Version;
using goinstall::VersionSpec;

namespace {

const char* name(std::strong_ordering o) { return o < 0 ? "less" : o > 0 ? "greater" : "equal"; }

std::strong_ordering reversed(std::strong_ordering o) {
    return o < 0 ? std::strong_ordering::greater : o > 0 ? std::strong_ordering::less : o;
}

} // namespace

TEST_CASE("parse_version reads every spelling Go uses", "[release][version]") {
    struct Row {
        const char* input;
        int major, minor, patch;
        Version::Pre pre;
        int pre_num;
        const char* text;
    };
    using P = Version::Pre;
    auto row = GENERATE(values<Row>({
        {"go1.21.3", 1, 21, 3, P::none, 0, "go1.21.3"},
        {"1.21.3", 1, 21, 3, P::none, 0, "go1.21.3"},
        {"go1", 1, 0, 0, P::none, 0, "go1"},
        {"1", 1, 0, 0, P::none, 0, "go1"},
        {"1.21rc4", 1, 21, 0, P::rc, 4, "go1.21rc4"},
        {"go1.9.2rc2", 1, 9, 2, P::rc, 2, "go1.9.2rc2"},
        {"1.20.0", 1, 20, 0, P::none, 0, "go1.20.0"},
        {"go1.6beta1", 1, 6, 0, P::beta, 1, "go1.6beta1"},
        {"go1.27.0", 1, 27, 0, P::none, 0, "go1.27.0"},
        {"go1.10", 1, 10, 0, P::none, 0, "go1.10"},
        {"go2.0.1", 2, 0, 1, P::none, 0, "go2.0.1"},
    }));
    CAPTURE(row.input);
    auto v = parse_version(row.input);
    REQUIRE(v);
    CHECK(v->major == row.major);
    CHECK(v->minor == row.minor);
    CHECK(v->patch == row.patch);
    CHECK(v->pre == row.pre);
    CHECK(v->pre_num == row.pre_num);
    CHECK(v->text == row.text);
    CHECK(v->is_stable() == (row.pre == P::none));
    CHECK(goinstall::to_string(*v) == row.text);
}

TEST_CASE("parse_version rejects everything else", "[release][version]") {
    auto input =
        GENERATE(as<std::string>{}, "", "go", "1.x", "go1.21.3.4", "1.21-rc1", " 1.21", "1.21 ", "1.21\n", "GO1.21",
                 "v1.21", "go1.", "1.21.", ".1.21", "1..2", "go1.21rc", "go1.21rc1x", "go1.21alpha1", "go1rc1",
                 "1.21.3rc", "1.021", "01.2", "1.2.03", "go1.21rc01", "1.9999999", "99999999999999999999.1",
                 "1.21.4294967297", "-1.2", "+1.2", "go 1.21", "gogo1.21", "1.21.3-beta1", std::string("1.2\0", 4));
    CAPTURE(input);
    CHECK_FALSE(parse_version(input));
}

TEST_CASE("versions order like Go releases", "[release][version]") {
    struct Row {
        const char* a;
        const char* b;
        std::strong_ordering expected;
    };
    using O = std::strong_ordering;
    auto row = GENERATE(values<Row>({
        {"go1", "go1.2.2", O::less},
        {"go1.2.2", "go1.21rc4", O::less},
        {"go1.21rc4", "go1.21.0", O::less},
        {"go1.21.0", "go1.21.3", O::less},
        {"go1.9.2rc2", "go1.9.2", O::less},
        {"go1.20", "go1.20.0", O::equal},
        {"1.20.0", "go1.20", O::equal},
        {"go1.21.3", "1.21.3", O::equal},
        {"go1.21beta1", "go1.21rc1", O::less},
        {"go1.21rc1", "go1.21rc2", O::less},
        {"go1.21rc10", "go1.21rc9", O::greater},
        {"go1.9.2rc2", "go1.9.1", O::greater},
        {"go1.9.2rc2", "go1.9.2rc1", O::greater},
        {"go1.10", "go1.9.7", O::greater},
        {"go1.2.10", "go1.2.9", O::greater},
        {"go1.20.14", "go1.21rc2", O::less},
        {"go1.21.13", "go1.22rc1", O::less},
        {"go1.6beta1", "go1.5.4", O::greater},
        {"go1.6beta2", "go1.6", O::less},
        {"go1.27.0", "go1.27rc3", O::greater},
        {"go2", "go1.99.99", O::greater},
        {"go1", "go1.0.0", O::equal},
        {"go1.21.0", "go1.21", O::equal},
    }));
    auto a = parse_version(row.a);
    auto b = parse_version(row.b);
    REQUIRE(a);
    REQUIRE(b);
    INFO(row.a << " vs " << row.b << ": got " << name(compare(*a, *b)) << ", want " << name(row.expected));
    CHECK(compare(*a, *b) == row.expected);
    CHECK((*a <=> *b) == row.expected);
    CHECK(compare(*b, *a) == reversed(row.expected));
    CHECK((*a == *b) == (row.expected == 0));
}

TEST_CASE("to_string builds a canonical name when text is empty", "[release][version]") {
    using P = Version::Pre;
    struct Row {
        Version v;
        const char* text;
    };
    auto row = GENERATE(values<Row>({
        {{1, 0, 0, P::none, 0, ""}, "go1"},
        {{1, 20, 0, P::none, 0, ""}, "go1.20"},
        {{1, 21, 0, P::none, 0, ""}, "go1.21.0"},
        {{1, 21, 0, P::rc, 4, ""}, "go1.21rc4"},
        {{1, 9, 2, P::rc, 2, ""}, "go1.9.2rc2"},
        {{1, 6, 0, P::beta, 1, ""}, "go1.6beta1"},
    }));
    CHECK(goinstall::to_string(row.v) == row.text);
}

TEST_CASE("parse_version_spec classifies what the user typed", "[release][spec]") {
    using K = VersionSpec::Kind;
    struct Row {
        const char* input;
        K kind;
        const char* version; // nullptr for latest
    };
    auto row = GENERATE(values<Row>({
        {"latest", K::latest, nullptr},
        {"stable", K::latest, nullptr},
        {"LATEST", K::latest, nullptr},
        {" latest\n", K::latest, nullptr},
        {"1.21.3", K::exact, "go1.21.3"},
        {"go1.21.3", K::exact, "go1.21.3"},
        {"1.22rc1", K::exact, "go1.22rc1"},
        {"go1.9.2rc2", K::exact, "go1.9.2rc2"},
        {"1.20.0", K::exact, "go1.20.0"},
        {"go1", K::exact, "go1"},
        {"1.21", K::line, "go1.21"},
        {"go1.21", K::line, "go1.21"},
        {"1.21\n", K::line, "go1.21"},
    }));
    CAPTURE(row.input);
    auto spec = parse_version_spec(row.input);
    REQUIRE(spec);
    CHECK(spec->kind == row.kind);
    CHECK(spec->text == goinstall::trim(row.input));
    if (row.version) CHECK(spec->version.text == row.version);
}

TEST_CASE("parse_version_spec rejects non-versions with a usage error quoting the input", "[release][spec]") {
    auto input = GENERATE(as<std::string>{}, "1.x", "", "newest", "go1.21.3.4", "1.21-rc1", "v1.21");
    CAPTURE(input);
    auto spec = parse_version_spec(input);
    REQUIRE_FALSE(spec);
    CHECK(spec.error().code() == goinstall::ErrorCode::usage);
    CHECK(spec.error().message() == "'" + input + "' is not a Go version (try 1.21.3, 1.21, or latest)");
}

TEST_CASE("parse_version_spec keeps control characters out of its message", "[release][spec]") {
    auto spec = parse_version_spec("1.2\x1b[31m");
    REQUIRE_FALSE(spec);
    CHECK(spec.error().message().find('\x1b') == std::string::npos);
    CHECK(spec.error().message().find('\n') == std::string::npos);
}
