// Offline installs: the mirror state file, where a local archive's checksum comes from,
// and installing from a local archive (real files in a temp dir; no network, no transport).

#include <catch2/catch.hpp>

#include "../archive/archive_builder.hpp"
#include "../fakes/recording_events.hpp"
#include "../fakes/temp_dir.hpp"
#include "../install/install_fixtures.hpp"
#include "../release/release_fixtures.hpp"
#include "goinstall/core/mirror_sync.hpp"
#include "goinstall/core/offline.hpp"
#include "goinstall/release/manifest.hpp"
#include "goinstall/verify/sha256.hpp"

using namespace goinstall;
using goinstall::test::sample_manifest;
using goinstall::test::TempDir;
using goinstall::test::write_text;

namespace {

const std::string k_sha(64, 'a');

// A go1.21.3 toolchain archive for the host whose `go version` answers correctly.
std::filesystem::path make_toolchain_archive(const std::filesystem::path& dir,
                                             const std::string& version = "go1.21.3") {
    using namespace goinstall::test;
    auto host = host_platform();
    std::filesystem::create_directories(dir);
    auto path = dir / (version + "." + host.os + "-" + host.arch + ".tar.gz");
    write_archive(path, ArchiveKind::tar_gz_pax,
                  {{"go", EntryType::dir, 0755, "", ""},
                   {"go/VERSION", EntryType::file, 0644, version + "\ntime 2023-10-05T00:00:00Z\n", ""},
                   {"go/bin", EntryType::dir, 0755, "", ""},
                   {"go/bin/go", EntryType::file, 0755,
                    go_printing("go version " + version + " " + host.os + "/" + host.arch), ""}});
    return path;
}

ArchiveManifest manifest_for(const std::filesystem::path& archive, const std::string& version = "go1.21.3") {
    auto m = sample_manifest();
    auto host = host_platform();
    m.version = version;
    m.file =
        ReleaseFile{archive.filename().string(),        host.os, host.arch, version, *sha256_file(archive), "archive",
                    std::filesystem::file_size(archive)};
    return m;
}

} // namespace

TEST_CASE("the mirror state file keeps good lines and drops bad ones", "[core][offline]") {
    MirrorState s;
    s["go1.21.3.linux-amd64.tar.gz"] = VerifiedFile{k_sha, 70000000, 1700000000123456789};
    s["go1.21.3.darwin-arm64.tar.gz"] = VerifiedFile{std::string(64, 'b'), 1, -5};
    auto text = format_mirror_state(s);
    CHECK(parse_mirror_state(text) == s);
    auto damaged =
        text + "garbage line\n" + k_sha + " 12 x file\n" + k_sha + " 1 2 ../escape\n" + "zz 1 2 f\n" + k_sha + " 1 2\n";
    CHECK(parse_mirror_state(damaged) == s);
    CHECK(parse_mirror_state("").empty());
    // Fields are separated by spaces: a name with one is never written.
    CHECK(format_mirror_state({{"a b.tar.gz", VerifiedFile{k_sha, 1, 2}}}).find("a b") == std::string::npos);
}

TEST_CASE("a local archive's checksum: manifest, then cached index, then --sha256", "[core][offline]") {
    TempDir dir;
    ArchiveInstallRequest rq;
    rq.archive = dir / "go1.21.3.linux-amd64.tar.gz";
    rq.cache_dir = dir / "cache";
    rq.index_url = "https://example.invalid/dl/?mode=json&include=all";
    write_text(rq.archive, "bytes");

    SECTION("nothing knows it: no_checksum saying how to supply one") {
        auto r = expected_for_archive(rq);
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == ErrorCode::no_checksum);
        CHECK_THAT(r.error().message(), Catch::Contains("--sha256") && Catch::Contains("goinstall download"));
    }
    SECTION("--sha256 alone") {
        rq.sha256_override = std::string(64, 'C');
        auto r = expected_for_archive(rq);
        REQUIRE(r);
        CHECK(r->sha256 == std::string(64, 'c'));
        CHECK(r->version.empty());
        CHECK(r->source == "--sha256");
    }
    SECTION("a cached index (any cached copy) lists the file name") {
        ReleaseIndex idx;
        idx.releases.push_back(Release{*parse_version("go1.21.3"),
                                       true,
                                       {ReleaseFile{"go1.21.3.linux-amd64.tar.gz", "linux", "amd64", "go1.21.3",
                                                    std::string(64, 'd'), "archive", 5}}});
        write_text(rq.cache_dir / "index-0123456789abcdef.json", serialize_index(idx));
        auto r = expected_for_archive(rq);
        REQUIRE(r);
        CHECK(r->sha256 == std::string(64, 'd'));
        CHECK(r->version == "go1.21.3");
        CHECK_THAT(r->source, Catch::Contains("cached release index"));

        SECTION("and the manifest beside the archive wins over it") {
            auto m = sample_manifest();
            write_text(manifest_path_for(rq.archive), serialize_manifest(m));
            auto r2 = expected_for_archive(rq);
            REQUIRE(r2);
            CHECK(r2->sha256 == k_sha);
            CHECK_THAT(r2->source, Catch::Contains("manifest"));
        }
        SECTION("--sha256 that disagrees is a checksum error") {
            rq.sha256_override = std::string(64, 'e');
            auto r2 = expected_for_archive(rq);
            REQUIRE_FALSE(r2);
            CHECK(r2.error().code() == ErrorCode::checksum);
        }
    }
    SECTION("a damaged manifest is an error, not a silent fallback") {
        write_text(manifest_path_for(rq.archive), "{not json");
        rq.sha256_override = k_sha;
        auto r = expected_for_archive(rq);
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == ErrorCode::no_checksum);
    }
}

TEST_CASE("install_archive installs a verified local archive and refuses a tampered one", "[core][offline]") {
    TempDir dir;
    auto archive = make_toolchain_archive(dir / "media");
    goinstall::test::RecordingEvents events;
    ArchiveInstallRequest rq;
    rq.archive = archive;
    rq.layout = Layout(dir / "root");
    rq.lock_timeout = std::chrono::seconds(5);

    SECTION("with a manifest") {
        write_text(manifest_path_for(archive), serialize_manifest(manifest_for(archive)));
        auto out = install_archive(events, rq, nullptr);
        REQUIRE(out);
        CHECK(out->version == "go1.21.3");
        CHECK(out->switched);
        CHECK(read_version_file(dir / "root" / "go1.21.3") == "go1.21.3");
        CHECK(current_version(rq.layout) == "go1.21.3");
        CHECK(std::filesystem::exists(archive)); // the user's file stays
        auto again = install_archive(events, rq, nullptr);
        REQUIRE(again);
        CHECK(again->already_installed);

        SECTION("a version that contradicts the manifest is refused") {
            rq.spec = "1.22";
            rq.reinstall = true;
            auto r = install_archive(events, rq, nullptr);
            REQUIRE_FALSE(r);
            CHECK(r.error().code() == ErrorCode::usage);
        }
    }
    SECTION("tampered bytes: checksum error, nothing installed") {
        auto m = manifest_for(archive);
        m.file.sha256 = std::string(64, 'f');
        write_text(manifest_path_for(archive), serialize_manifest(m));
        auto out = install_archive(events, rq, nullptr);
        REQUIRE_FALSE(out);
        CHECK(out.error().code() == ErrorCode::checksum);
        CHECK(list_installed(rq.layout).empty());
        CHECK(goinstall::test::list_dir(dir / "root") == std::vector<std::string>{".lock"});
    }
    SECTION("only --sha256: the version comes from the archive's VERSION") {
        rq.sha256_override = *sha256_file(archive);
        auto out = install_archive(events, rq, nullptr);
        REQUIRE(out);
        CHECK(out->version == "go1.21.3");
    }
    SECTION("--sha256 with a version the archive does not hold") {
        rq.sha256_override = *sha256_file(archive);
        rq.spec = "1.20.1";
        auto out = install_archive(events, rq, nullptr);
        REQUIRE_FALSE(out);
        CHECK(list_installed(rq.layout).empty());
    }
}
