// The manifest `goinstall download` writes beside an archive: its JSON, reading it from disk,
// its file name and timestamps.

#include <catch2/catch.hpp>

#include <chrono>

#include "../fakes/temp_dir.hpp"
#include "release_fixtures.hpp"
#include "goinstall/release/manifest.hpp"

using namespace goinstall;
using goinstall::test::sample_manifest;
using goinstall::test::TempDir;
using goinstall::test::write_text;

namespace {

const std::string k_sha(64, 'a');

} // namespace

TEST_CASE("a manifest survives a round trip and is readable JSON", "[release][manifest]") {
    auto m = sample_manifest();
    auto text = serialize_manifest(m);
    CHECK(text.find("\"goinstall_manifest\": 1") != std::string::npos);
    auto back = parse_manifest(text, "m.json");
    REQUIRE(back);
    CHECK(*back == m);
}

TEST_CASE("a damaged manifest vouches for nothing", "[release][manifest]") {
    // clang-format off
    auto [text, fragment] = GENERATE(table<std::string, std::string>({
        {"", "not valid JSON"},
        {"[]", "not a JSON object"},
        {R"({"version":"go1.21.3"})", "goinstall_manifest"},
        {R"({"goinstall_manifest":2,"version":"go1.21.3"})", "goinstall_manifest"},
        {R"({"goinstall_manifest":1,"version":"x","filename":"a.tar.gz","sha256":")" + k_sha + R"(","size":1})", "not a Go version"},
        {R"({"goinstall_manifest":1,"version":"go1.2","filename":"../a.tar.gz","sha256":")" + k_sha + R"(","size":1})", "plain file name"},
        {R"({"goinstall_manifest":1,"version":"go1.2","filename":"a.tar.gz","sha256":"abc","size":1})", "64 hex"},
        {R"({"goinstall_manifest":1,"version":"go1.2","filename":"a.tar.gz","sha256":")" + k_sha + R"(","size":-1})", "size"},
        {R"({"goinstall_manifest":1,"version":"go1.2","filename":"a.tar.gz","sha256":")" + k_sha + R"(","size":1,"os":3})", "\"os\""},
    }));
    // clang-format on
    auto r = parse_manifest(text, "/x/a.manifest.json");
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::no_checksum);
    CHECK_THAT(r.error().message(), Catch::Contains("/x/a.manifest.json") && Catch::Contains(fragment));
}

TEST_CASE("read_manifest reads the manifest beside an archive", "[release][manifest]") {
    TempDir dir;
    const auto archive = dir.path() / "go1.21.3.linux-amd64.tar.gz";
    const auto path = manifest_path_for(archive);
    CHECK(path == dir.path() / "go1.21.3.linux-amd64.tar.gz.manifest.json");
    SECTION("a good one") {
        write_text(path, serialize_manifest(sample_manifest()));
        auto m = read_manifest(path);
        REQUIRE(m);
        CHECK(*m == sample_manifest());
    }
    SECTION("a damaged one vouches for nothing, naming the path") {
        write_text(path, "{}");
        auto m = read_manifest(path);
        REQUIRE_FALSE(m);
        CHECK(m.error().code() == ErrorCode::no_checksum);
        CHECK_THAT(m.error().message(), Catch::Contains(path.string()));
    }
    SECTION("one far larger than a manifest is not read") {
        write_text(path, std::string(k_max_manifest_bytes + 1, ' '));
        auto m = read_manifest(path);
        REQUIRE_FALSE(m);
        CHECK(m.error().code() != ErrorCode::no_checksum);
    }
    SECTION("a missing one") { CHECK_FALSE(read_manifest(path)); }
}

TEST_CASE("rfc3339_utc", "[release][manifest]") {
    using namespace std::chrono;
    CHECK(rfc3339_utc(system_clock::time_point{}) == "1970-01-01T00:00:00Z");
    CHECK(rfc3339_utc(system_clock::time_point{seconds{1793700245} + milliseconds{999}}) == "2026-11-03T10:04:05Z");
}
