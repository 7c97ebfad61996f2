// The module proxy route through the one install pipeline, with a serving fake transport, a
// checksum database built in memory and signed with a test key (../sumdb/fake_db.hpp), and small
// real toolchain module zips built here. No sockets, no sleeps.

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "goproxy_rig.hpp"

namespace {

using namespace goinstall;

unsigned mode_of(const std::filesystem::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 0777;
}

} // namespace

TEST_CASE("goproxy digest rule: the database's h1:, --sha256, and GOSUMDB=off", "[core][goproxy]") {
    const std::string db = "h1:" + std::string(43, 'A') + "=";
    const std::string other = "h1:" + std::string(43, 'B') + "=";
    const std::string hex(64, 'a');
    const std::string auth = "the checksum database sum.golang.org (tree 7)";
    const std::string what = "golang.org/toolchain@v0.0.1-go1.21.3.linux-amd64";
    REQUIRE(is_h1_hash(db));
    CHECK_FALSE(is_h1_hash("h1:abc"));

    auto plain = module_zip_digest(db, auth, "", what);
    REQUIRE(plain);
    CHECK(plain->h1 == db);
    CHECK(plain->sha256.empty());
    CHECK(plain->authority == auth);

    CHECK(module_zip_digest(db, auth, db, what));
    auto wrong = module_zip_digest(db, auth, other, what);
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code() == ErrorCode::checksum);
    CHECK_THAT(wrong.error().message(), Catch::Contains(db) && Catch::Contains(other));

    auto both = module_zip_digest(db, auth, std::string(64, 'A'), what);
    REQUIRE(both);
    CHECK(both->h1 == db);
    CHECK(both->sha256 == hex);

    auto refused = module_zip_digest("", "", "", what);
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == ErrorCode::no_checksum);
    CHECK_THAT(refused.error().message(), Catch::Contains("GOSUMDB=off") && Catch::Contains("--sha256"));

    auto off_h1 = module_zip_digest("", "", other, what);
    REQUIRE(off_h1);
    CHECK(off_h1->h1 == other);
    CHECK(off_h1->authority == "--sha256");
    auto off_sha = module_zip_digest("", "", hex, what);
    REQUIRE(off_sha);
    CHECK(off_sha->h1.empty());
    CHECK(off_sha->sha256 == hex);

    auto junk = module_zip_digest("", "", "md5:abc", what);
    REQUIRE_FALSE(junk);
    CHECK(junk.error().code() == ErrorCode::usage);
}

TEST_CASE("goproxy route: the zip is verified against the database and installed as a toolchain", "[core][goproxy]") {
    Rig rig;
    auto out = rig.install();
    REQUIRE(out);
    CHECK(out->version == "go1.21.3");
    CHECK(out->h1 == rig.zip.h1);
    CHECK(out->provenance.route == "goproxy");
    CHECK(out->provenance.authority == "the checksum database sum.test.example (tree 400)");
    CHECK(out->provenance.server == k_proxy);
    CHECK(current_version(rig.place.layout) == "go1.21.3");
    const auto dir = rig.place.layout.toolchain_dir("go1.21.3");
    CHECK(mode_of(dir / "bin/go") == 0755);
    CHECK(mode_of(dir / "VERSION") == 0644);
    CHECK(goinstall::test::read_text(dir / "src/go.mod") == "module std\n");
    CHECK(rig.events.count(EventKind::verified) == 1);
    // sum.test.example was asked directly: the proxy has no /sumdb/.../supported.
    CHECK(rig.net.count(k_proxy + "/sumdb/" + k_db + "/supported") == 1);
    CHECK(rig.net.count_prefix("https://" + k_db + "/lookup/") == 1);
    // An exact version needs no listing.
    CHECK(rig.net.count(k_proxy + "/golang.org/toolchain/@v/list") == 0);
    CHECK_FALSE(std::filesystem::exists(rig.place.layout.downloads_dir() / (rig.zip.version + ".zip")));
    CHECK(std::filesystem::exists(rig.tmp / "sumdb" / k_db / "latest"));
}

TEST_CASE("goproxy route: the checksum database through a proxy that supports it", "[core][goproxy]") {
    Rig rig;
    rig.net.serve(k_proxy + "/sumdb/" + k_db + "/supported", "", 200);
    rig.net.serve_db(k_proxy + "/sumdb/" + k_db, *rig.db);
    auto out = rig.install();
    REQUIRE(out);
    CHECK(rig.net.count_prefix("https://" + k_db + "/") == 0);
    CHECK(rig.net.count_prefix(k_proxy + "/sumdb/" + k_db + "/lookup/") == 1);
}

TEST_CASE("goproxy route: latest and release lines resolve from @v/list in Go's order, per platform",
          "[core][goproxy]") {
    Rig rig;
    // GOSUMDB=off with the right h1 given: resolution alone, no database.
    rig.options.gosumdb = sumdb::SumdbSetting{.off = true};
    const Platform host = host_platform();
    const std::string other = host.arch == "amd64" ? "linux-arm" : "linux-amd64";
    std::string list;
    for (const char* v : {"go1.21rc2", "go1.21.0", "go1.21.3", "go1.22rc1", "go1.20"}) {
        list += "v0.0.1-" + std::string(v) + "." + host.os + "-" + host.arch + "\n";
    }
    list += "v0.0.1-go1.23.0." + other + "\n"; // another platform's newer release
    rig.net.serve(k_proxy + "/golang.org/toolchain/@v/list", list);

    // clang-format off
    auto [spec, want] = GENERATE(table<std::string, std::string>(
        {{"latest", "go1.21.3"}, {"1.21", "go1.21.3"}, {"1.22", "go1.22rc1"}, {"1.20", "go1.20"}}));
    // clang-format on
    CAPTURE(spec);
    rig.options.spec = spec;
    auto z = make_zip(rig.tmp, want);
    rig.serve_zip(k_proxy, z);
    rig.options.sha256_override = z.h1;
    GoproxyRoute route(rig.net, rig.clock, rig.events, rig.options);
    auto a = route.resolve(nullptr);
    REQUIRE(a);
    CHECK(a->version == want);
    CHECK(route.module_version() == module_version(want));
    CHECK(a->module_prefix == "golang.org/toolchain@" + module_version(want));
    CHECK(a->provenance.authority == "--sha256");
    CHECK(rig.net.count_prefix("https://" + k_db) == 0);
}

TEST_CASE("goproxy route: Go's arch names in module versions (linux-arm, not armv6l)", "[core][goproxy]") {
    Rig rig;
    rig.options.gosumdb = sumdb::SumdbSetting{.off = true};
    rig.options.sha256_override = rig.zip.h1;
    rig.options.platform = Platform{"linux", "armv6l"};
    rig.options.spec = "1.21";
    rig.net.serve(k_proxy + "/golang.org/toolchain/@v/list",
                  "v0.0.1-go1.21.3.linux-arm\nv0.0.1-go1.21.4.linux-amd64\nv0.0.1-go1.21.2.linux-arm\n");
    GoproxyRoute route(rig.net, rig.clock, rig.events, rig.options);
    auto a = route.resolve(nullptr);
    REQUIRE(a);
    CHECK(a->version == "go1.21.3");
    CHECK(route.module_version() == "v0.0.1-go1.21.3.linux-arm");
    CHECK(a->platform == Platform{"linux", "arm"});

    rig.options.platform = Platform{"windows", "arm64"};
    GoproxyRoute none(rig.net, rig.clock, rig.events, rig.options);
    auto missing = none.resolve(nullptr);
    REQUIRE_FALSE(missing);
    CHECK(missing.error().code() == ErrorCode::not_found);
    CHECK_THAT(missing.error().message(), Catch::Contains("windows/arm64"));
}

TEST_CASE("goproxy route: a zip whose h1: differs is refused, and the previous toolchain stays", "[core][goproxy]") {
    Rig rig;
    goinstall::test::make_toolchain(rig.place.layout.root() / "go1.20.1", "go1.20.1");
    REQUIRE(use_version(rig.place.layout, "go1.20.1"));
    auto evil = make_zip(rig.tmp, "go1.21.3", "// one more byte\n");
    REQUIRE(evil.h1 != rig.zip.h1);
    rig.serve_zip(k_proxy, evil);
    auto out = rig.install();
    REQUIRE_FALSE(out);
    CHECK(out.error().code() == ErrorCode::checksum);
    CHECK_THAT(out.error().describe(), Catch::Contains(rig.zip.h1) && Catch::Contains(evil.h1));
    CHECK(current_version(rig.place.layout) == "go1.20.1");
    REQUIRE(list_installed(rig.place.layout).size() == 1);
    CHECK_FALSE(std::filesystem::exists(rig.place.layout.downloads_dir() / (rig.zip.version + ".zip")));
}

TEST_CASE("goproxy route: a .part resumed into a wrong h1: is fetched again from zero once", "[core][goproxy]") {
    Rig rig;
    // An earlier run left half a file, but not of this zip's bytes.
    const auto part = rig.place.layout.downloads_dir() / (rig.zip.version + ".zip.part");
    goinstall::test::write_text(part, std::string(rig.zip.bytes.size() / 2, 'x'));
    auto out = rig.install();
    REQUIRE(out);
    CHECK(out->h1 == rig.zip.h1);
    const auto url = Rig::zip_url(k_proxy, rig.zip.version);
    CHECK(rig.net.count(url) == 2);
    CHECK(rig.events.count(EventKind::retry) >= 1);
    REQUIRE(out->attempts.size() >= 2);
    CHECK(out->attempts.front().resumed_from == rig.zip.bytes.size() / 2);
    CHECK(out->attempts.back().resumed_from == 0);
}

TEST_CASE("goproxy route: HTML instead of a zip is a bad archive, nothing installed", "[core][goproxy]") {
    Rig rig;
    rig.net.serve(Rig::zip_url(k_proxy, rig.zip.version), "<html><body>Please log in</body></html>");
    auto out = rig.install();
    REQUIRE_FALSE(out);
    CHECK(out.error().code() == ErrorCode::bad_archive);
    rig.check_nothing_installed();
}

TEST_CASE("goproxy route: a fork of the database is a security error that stops everything", "[core][goproxy]") {
    Rig rig;
    REQUIRE(rig.install()); // the cache now holds the verified tree of 400 records
    auto second = make_zip(rig.tmp, "go1.22.0");
    TestLog forked;
    for (std::int64_t i = 0; i < rig.log.size(); ++i)
        forked.append(i == 10 ? "evil.example/m v6.6.6 h1:x\n" : rig.log.record(i));
    forked.append(record(second));
    forked.grow_to(500);
    rig.db->serve(forked, forked.size());
    // Only the verified tree head is kept (as after `go clean -modcache`): the forked tiles are then
    // self-consistent, and only the comparison with the old signed tree can catch them.
    std::filesystem::remove_all(rig.tmp / "sumdb" / k_db / "tile");
    rig.serve_zip(k_proxy, second);
    rig.options.spec = "1.22.0";
    rig.net.clear_requests();
    auto out = rig.install();
    REQUIRE_FALSE(out);
    INFO(out.error().describe());
    CHECK(out.error().code() == ErrorCode::security);
    CHECK(rig.net.count(Rig::zip_url(k_proxy, second.version)) == 0); // nothing fetched
    CHECK(current_version(rig.place.layout) == "go1.21.3");
    CHECK(list_installed(rig.place.layout).size() == 1);
}

TEST_CASE("goproxy route: GOSUMDB=off is refused without a digest, accepted with the right h1:", "[core][goproxy]") {
    Rig rig;
    rig.options.gosumdb = sumdb::SumdbSetting{.off = true};
    auto refused = rig.install();
    REQUIRE_FALSE(refused);
    CHECK(refused.error().code() == ErrorCode::no_checksum);
    CHECK(rig.net.urls().empty());
    rig.check_nothing_installed();

    rig.options.sha256_override = "h1:" + std::string(43, 'Q') + "=";
    auto wrong = rig.install();
    REQUIRE_FALSE(wrong);
    CHECK(wrong.error().code() == ErrorCode::checksum);

    rig.options.sha256_override = rig.zip.h1;
    auto out = rig.install();
    REQUIRE(out);
    CHECK(out->provenance.authority == "--sha256");
    CHECK(rig.net.count_prefix("https://" + k_db) == 0);

    SECTION("or with the zip's SHA-256") {
        rig.options.sha256_override = sumdb::sha256_hex(rig.zip.bytes);
        rig.place.reinstall = true;
        auto again = rig.install();
        REQUIRE(again);
        CHECK(again->sha256 == rig.options.sha256_override);
    }
}

TEST_CASE("goproxy route: ',' stops at a failing proxy, '|' goes on to the next", "[core][goproxy]") {
    Rig rig;
    const std::string second = "https://second.example";
    rig.serve_zip(second, rig.zip);
    rig.net.serve(Rig::zip_url(k_proxy, rig.zip.version), "", 503);
    SECTION(",") {
        rig.options.goproxy = Rig::proxies(k_proxy + "," + second);
        auto out = rig.install();
        REQUIRE_FALSE(out);
        CHECK(out.error().code() == ErrorCode::network);
        CHECK(rig.net.count(Rig::zip_url(second, rig.zip.version)) == 0);
        bool named = false;
        for (const auto& t : out.error().tried()) named = named || (t.role == "proxy" && t.name == k_proxy);
        CHECK(named);
        rig.check_nothing_installed();
    }
    SECTION("|") {
        rig.options.goproxy = Rig::proxies(k_proxy + "|" + second);
        auto out = rig.install();
        REQUIRE(out);
        CHECK(out->provenance.server == second);
    }
    SECTION("404 falls through after ','") {
        rig.net.serve(Rig::zip_url(k_proxy, rig.zip.version), "", 404);
        rig.options.goproxy = Rig::proxies(k_proxy + "," + second);
        auto out = rig.install();
        REQUIRE(out);
        CHECK(out->provenance.server == second);
    }
}

TEST_CASE("goproxy route: a file:// proxy tree is used in place", "[core][goproxy]") {
    Rig rig;
    const auto tree = rig.tmp / "tree";
    goinstall::test::write_text(tree / "golang.org/toolchain/@v" / (rig.zip.version + ".zip"), rig.zip.bytes);
    rig.options.goproxy = Rig::proxies("file://" + tree.string());
    auto out = rig.install();
    REQUIRE(out);
    CHECK(out->provenance.server == "file://" + tree.string());
    CHECK(std::filesystem::exists(tree / "golang.org/toolchain/@v" / (rig.zip.version + ".zip")));
    CHECK(rig.net.count_prefix("file:") == 0);
}

TEST_CASE("goproxy route: credentials in the proxy URL never reach the outcome or errors", "[core][goproxy]") {
    Rig rig;
    const std::string secret_proxy = "https://user:hunter2@secret.example";
    rig.serve_zip(secret_proxy, rig.zip);
    rig.options.goproxy = Rig::proxies(secret_proxy);
    auto out = rig.install();
    REQUIRE(out);
    CHECK(out->provenance.server.find("hunter2") == std::string::npos);
    for (const auto& a : out->attempts) CHECK(a.url.find("hunter2") == std::string::npos);
}

TEST_CASE("module_zip_h1 agrees with dirhash over the same files", "[core][goproxy]") {
    TempDir tmp;
    auto z = make_zip(tmp, "go1.21.3");
    auto path = tmp / "z.zip";
    goinstall::test::write_text(path, z.bytes);
    CHECK(module_zip_h1(path, "golang.org/toolchain", z.version) == z.h1);
    auto wrong_prefix = module_zip_h1(path, "golang.org/toolchain", module_version("go1.21.4"));
    REQUIRE_FALSE(wrong_prefix);
    CHECK(wrong_prefix.error().code() == ErrorCode::bad_archive);
}

TEST_CASE("goproxy route: GOPROXY=off refuses at once, direct reads the module's own proxy", "[core][goproxy]") {
    Rig rig;
    rig.options.goproxy = Rig::proxies("off");
    auto off = rig.install();
    REQUIRE_FALSE(off);
    CHECK(off.error().code() == ErrorCode::usage);
    CHECK_THAT(off.error().message(), Catch::Contains("GOPROXY=off"));
    CHECK(rig.net.urls().empty());

    // direct: golang.org/toolchain's go-import tag names https://go.dev/dl/mod (a stand-in here).
    const std::string direct = "https://direct.example/dl/mod";
    rig.options.proxy.direct_url = direct;
    rig.options.goproxy = Rig::proxies("https://empty.example,direct");
    rig.net.serve("https://empty.example/sumdb/" + k_db + "/supported", "", 404);
    rig.net.serve(Rig::zip_url("https://empty.example", rig.zip.version), "", 404);
    rig.net.serve(Rig::zip_url(direct, rig.zip.version), rig.zip.bytes);
    auto out = rig.install();
    REQUIRE(out);
    CHECK(out->provenance.server == "direct (" + direct + ")");
    CHECK(rig.net.count_prefix(direct + "/sumdb/") == 0); // direct means the database itself
    CHECK(rig.net.count_prefix("https://" + k_db + "/lookup/") == 1);
}
