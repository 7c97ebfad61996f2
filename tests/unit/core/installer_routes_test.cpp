// Installer: the release index route and the module proxy route one after the other. The index
// source is a URL the serving fake transport refuses (a dead go.dev); the module route is the
// goproxy rig's proxy and in-memory checksum database. No sockets, no sleeps.

#include "goproxy_rig.hpp"

#include "goinstall/core/installer.hpp"

namespace {

using namespace goinstall;

const std::string k_dead_index = "https://index.example/dl/?mode=json&include=all";

InstallRequest request(const Rig& rig) {
    InstallRequest rq;
    static_cast<InstallPlace&>(rq) = rig.place;
    rq.spec = "1.21.3";
    rq.platform = host_platform();
    rq.index.url = k_dead_index;
    rq.download.mirrors = {Mirror{"dead", "https://mirror.example/dl/"}};
    rq.download.head_start = std::chrono::milliseconds(0);
    rq.download.max_attempts_per_mirror = 1;
    rq.modules = rig.options;
    return rq;
}

} // namespace

TEST_CASE("route_unreachable: only failures to reach a route's sources let the next route try", "[core][routes]") {
    for (auto code : {ErrorCode::network, ErrorCode::tls, ErrorCode::proxy_auth, ErrorCode::index_invalid}) {
        CHECK(route_unreachable(Error(code, "x")));
    }
    for (auto code : {ErrorCode::checksum, ErrorCode::no_checksum, ErrorCode::security, ErrorCode::not_found,
                      ErrorCode::usage, ErrorCode::bad_archive, ErrorCode::toolchain_check, ErrorCode::disk_full,
                      ErrorCode::filesystem, ErrorCode::permission, ErrorCode::lock_timeout, ErrorCode::cancelled}) {
        CHECK_FALSE(route_unreachable(Error(code, "x")));
    }
}

TEST_CASE("Installer: every index source down → the module proxy route installs, and says so", "[core][routes]") {
    Rig rig;
    InstallRequest rq = request(rig);
    auto out = Installer(rig.net, rig.clock, rig.events, rig.fs).install(rq, nullptr);
    REQUIRE(out);
    CHECK(out->version == "go1.21.3");
    CHECK(out->provenance.route == "goproxy");
    CHECK(out->provenance.authority.find(k_db) != std::string::npos);
    CHECK(rig.net.count(k_dead_index) >= 1);
    CHECK(rig.events.count(EventKind::route) == 1);
}

TEST_CASE("Installer: without the module route, or with --via goproxy, the order and the errors", "[core][routes]") {
    Rig rig;
    InstallRequest rq = request(rig);

    SECTION("no module route: the index's network error, nothing asked of the proxy") {
        rq.modules.reset();
        auto out = Installer(rig.net, rig.clock, rig.events, rig.fs).install(rq, nullptr);
        REQUIRE_FALSE(out);
        CHECK(out.error().code() == ErrorCode::network);
        CHECK(rig.net.count_prefix(k_proxy) == 0);
        CHECK(rig.events.count(EventKind::route) == 0);
    }
    SECTION("--via goproxy: the proxy first, the index never asked when it works") {
        rq.modules_first = true;
        auto out = Installer(rig.net, rig.clock, rig.events, rig.fs).install(rq, nullptr);
        REQUIRE(out);
        CHECK(out->provenance.route == "goproxy");
        CHECK(rig.net.count(k_dead_index) == 0);
    }
    SECTION("both routes unreachable: one error naming both, both attempt logs for triage") {
        rig.options.goproxy = Rig::proxies("https://dead-proxy.example");
        rq.modules = rig.options;
        auto out = Installer(rig.net, rig.clock, rig.events, rig.fs).install(rq, nullptr);
        REQUIRE_FALSE(out);
        CHECK(out.error().code() == ErrorCode::network);
        CHECK(out.error().message().find("the module proxy route") != std::string::npos);
        bool proxy_tried = false;
        for (const auto& t : out.error().tried()) proxy_tried = proxy_tried || t.role == "proxy" || t.role == "sumdb";
        CHECK(proxy_tried);
        rig.check_nothing_installed();
    }
    SECTION("a tampered zip on the module route first does not fall back to the index") {
        rq.modules_first = true;
        ModuleZip other = make_zip(rig.tmp, "go1.21.3", "// tampered\n");
        rig.net.serve(Rig::zip_url(k_proxy, rig.zip.version), other.bytes);
        auto out = Installer(rig.net, rig.clock, rig.events, rig.fs).install(rq, nullptr);
        REQUIRE_FALSE(out);
        CHECK(out.error().code() == ErrorCode::checksum);
        CHECK(rig.net.count(k_dead_index) == 0);
        rig.check_nothing_installed();
    }
    SECTION("a hex --sha256 pins the index's archive: no falling back to a zip it cannot match") {
        rq.sha256_override = std::string(64, 'a');
        auto out = Installer(rig.net, rig.clock, rig.events, rig.fs).install(rq, nullptr);
        REQUIRE_FALSE(out);
        CHECK(out.error().code() == ErrorCode::network);
        CHECK(rig.net.count_prefix(k_proxy) == 0);
    }
    SECTION("--sha256 h1: goes to the module route only; without one it is refused for the index") {
        rq.sha256_override = rig.zip.h1;
        auto out = Installer(rig.net, rig.clock, rig.events, rig.fs).install(rq, nullptr);
        REQUIRE(out);
        CHECK(rig.net.count(k_dead_index) == 0);
        rq.modules.reset();
        rq.reinstall = true;
        auto refused = Installer(rig.net, rig.clock, rig.events, rig.fs).install(rq, nullptr);
        REQUIRE_FALSE(refused);
        CHECK(refused.error().code() == ErrorCode::usage);
    }
}
