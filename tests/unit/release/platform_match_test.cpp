#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>

#include "goinstall/release/platform_match.hpp"
#include "release_fixtures.hpp"

using goinstall::archive_platforms;
using goinstall::find_archive;
using goinstall::Platform;
using goinstall::Release;
using goinstall::ReleaseFile;
using goinstall::test::all_index;
using goinstall::test::find_release;

namespace {

// Independent of the code under test: the index arch spellings of 32-bit ARM
// (docs/field-notes.md#release-index).
std::string goarch(const std::string& index_arch) {
    if (index_arch == "armv6l" || index_arch == "arm6") return "arm";
    return index_arch;
}

const Release& release(std::string_view version) {
    const auto* r = find_release(all_index(), version);
    if (!r) FAIL("no release " << version << " in the fixture");
    return *r;
}

ReleaseFile archive(std::string filename, std::string os, std::string arch) {
    return {std::move(filename), std::move(os), std::move(arch), "go1.99.0", "", "archive", 1};
}

} // namespace

TEST_CASE("find_archive serves every os/arch pair the full index has archives for", "[release][platform]") {
    std::set<std::pair<std::string, std::string>> pairs;
    std::size_t checked = 0;
    for (const auto& r : all_index().releases) {
        std::set<std::pair<std::string, std::string>> in_release;
        for (const auto& f : r.files) {
            if (f.kind != "archive" || f.os == "4") continue; // the bogus go1 release, checked below
            const Platform p{f.os, goarch(f.arch)};
            pairs.insert({p.os, p.arch});
            in_release.insert({p.os, p.arch});
            const ReleaseFile* got = find_archive(r, p);
            INFO(r.version.text << " " << p.os << "/" << p.arch << " (index arch " << f.arch << ")");
            REQUIRE(got);
            CHECK(got >= r.files.data());
            CHECK(got < r.files.data() + r.files.size());
            CHECK(got->kind == "archive");
            CHECK(got->os == p.os);
            CHECK(goarch(got->arch) == p.arch);
            CHECK(got->filename.find(p.os) != std::string::npos);
            CHECK(got->filename.ends_with(p.os == "windows" ? ".zip" : ".tar.gz"));
            ++checked;
        }
        std::set<std::pair<std::string, std::string>> listed;
        for (const auto& p : archive_platforms(r)) listed.insert({p.os, p.arch});
        INFO(r.version.text);
        CHECK(listed == in_release);
    }
    CHECK(checked == 6786); // 6,788 archives minus go1's two bootstrap tarballs
    CHECK(pairs.size() == 42);
}

TEST_CASE("find_archive handles the index's naming quirks", "[release][platform]") {
    struct Row {
        const char* version;
        Platform platform;
        const char* filename; // nullptr: no archive
    };
    auto row = GENERATE(values<Row>({
        {"go1.21.3", {"linux", "arm"}, "go1.21.3.linux-armv6l.tar.gz"},
        {"go1.27.0", {"linux", "arm"}, "go1.27.0.linux-armv6l.tar.gz"},
        {"go1.6beta1", {"linux", "arm"}, "go1.6beta1.linux-arm6.tar.gz"},
        {"go1.21.3", {"freebsd", "arm"}, "go1.21.3.freebsd-arm.tar.gz"},  // arch says armv6l
        {"go1.22.5", {"windows", "arm"}, "go1.22.5.windows-arm.zip"},     // arch says armv6l
        {"go1.23.0", {"freebsd", "arm"}, "go1.23.0.freebsd-arm.tar.gz"},  // arch says arm
        {"go1.21rc2", {"linux", "arm"}, "go1.21rc2.linux-armv6l.tar.gz"}, // listed twice as armv6l
        {"go1.4.2", {"darwin", "amd64"}, "go1.4.2.darwin-amd64-osx10.8.tar.gz"},
        {"go1.4.2", {"darwin", "386"}, "go1.4.2.darwin-386-osx10.8.tar.gz"},
        {"go1.2.2", {"darwin", "amd64"}, "go1.2.2.darwin-amd64-osx10.8.tar.gz"},
        {"go1.4.2", {"windows", "amd64"}, "go1.4.2.windows-amd64.zip"},
        {"go1.27.0", {"windows", "amd64"}, "go1.27.0.windows-amd64.zip"},
        {"go1.27.0", {"darwin", "arm64"}, "go1.27.0.darwin-arm64.tar.gz"},
        {"go1.27.0", {"linux", "amd64"}, "go1.27.0.linux-amd64.tar.gz"},
        {"go1.27.0", {"linux", "x86_64"}, "go1.27.0.linux-amd64.tar.gz"}, // normalised
        {"go1.27.0", {"linux", "armv6l"}, "go1.27.0.linux-armv6l.tar.gz"},
        {"go1.27.0", {"Linux", "aarch64"}, "go1.27.0.linux-arm64.tar.gz"},
        {"go1.4.2", {"darwin", "arm64"}, nullptr},
        {"go1.20", {"windows", "arm"}, nullptr},
        {"go1.27.0", {"linux", "sparc64"}, nullptr},
        {"go1.27.0", {"", ""}, nullptr}, // the source tarball has empty os/arch
        {"go1", {"4", "bootstrap"}, nullptr},
        {"go1", {"linux", "amd64"}, nullptr},
    }));
    CAPTURE(row.version, row.platform.os, row.platform.arch);
    const ReleaseFile* got = find_archive(release(row.version), row.platform);
    if (row.filename) {
        REQUIRE(got);
        CHECK(got->filename == row.filename);
    } else {
        CHECK_FALSE(got);
    }
}

TEST_CASE("find_archive never returns an installer or source file", "[release][platform]") {
    auto platform = GENERATE(Platform{"linux", "amd64"}, Platform{"darwin", "amd64"}, Platform{"windows", "386"});
    for (const auto& r : all_index().releases) {
        const ReleaseFile* got = find_archive(r, platform);
        if (!got) continue;
        INFO(r.version.text << " " << got->filename);
        CHECK(got->kind == "archive");
        CHECK_FALSE(got->filename.ends_with(".msi"));
        CHECK_FALSE(got->filename.ends_with(".pkg"));
        CHECK(got->filename.find(".src.") == std::string::npos);
    }
}

TEST_CASE("the bogus go1 release matches no platform", "[release][platform]") {
    CHECK(archive_platforms(release("go1")).empty());
}

TEST_CASE("find_archive chooses deterministically among hand-made candidates", "[release][platform]") {
    Release r;
    r.files = {archive("go1.99.0.windows-amd64.tar.gz", "windows", "amd64"),
               archive("go1.99.0.linux-amd64.zip", "linux", "amd64"),
               archive("go1.99.0.darwin-amd64-osx10.6.tar.gz", "darwin", "amd64"),
               archive("go1.99.0.darwin-amd64-osx10.10.tar.gz", "darwin", "amd64"),
               archive("go1.99.0.darwin-amd64-osx10.8.tar.gz", "darwin", "amd64"),
               archive("go1.99.0.darwin-arm64-osx11.0.tar.gz", "darwin", "arm64"),
               archive("go1.99.0.darwin-arm64.tar.gz", "darwin", "arm64"),
               archive("go1.99.0.freebsd-amd64.zip", "freebsd", "amd64"),
               archive("go1.99.0.freebsd-amd64.tar.gz", "freebsd", "amd64")};
    r.files.push_back({"go1.99.0.linux-386.tar.gz", "linux", "386", "go1.99.0", "", "installer", 1});

    CHECK_FALSE(find_archive(r, {"windows", "amd64"})); // windows needs the .zip
    REQUIRE(find_archive(r, {"linux", "amd64"}));       // elsewhere a .zip is a fallback
    CHECK(find_archive(r, {"linux", "amd64"})->filename == "go1.99.0.linux-amd64.zip");
    CHECK(find_archive(r, {"darwin", "amd64"})->filename == "go1.99.0.darwin-amd64-osx10.10.tar.gz");
    CHECK(find_archive(r, {"darwin", "arm64"})->filename == "go1.99.0.darwin-arm64.tar.gz");
    CHECK(find_archive(r, {"freebsd", "amd64"})->filename == "go1.99.0.freebsd-amd64.tar.gz");
    CHECK_FALSE(find_archive(r, {"linux", "386"})); // kind "installer"
    CHECK(archive_platforms(r) ==
          std::vector<Platform>{{"darwin", "amd64"}, {"darwin", "arm64"}, {"freebsd", "amd64"}, {"linux", "amd64"}});
}

TEST_CASE("goarch_of_index_arch maps the index's ARM spellings", "[release][platform]") {
    struct Row {
        const char* index_arch;
        const char* goarch;
    };
    auto row = GENERATE(values<Row>({{"armv6l", "arm"},
                                     {"arm6", "arm"},
                                     {"arm", "arm"},
                                     {"arm64", "arm64"},
                                     {"amd64", "amd64"},
                                     {"386", "386"},
                                     {"ppc64le", "ppc64le"},
                                     {"loong64", "loong64"},
                                     {"bootstrap", "bootstrap"},
                                     {"", ""}}));
    CHECK(goinstall::goarch_of_index_arch(row.index_arch) == row.goarch);
}

TEST_CASE("platform_of, built_for and platform_list name an archive's platform", "[release][platform]") {
    const ReleaseFile arm{"go1.21.3.linux-armv6l.tar.gz", "linux", "armv6l", "go1.21.3", "", "archive", 1};
    CHECK(goinstall::platform_of(arm) == Platform{"linux", "arm"});
    CHECK(goinstall::built_for(arm, Platform{"linux", "arm"}));
    CHECK(goinstall::built_for(arm, Platform{"Linux", "armv7l"})); // normalised spellings
    CHECK_FALSE(goinstall::built_for(arm, Platform{"linux", "arm64"}));
    const ReleaseFile amd{"go1.21.3.linux-amd64.tar.gz", "linux", "amd64", "go1.21.3", "", "archive", 1};
    CHECK(goinstall::built_for(amd, Platform{"linux", "x86_64"}));
    const Release r{goinstall::Version{}, true, {amd, arm}};
    CHECK(goinstall::platform_list(r) == "linux/amd64, linux/arm");
    CHECK(goinstall::platform_list(Release{}).empty());
}
