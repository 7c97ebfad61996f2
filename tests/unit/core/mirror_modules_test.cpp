// mirror sync --modules: the module state file, and the refusal to mirror without a checksum database.

#include <catch2/catch.hpp>

#include "../fakes/fake_clock.hpp"
#include "../fakes/recording_events.hpp"
#include "../fakes/serving_transport.hpp"
#include "../fakes/temp_dir.hpp"
#include "goinstall/core/mirror_modules.hpp"

using namespace goinstall;
using goinstall::test::TempDir;

TEST_CASE("the module mirror state round-trips and drops damaged lines", "[core][mirror]") {
    const std::string h1 = "h1:rRL9rPpsjKfpdDFcppvNgw1/dynUMrpDcTxdIwtyFR0=";
    ModuleState s;
    s["v0.0.1-go1.21.3.linux-amd64"] = ModuleZipState{h1, 70000000, 1700000000123456789};
    s["v0.0.1-go1.22rc1.darwin-arm64"] = ModuleZipState{h1, 1, 0};
    const auto text = format_module_state(s);
    CHECK(parse_module_state(text) == s);
    const auto damaged = text + "garbage\n" + h1 + " 1 x v0.0.1-go1.21.3.linux-386\n" + h1 + " 1 2 ../escape\n" +
                         "h1:short 1 2 v0.0.1-go1.21.3.linux-arm\n" + h1 + " 1 2\n" + h1 +
                         " 1 -2 v0.0.1-go1.21.3.linux-s390x\n";
    CHECK(parse_module_state(damaged) == s);
    CHECK(parse_module_state("").empty());
    // Entries that could not be read back are not written.
    ModuleState bad;
    bad["../x"] = ModuleZipState{h1, 1, 2};
    bad["v0.0.1-go1.21.3.linux-amd64"] = ModuleZipState{"sha256", 1, 2};
    CHECK(parse_module_state(format_module_state(bad)).empty());
}

TEST_CASE("a module mirror needs the checksum database: GOSUMDB=off is refused before any request", "[core][mirror]") {
    TempDir dir;
    test::ServingTransport transport;
    test::FakeClock clock;
    test::RecordingEvents events;
    GoproxyRouteOptions o;
    o.goproxy = {sumdb::ProxyEntry{sumdb::ProxyEntry::Kind::url, "https://proxy.example", false}};
    o.gosumdb.off = true;
    o.sumdb_cache_dir = dir / "sumdb";
    auto r = sync_module_mirror(transport, clock, events, dir / "mirror",
                                {ModuleMirrorItem{"go1.21.3", Platform{"linux", "amd64"}}}, o, nullptr);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::usage);
    CHECK_THAT(r.error().message(), Catch::Contains("GOSUMDB=off"));
    CHECK(transport.urls().empty());
    CHECK_FALSE(std::filesystem::exists(dir / "mirror"));
}
