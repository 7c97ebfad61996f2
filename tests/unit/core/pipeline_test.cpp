// The install pipeline through Installer::install (the index + mirror route) and install_archive
// (the local route), with fakes: a scripted transport, a fake clock, recorded events and a
// filesystem seam that can fail the sync. No sockets, no sleeps.

#include <catch2/catch.hpp>

#include <atomic>

#include "../archive/archive_builder.hpp"
#include "../fakes/fake_clock.hpp"
#include "../fakes/fake_transport.hpp"
#include "../fakes/recording_events.hpp"
#include "../fakes/temp_dir.hpp"
#include "../install/install_fixtures.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/core/installer.hpp"
#include "goinstall/core/offline.hpp"
#include "goinstall/install/toolchain.hpp"
#include "goinstall/verify/sha256.hpp"

namespace {

using namespace goinstall;
using goinstall::test::ArchiveKind;
using goinstall::test::EntryType;
using goinstall::test::FakeClock;
using goinstall::test::FakeTransport;
using goinstall::test::RecordingEvents;
using goinstall::test::Scripted;
using goinstall::test::TempDir;

// The real filesystem, with a sync that can be made to fail and a count of what was done.
class CountingFileSystem final : public FileSystem {
public:
    Status make_dirs(const std::filesystem::path& d) override { return m_real.make_dirs(d); }
    Result<std::filesystem::path> make_unique_dir(const std::filesystem::path& p, const std::string& prefix) override {
        return m_real.make_unique_dir(p, prefix);
    }
    Status remove_file(const std::filesystem::path& p) override { return m_real.remove_file(p); }
    Status remove_tree(const std::filesystem::path& p) override { return m_real.remove_tree(p); }
    Status rename(const std::filesystem::path& from, const std::filesystem::path& to) override {
        return m_real.rename(from, to);
    }
    Status sync_filesystem(const std::filesystem::path& d) override {
        ++syncs;
        synced_before_commit =
            !std::filesystem::exists(d.parent_path().parent_path() / "go1.21.3") || synced_before_commit;
        if (sync_fails_with != 0)
            return std::unexpected(errno_error(sync_fails_with, "syncing the file system of", d.string()));
        return m_real.sync_filesystem(d);
    }
    int syncs = 0;
    bool synced_before_commit = false;
    int sync_fails_with = 0;

private:
    RealFileSystem m_real;
};

std::string read_all(const std::filesystem::path& p) { return goinstall::test::read_file(p); }

std::string sha_of(const std::string& data) {
    Sha256 h;
    h.update(std::string_view(data));
    return h.hex_digest();
}

const std::string k_index_url = "https://index.example/dl/?mode=json&include=all";

struct Rig {
    TempDir tmp;
    FakeTransport net;
    FakeClock clock;
    RecordingEvents events;
    CountingFileSystem fs;
    Platform host = host_platform();
    std::string filename = "go1.21.3." + host.os + "-" + host.arch + ".tar.gz";
    std::string archive;
    InstallRequest rq;

    Rig() {
        auto path = tmp / "build" / filename;
        std::filesystem::create_directories(path.parent_path());
        goinstall::test::write_archive(
            path, ArchiveKind::tar_gz_pax,
            {{"go", EntryType::dir, 0755, "", ""},
             {"go/VERSION", EntryType::file, 0644, "go1.21.3\ntime 2023-10-05T00:00:00Z\n", ""},
             {"go/bin", EntryType::dir, 0755, "", ""},
             {"go/bin/go", EntryType::file, 0755,
              goinstall::test::go_printing("go version go1.21.3 " + host.os + "/" + host.arch), ""}});
        archive = read_all(path);
        rq.spec = "1.21.3";
        rq.platform = host;
        rq.layout = Layout(tmp / "root");
        rq.index.url = k_index_url;
        rq.download.mirrors = {{"first", "https://one.example/dl/"}, {"second", "https://two.example/golang/"}};
        rq.download.head_start =
            std::chrono::milliseconds(0); // one transfer at a time: racing is the Downloader's test
    }
    std::string index_json(const std::string& sha) const {
        return R"([{"version":"go1.21.3","stable":true,"files":[{"filename":")" + filename + R"(","os":")" + host.os +
               R"(","arch":")" + host.arch + R"(","version":"go1.21.3","sha256":")" + sha + R"(","size":)" +
               std::to_string(archive.size()) + R"(,"kind":"archive"}]}])";
    }
    void serve_index(const std::string& sha = "") {
        net.script(k_index_url, Scripted::ok(index_json(sha.empty() ? sha_of(archive) : sha)));
    }
    std::string url(std::size_t m) const { return join_url(rq.download.mirrors[m].base_url, filename); }
    Result<InstallOutcome> install(const CancelToken* cancel = nullptr) {
        Installer installer(net, clock, events, fs);
        return installer.install(rq, cancel);
    }
    // Nothing of a failed run is left: no toolchain, no staging, no archive.
    void check_nothing_left() const {
        CHECK(list_installed(rq.layout).empty());
        CHECK_FALSE(has_leftovers(rq.layout));
        for (const auto& e : std::filesystem::directory_iterator(rq.layout.root())) {
            CHECK_FALSE(e.path().filename().string().starts_with(".goinstall-staging-"));
        }
    }
};

TEST_CASE("pipeline: a verified archive is installed, synced before the commit and switched", "[core][pipeline]") {
    Rig rig;
    rig.serve_index();
    rig.net.script(rig.url(0), Scripted::ok(rig.archive));
    auto out = rig.install();
    REQUIRE(out);
    CHECK(out->version == "go1.21.3");
    CHECK(out->switched);
    CHECK(out->mirror == "first");
    CHECK(out->provenance.route == "index");
    CHECK(out->provenance.authority == "the release index " + k_index_url);
    CHECK(current_version(rig.rq.layout) == "go1.21.3");
    CHECK(rig.fs.syncs == 1);
    CHECK(rig.fs.synced_before_commit);
    CHECK_FALSE(std::filesystem::exists(rig.rq.layout.downloads_dir() / rig.filename)); // not kept
    CHECK(rig.events.count(EventKind::installed) == 1);
    CHECK(rig.events.count(EventKind::verified) == 1);

    SECTION("a second run needs no network, no lock wait and no sync") {
        const auto requests = rig.net.requests().size();
        auto again = rig.install();
        REQUIRE(again);
        CHECK(again->already_installed);
        CHECK(rig.net.requests().size() == requests);
        CHECK(rig.fs.syncs == 1);
    }
}

TEST_CASE("pipeline: a 404 mirror fails over to the next; the attempt log is in the outcome", "[core][pipeline]") {
    Rig rig;
    rig.serve_index();
    rig.net.script(rig.url(0), Scripted::with_status(404));
    rig.net.script(rig.url(1), Scripted::ok(rig.archive));
    auto out = rig.install();
    REQUIRE(out);
    CHECK(out->mirror == "second");
    REQUIRE(out->attempts.size() == 2);
    CHECK(out->attempts[0].mirror == "first");
    CHECK(out->attempts[0].http_status == 404);
}

TEST_CASE("pipeline: a download cut short resumes from its .part on the next run", "[core][pipeline]") {
    Rig rig;
    rig.serve_index();
    const std::map<std::string, std::string> validators{{"etag", "\"v1\""}};
    auto cut =
        Error(ErrorCode::network, "connection reset").with_net(NetDetail{.phase = NetPhase::body, .curl_code = 56});
    rig.rq.download.max_attempts_per_mirror = 1;
    rig.net.script(rig.url(0), Scripted::ok(rig.archive, validators).fail_after_bytes(rig.archive.size() / 2, cut));
    rig.net.script(
        rig.url(1),
        Scripted::failure(
            Error(ErrorCode::network, "refused").with_net(NetDetail{.phase = NetPhase::connect, .curl_code = 7})));
    auto first = rig.install();
    REQUIRE_FALSE(first);
    CHECK(first.error().code() == ErrorCode::network);
    // The attempt log travels with the error: both mirrors, with their URLs.
    REQUIRE(first.error().tried().size() >= 2);
    CHECK(first.error().tried().front().name == "first");
    CHECK(first.error().tried().back().url == rig.url(1));
    rig.check_nothing_left();

    rig.serve_index();
    rig.net.script(rig.url(0), Scripted::ok(rig.archive, validators).ranged());
    auto second = rig.install();
    REQUIRE(second);
    auto reqs = rig.net.requests_to(rig.url(0));
    REQUIRE(reqs.size() == 2);
    CHECK(reqs.back().range_start == rig.archive.size() / 2);
    CHECK(reqs.back().if_range == "\"v1\"");
    CHECK(second->bytes_downloaded < rig.archive.size());
}

TEST_CASE("pipeline: tampered bytes are refused and the previous toolchain stays current", "[core][pipeline]") {
    Rig rig;
    goinstall::test::make_toolchain(rig.rq.layout.root() / "go1.20.1", "go1.20.1");
    REQUIRE(use_version(rig.rq.layout, "go1.20.1"));
    rig.serve_index();
    std::string bad = rig.archive;
    bad[bad.size() / 2] = static_cast<char>(bad[bad.size() / 2] ^ 0x40);
    rig.rq.download.mirrors.resize(1);
    rig.net.script(rig.url(0), Scripted::ok(bad));
    auto out = rig.install();
    REQUIRE_FALSE(out);
    CHECK(out.error().code() == ErrorCode::checksum);
    CHECK(current_version(rig.rq.layout) == "go1.20.1");
    REQUIRE(list_installed(rig.rq.layout).size() == 1);
    CHECK(list_installed(rig.rq.layout)[0].version == "go1.20.1");
    CHECK(rig.fs.syncs == 0);
}

TEST_CASE("pipeline: a full disk at the sync commits nothing and says how much room is needed", "[core][pipeline]") {
    Rig rig;
    rig.serve_index();
    rig.net.script(rig.url(0), Scripted::ok(rig.archive));
    rig.fs.sync_fails_with = ENOSPC;
    auto out = rig.install();
    REQUIRE_FALSE(out);
    CHECK(out.error().code() == ErrorCode::disk_full);
    CHECK_THAT(out.error().message(), Catch::Contains("needs about"));
    rig.check_nothing_left();
    CHECK_FALSE(std::filesystem::exists(rig.rq.layout.current_link()));
}

TEST_CASE("pipeline: cancellation during the download installs nothing", "[core][pipeline]") {
    Rig rig;
    rig.serve_index();
    CancelToken cancel;
    rig.net.script(rig.url(0), Scripted::ok(rig.archive));
    rig.net.on_fetch([&](const Request& r, std::size_t) {
        if (r.url == rig.url(0)) cancel.cancel();
    });
    auto out = rig.install(&cancel);
    REQUIRE_FALSE(out);
    CHECK(out.error().code() == ErrorCode::cancelled);
    rig.check_nothing_left();
}

TEST_CASE("pipeline: an archive whose go reports another version is not committed", "[core][pipeline]") {
    Rig rig;
    auto path = rig.tmp / "liar" / rig.filename;
    std::filesystem::create_directories(path.parent_path());
    goinstall::test::write_archive(
        path, ArchiveKind::tar_gz_pax,
        {{"go/VERSION", EntryType::file, 0644, "go1.21.3\n", ""},
         {"go/bin/go", EntryType::file, 0755, goinstall::test::go_printing("go version go1.19 linux/amd64"), ""}});
    rig.archive = read_all(path);
    rig.serve_index();
    rig.net.script(rig.url(0), Scripted::ok(rig.archive));
    auto out = rig.install();
    REQUIRE_FALSE(out);
    CHECK(out.error().code() == ErrorCode::toolchain_check);
    rig.check_nothing_left();
}

TEST_CASE("pipeline: the local-archive route makes the same sync before its commit", "[core][pipeline]") {
    Rig rig;
    auto path = rig.tmp / "media" / rig.filename;
    std::filesystem::create_directories(path.parent_path());
    goinstall::test::write_text(path, rig.archive);
    ArchiveInstallRequest rq;
    rq.archive = path;
    rq.layout = rig.rq.layout;
    rq.sha256_override = sha_of(rig.archive);
    auto out = install_archive(rig.events, rq, nullptr, rig.fs);
    REQUIRE(out);
    CHECK(out->version == "go1.21.3");
    CHECK(out->provenance.route == "archive");
    CHECK(out->provenance.authority == "--sha256");
    CHECK(rig.fs.syncs == 1);
    CHECK(std::filesystem::exists(path)); // the user's file stays
}

} // namespace
