#pragma once
// The module proxy route's unit-test rig: a serving fake transport, an in-memory checksum database
// signed with a test key, and small real toolchain module zips (shared by goproxy_route_test.cpp
// and installer_routes_test.cpp).

#include <catch2/catch.hpp>

#include "../archive/archive_builder.hpp"
#include "../fakes/fake_clock.hpp"
#include "../fakes/recording_events.hpp"
#include "../fakes/serving_transport.hpp"
#include "../fakes/temp_dir.hpp"
#include "../install/install_fixtures.hpp"
#include "../sumdb/fake_db.hpp"
#include "goinstall/core/goproxy_route.hpp"
#include "goinstall/core/module_zip.hpp"
#include "goinstall/core/pipeline.hpp"
#include "goinstall/install/toolchain.hpp"
#include "goinstall/sumdb/dirhash.hpp"
#include "goinstall/sumdb/toolchain_version.hpp"
#include "goinstall/verify/sha256.hpp"

namespace {

using namespace goinstall;
using goinstall::sumdb::test::FakeDb;
using goinstall::sumdb::test::TestLog;
using goinstall::sumdb::test::TestSigner;
using goinstall::test::ArchiveKind;
using goinstall::test::EntryType;
using goinstall::test::FakeClock;
using goinstall::test::RecordingEvents;
using goinstall::test::ServingTransport;
using goinstall::test::TempDir;

const std::string k_db = "sum.test.example";
const std::string k_proxy = "https://proxy.example/mod";
const std::string k_mod_go = "h1:8wlg68NqwW7eMnI1aABk/C2pDYXj8mrMY4TyRfiLeS0=";

std::string module_version(const std::string& go, const Platform& p = host_platform()) {
    return "v0.0.1-" + go + "." + p.os + "-" + p.arch;
}

// A toolchain module zip for `go` on the host: VERSION and a bin/go that prints `reported`.
struct ModuleZip {
    std::string version; // module version
    std::string bytes;
    std::string h1; // computed independently of any zip reader: dirhash over (name, data)
};

ModuleZip make_zip(const TempDir& tmp, const std::string& go, const std::string& extra = "") {
    const Platform host = host_platform();
    ModuleZip z;
    z.version = module_version(go);
    const std::string prefix = "golang.org/toolchain@" + z.version + "/";
    const std::string version_file = go + "\ntime 2023-10-05T00:00:00Z\n";
    const std::string go_script = goinstall::test::go_printing("go version " + go + " " + host.os + "/" + host.arch);
    const std::string mod = "module std\n" + extra;
    auto path = tmp / ("build-" + z.version + std::to_string(extra.size()) + ".zip");
    goinstall::test::write_archive(path, ArchiveKind::zip,
                                   {{prefix + "VERSION", EntryType::file, 0644, version_file, ""},
                                    {prefix + "bin/go", EntryType::file, 0644, go_script, ""},
                                    {prefix + "src/_go.mod", EntryType::file, 0644, mod, ""}});
    z.bytes = goinstall::test::read_file(path);
    const std::vector<std::string> names{prefix + "VERSION", prefix + "bin/go", prefix + "src/_go.mod"};
    const std::vector<std::pair<std::string_view, std::string_view>> files{
        {names[0], version_file}, {names[1], go_script}, {names[2], mod}};
    auto h1 = sumdb::hash1(files);
    REQUIRE(h1);
    z.h1 = *h1;
    return z;
}

std::string record(const ModuleZip& z) {
    return "golang.org/toolchain " + z.version + " " + z.h1 + "\ngolang.org/toolchain " + z.version + "/go.mod " +
           k_mod_go + "\n";
}

struct Rig {
    TempDir tmp;
    ServingTransport net;
    FakeClock clock;
    RecordingEvents events;
    RealFileSystem fs;
    TestSigner signer{k_db};
    ModuleZip zip = make_zip(tmp, "go1.21.3");
    TestLog log;
    std::unique_ptr<FakeDb> db;
    GoproxyRouteOptions options;
    InstallPlace place;

    Rig() {
        log.grow_to(300);
        log.append(record(zip));
        log.grow_to(400);
        db = std::make_unique<FakeDb>(log, signer, log.size());
        net.serve_db("https://" + k_db, *db);
        auto key = sumdb::parse_gosumdb(signer.vkey());
        REQUIRE(key);
        options.gosumdb = *key;
        options.goproxy = proxies(k_proxy);
        options.platform = host_platform();
        options.spec = "1.21.3";
        options.sumdb_cache_dir = tmp / "sumdb";
        options.download.head_start = std::chrono::milliseconds(0);
        options.download.max_attempts_per_mirror = 1;
        place.layout = Layout(tmp / "root");
        serve_zip(k_proxy, zip);
    }
    static std::vector<sumdb::ProxyEntry> proxies(const std::string& text) {
        auto p = sumdb::parse_goproxy(text);
        REQUIRE(p);
        return *p;
    }
    static std::string zip_url(const std::string& proxy, const std::string& version) {
        return proxy + "/golang.org/toolchain/@v/" + version + ".zip";
    }
    // The zip at `proxy`, which does not proxy the database (404 for /sumdb/<name>/supported).
    void serve_zip(const std::string& proxy, const ModuleZip& z) {
        net.serve(zip_url(proxy, z.version), z.bytes);
        net.serve(proxy + "/sumdb/" + k_db + "/supported", "", 404);
    }
    Result<InstallOutcome> install(const CancelToken* cancel = nullptr) {
        GoproxyRoute route(net, clock, events, options);
        auto out = InstallPipeline(fs, events).run(route, place, options.spec, options.platform, cancel);
        if (!out) UNSCOPED_INFO("install failed: " << out.error().describe());
        return out;
    }
    void check_nothing_installed() const {
        CHECK(list_installed(place.layout).empty());
        CHECK_FALSE(has_leftovers(place.layout));
        std::error_code ec;
        for (const auto& e : std::filesystem::directory_iterator(place.layout.downloads_dir(), ec)) {
            CHECK_FALSE(e.path().filename().string().ends_with(".zip"));
        }
    }
};

} // namespace
