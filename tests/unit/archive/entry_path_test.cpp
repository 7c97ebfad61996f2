#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "goinstall/archive/entry_path.hpp"

using namespace goinstall;

namespace {

struct PathCase {
    std::string raw;
    std::string top;
    bool is_zip;
    std::optional<std::string> expected; // nullopt: rejected
};

struct LinkCase {
    std::string link;
    std::string target;
    std::string top;
    bool safe;
};

} // namespace

TEST_CASE("safe_entry_path normalises safe names and rejects the rest", "[archive]") {
    using std::nullopt;
    auto c = GENERATE(values<PathCase>({
        {"go", "go", false, "go"},
        {"go/", "go", false, "go"},
        {"./go/ok", "go", false, "go/ok"},
        {"go//bin/./go/", "go", false, "go/bin/go"},
        {"go/...", "go", false, "go/..."},
        {"go/bin/go", "", false, "go/bin/go"},
        {"anything", "", false, "anything"},
        {"go/C:/x", "go", true, "go/C:/x"},
        {"C:/evil", "", false, "C:/evil"},           // an ordinary directory name in a tar
        {"go\\..\\evil", "", false, "go\\..\\evil"}, // one odd but harmless name in a tar
        {"go/a/b", "go/a", false, "go/a/b"},
        {"", "go", false, nullopt},
        {".", "go", false, nullopt},
        {"./", "", false, nullopt},
        {"../evil", "go", false, nullopt},
        {"go/../../evil", "go", false, nullopt},
        {"go/a/../b", "go", false, nullopt},
        {"go/..", "go", false, nullopt},
        {"..", "", false, nullopt},
        {"/etc/evil", "go", false, nullopt},
        {"/go/x", "go", false, nullopt},
        {"//etc/evil", "", false, nullopt},
        {"evil/outside-top", "go", false, nullopt},
        {"gopher/x", "go", false, nullopt},
        {"go/b", "go/a", false, nullopt},
        {"go\\..\\evil", "go", true, nullopt},
        {"go\\evil", "", true, nullopt},
        {"C:/evil", "go", true, nullopt},
        {"c:evil", "", true, nullopt},
        {"../evil", "go", true, nullopt},
        {std::string("go/a\0b", 6), "go", false, nullopt},
    }));
    INFO("raw=\"" << c.raw << "\" top=\"" << c.top << "\" zip=" << c.is_zip);
    auto r = safe_entry_path(c.raw, c.top, c.is_zip);
    if (c.expected) {
        REQUIRE(r.has_value());
        CHECK(*r == *c.expected);
    } else {
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == ErrorCode::bad_archive);
        if (!c.raw.empty() && c.raw.find('\0') == std::string::npos) {
            CHECK_THAT(r.error().message(), Catch::Contains(c.raw));
        }
    }
}

TEST_CASE("safe_entry_path sanitises the name it reports", "[archive]") {
    auto r = safe_entry_path("../evil\n\x1b[31mred", "go", false);
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message(), Catch::Contains("../evil"));
    CHECK(r.error().message().find('\n') == std::string::npos);
    CHECK(r.error().message().find('\x1b') == std::string::npos);
}

TEST_CASE("symlink_target_safe keeps links inside the top directory", "[archive]") {
    auto c = GENERATE(values<LinkCase>({
        {"go/bin/link", "go", "go", true},
        {"go/lib/link", "../VERSION", "go", true},
        {"go/a/b/l", "../../x", "go", true},
        {"go/a/l", "..", "go", true}, // the top directory itself
        {"go/l", ".", "go", true},
        {"go/a/l", "./x/./y", "go", true},
        {"go/a/l", "...", "go", true},
        {"go/a/l", "../b/c/d", "go", true},
        {"a/l", "../b", "", true},
        {"go/l", "../x", "go", false}, // a sibling of the top directory
        {"go/l", "../../x", "go", false},
        {"go/a/l", "../..", "go", false},
        {"go/a/l", "../../go/x", "go", false}, // leaves and re-enters: wrong once the tree moves
        {"go/l", "/tmp", "go", false},
        {"go/l", "/", "go", false},
        {"go/l", "", "go", false},
        {"go/a/l", "d/../../x", "go", false}, // escapes if d -> ".."
        {"go/a/l", "d/../x", "go", false},    // not normalised
        {"go/a/l", "x/..", "go", false},
        {"x/l", "y", "go", false}, // the link itself is outside the top directory
        {"go", "go/x", "go", false},
        {"a/l", "../../b", "", false},
        {"l", "..", "", false},
        {"go/l", std::string("a\0b", 3), "go", false},
    }));
    INFO("link=\"" << c.link << "\" target=\"" << c.target << "\" top=\"" << c.top << "\"");
    CHECK(symlink_target_safe(c.link, c.target, c.top) == c.safe);
}
