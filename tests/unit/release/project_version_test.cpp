#include <catch2/catch.hpp>

#include <string>

#include "../fakes/temp_dir.hpp"
#include "goinstall/release/project_version.hpp"

using goinstall::ErrorCode;
using goinstall::find_project_version;
using goinstall::parse_go_mod;
using goinstall::parse_go_version_file;
using goinstall::ProjectVersionOrigin;
using goinstall::version_from_go_mod;
using goinstall::VersionSpec;
using goinstall::test::TempDir;
using goinstall::test::write_text;

namespace {

// The spec a go.mod text asks for, as "kind:version" ("line:go1.22", "exact:go1.22.5",
// "none"), or "error:<message>".
std::string go_mod_answer(const std::string& text) {
    auto d = parse_go_mod(text, "go.mod");
    if (!d) return "error:" + d.error().message();
    auto pv = version_from_go_mod(*d, "go.mod");
    if (!pv) return "error:" + pv.error().message();
    if (!*pv) return "none";
    const auto& s = (*pv)->spec;
    std::string kind = s.kind == VersionSpec::Kind::line    ? "line"
                       : s.kind == VersionSpec::Kind::exact ? "exact"
                                                            : "latest";
    std::string origin = (*pv)->origin == ProjectVersionOrigin::toolchain_line ? "toolchain" : "go";
    return kind + ":" + to_string(s.version) + "@" + origin + ":" + std::to_string((*pv)->line);
}

} // namespace

TEST_CASE("go.mod: toolchain line wins, go line is a release or a language version", "[release][project]") {
    struct Row {
        const char* name;
        const char* text;
        const char* want;
    };
    auto row = GENERATE(values<Row>({
        {"plain go line (language version)", "module example.com/m\n\ngo 1.22\n", "line:go1.22@go:3"},
        {"go line with patch", "module m\ngo 1.21.0\n", "exact:go1.21.0@go:2"},
        {"go line 1.21 (language version)", "module m\ngo 1.21\n", "line:go1.21@go:2"},
        {"old language version", "module m\ngo 1.16\n", "line:go1.16@go:2"},
        {"release candidate", "module m\ngo 1.23rc2\n", "exact:go1.23rc2@go:2"},
        {"toolchain beats go", "module m\n\ngo 1.21\n\ntoolchain go1.22.5\n", "exact:go1.22.5@toolchain:5"},
        {"toolchain before go", "module m\ntoolchain go1.22.5\ngo 1.21\n", "exact:go1.22.5@toolchain:2"},
        {"custom toolchain suffix", "module m\ngo 1.21\ntoolchain go1.21.3-bigcorp\n", "exact:go1.21.3@toolchain:3"},
        {"toolchain default", "module m\ngo 1.21.4\ntoolchain default\n", "exact:go1.21.4@go:2"},
        {"trailing comment", "module m\ngo 1.22 // the minimum\n", "line:go1.22@go:2"},
        {"comment glued", "module m\ngo 1.22.1// x\n", "exact:go1.22.1@go:2"},
        {"CRLF", "module m\r\n\r\ngo 1.22.3\r\ntoolchain go1.22.5\r\n", "exact:go1.22.5@toolchain:4"},
        {"BOM", "\xEF\xBB\xBFmodule m\ngo 1.20\n", "line:go1.20@go:2"},
        {"no final newline", "module m\ngo 1.22.2", "exact:go1.22.2@go:2"},
        {"indented and tabs", "module m\n\t go\t1.22.0  \n", "exact:go1.22.0@go:2"},
        {"commented-out line", "module m\n// go 1.19\ngo 1.20.1\n", "exact:go1.20.1@go:3"},
        {"blocks are skipped",
         "module m\n\ngo 1.22\n\nrequire (\n\tgo.uber.org/zap v1.27.0\n\tgo v1.0.0 // a module named go\n"
         "\ttoolchain v0.1.0\n)\n\nreplace (\n  golang.org/x/net => ./net\n)\n",
         "line:go1.22@go:3"},
        {"one-line require", "module m\nrequire go.uber.org/zap v1.27.0\ngo 1.21.6\n", "exact:go1.21.6@go:3"},
        {"quoted module path", "module \"example.com/m\"\ngo 1.22\n", "line:go1.22@go:2"},
        {"no go line", "module m\nrequire x v1.0.0\n", "none"},
        {"empty file", "", "none"},
        {"only toolchain default", "module m\ntoolchain default\n", "none"},
        {"bad go value", "module m\ngo 1.x\n",
         "error:go.mod:2: go '1.x' is not a Go version (e.g. go 1.22 or go 1.22.5)"},
        {"go prefix on go line", "module m\ngo go1.22\n",
         "error:go.mod:2: go 'go1.22' is not a Go version (e.g. go 1.22 or go 1.22.5)"},
        {"bad toolchain", "module m\ngo 1.22\ntoolchain 1.22.5\n",
         "error:go.mod:3: toolchain '1.22.5' is not a Go toolchain name (e.g. go1.22.5)"},
        {"repeated go", "module m\ngo 1.21\ngo 1.22\n", "error:go.mod:3: repeated go line (first on line 2)"},
        {"go without value", "module m\ngo\n", "error:go.mod:2: usage: go 1.23 (one argument)"},
        {"unclosed block", "module m\ngo 1.22\nrequire (\n  x v1\n",
         "error:go.mod:3: block opened with '(' is never closed"},
    }));
    INFO(row.name);
    CHECK(go_mod_answer(row.text) == row.want);
}

TEST_CASE(".go-version: first token that is not a comment", "[release][project]") {
    struct Row {
        const char* text;
        const char* want; // to_string of the version, "latest", or "error:..."
        VersionSpec::Kind kind;
    };
    using K = VersionSpec::Kind;
    auto row = GENERATE(values<Row>({
        {"1.22.5\n", "go1.22.5", K::exact},
        {"go1.22.5", "go1.22.5", K::exact},
        {"1.22\n", "go1.22", K::line},
        {"1.23rc1\n", "go1.23rc1", K::exact},
        {"# pinned for CI\n\n  1.21.13  # security fixes\n", "go1.21.13", K::exact},
        {"\xEF\xBB\xBF"
         "1.22.5\r\n",
         "go1.22.5", K::exact},
        {"\t1.22.5\t1.21.0\n", "go1.22.5", K::exact},
        {"latest\n", "latest", K::latest},
        {"", "error:.go-version: no version in the file (e.g. a line '1.22.5')", K::latest},
        {"# only a comment\n", "error:.go-version: no version in the file (e.g. a line '1.22.5')", K::latest},
        {"1.x\n", "error:.go-version: '1.x' is not a Go version (e.g. 1.22.5, go1.22.5 or 1.22)", K::latest},
        {"v1.22.5\n", "error:.go-version: 'v1.22.5' is not a Go version (e.g. 1.22.5, go1.22.5 or 1.22)", K::latest},
    }));
    INFO(row.text);
    auto spec = parse_go_version_file(row.text, ".go-version");
    if (std::string(row.want).starts_with("error:")) {
        REQUIRE_FALSE(spec);
        CHECK(spec.error().code() == ErrorCode::usage);
        CHECK("error:" + spec.error().message() == row.want);
        return;
    }
    REQUIRE(spec);
    CHECK(spec->kind == row.kind);
    CHECK((spec->kind == K::latest ? std::string("latest") : to_string(spec->version)) == row.want);
}

TEST_CASE("find_project_version walks up: .go-version anywhere up wins, then the nearest go.mod",
          "[release][project]") {
    TempDir tmp;
    const auto home = tmp / "home";
    const auto repo = home / "src" / "repo";
    const auto sub = repo / "tools" / "sub";
    std::filesystem::create_directories(sub);

    auto find = [&](const std::filesystem::path& start) { return find_project_version(start, home); };

    // Nothing anywhere (up to home): nullopt.
    auto none = find(sub);
    REQUIRE(none);
    CHECK_FALSE(*none);

    // A go.mod two levels up.
    write_text(repo / "go.mod", "module m\n\ngo 1.21\ntoolchain go1.22.5\n");
    auto a = find(sub);
    REQUIRE(a);
    REQUIRE(*a);
    CHECK((*a)->file == repo / "go.mod");
    CHECK((*a)->origin == ProjectVersionOrigin::toolchain_line);
    CHECK(to_string((*a)->spec.version) == "go1.22.5");

    // A nearer go.mod (a nested module) wins over the outer one.
    write_text(repo / "tools" / "go.mod", "module tools\ngo 1.20\n");
    auto b = find(sub);
    REQUIRE((b && *b));
    CHECK((*b)->file == repo / "tools" / "go.mod");
    CHECK((*b)->origin == ProjectVersionOrigin::go_line);
    CHECK((*b)->spec.kind == VersionSpec::Kind::line);

    // A .go-version further up still wins over any go.mod.
    write_text(repo / ".go-version", "1.21.13\n");
    auto c = find(sub);
    REQUIRE((c && *c));
    CHECK((*c)->file == repo / ".go-version");
    CHECK((*c)->origin == ProjectVersionOrigin::go_version_file);
    CHECK(to_string((*c)->spec.version) == "go1.21.13");

    // A .go-version that is a directory is not a version file.
    std::filesystem::create_directories(sub / ".go-version");
    auto d = find(sub);
    REQUIRE((d && *d));
    CHECK((*d)->file == repo / ".go-version");

    // Above home is not searched when starting inside home; home itself is.
    std::filesystem::remove(repo / ".go-version");
    std::filesystem::remove(repo / "go.mod");
    std::filesystem::remove(repo / "tools" / "go.mod");
    write_text(tmp / ".go-version", "1.19.1\n");
    auto e = find(sub);
    REQUIRE(e);
    CHECK_FALSE(*e);
    write_text(home / ".go-version", "1.20.2\n");
    auto f = find(sub);
    REQUIRE((f && *f));
    CHECK((*f)->file == home / ".go-version");
    // Outside home, the walk goes on up to the root (and finds tmp's file).
    auto g = find_project_version(tmp / "elsewhere" / "deep", home);
    REQUIRE((g && *g));
    CHECK((*g)->file == tmp / ".go-version");
    // A trailing slash on the start or home makes no difference.
    auto h = find_project_version(sub.string() + "/", home.string() + "/");
    REQUIRE((h && *h));
    CHECK((*h)->file == home / ".go-version");
}

TEST_CASE("find_project_version: a file that names no version is an error naming it", "[release][project]") {
    TempDir tmp;
    const auto dir = tmp / "p";
    write_text(dir / "go.mod", "module m\nrequire x v1.0.0\n");
    write_text(tmp / ".go-version", "1.22.5\n"); // above: .go-version still wins over the go.mod
    auto a = find_project_version(dir, std::nullopt);
    REQUIRE((a && *a));
    CHECK((*a)->file == tmp / ".go-version");

    std::filesystem::remove(tmp / ".go-version");
    auto b = find_project_version(dir, std::nullopt);
    REQUIRE_FALSE(b);
    CHECK(b.error().code() == ErrorCode::usage);
    CHECK(b.error().message() == (dir / "go.mod").string() + ": no go or toolchain line to take the version from");

    write_text(dir / ".go-version", "banana\n");
    auto c = find_project_version(dir, std::nullopt);
    REQUIRE_FALSE(c);
    CHECK(c.error().message().find((dir / ".go-version").string() + ": 'banana'") == 0);

    write_text(dir / ".go-version", std::string(2 << 20, '#'));
    auto d = find_project_version(dir, std::nullopt);
    REQUIRE_FALSE(d);
    CHECK(d.error().message().find("larger than 1 MiB") != std::string::npos);
}
