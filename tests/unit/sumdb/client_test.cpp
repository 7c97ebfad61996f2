#include <catch2/catch.hpp>

#include "../fakes/temp_dir.hpp"
#include "fake_db.hpp"
#include "goinstall/sumdb/client.hpp"

using namespace goinstall;
using namespace goinstall::sumdb;
using namespace goinstall::sumdb::test;
using goinstall::test::TempDir;

namespace {

const std::string k_v1 = "v0.0.1-go1.21.3.linux-amd64";
const std::string k_v2 = "v0.0.1-go1.22.0.linux-arm64";

// A log of 3000 records: k_v1's record is 700, k_v2's is 2500.
TestLog honest_log() {
    TestLog log;
    log.grow_to(700);
    log.append(toolchain_record(k_v1));
    log.grow_to(2500);
    log.append(toolchain_record(k_v2));
    log.grow_to(3000);
    return log;
}

// The same records except record 500, so every tree larger than 500 differs.
TestLog forked_log(const TestLog& honest) {
    TestLog log;
    for (std::int64_t i = 0; i < honest.size(); ++i)
        log.append(i == 500 ? "evil.example/m v6.6.6 h1:x\n" : honest.record(i));
    return log;
}

struct Fixture {
    TestSigner signer{"sum.test.example"};
    TestLog log = honest_log();
    TempDir dir;
    FakeDb db{log, signer, 1000};

    SumdbClient client() {
        auto key = parse_verifier_key(signer.vkey());
        REQUIRE(key);
        return SumdbClient(db, SumdbClientOptions{*key, dir.path() / "sum.test.example"});
    }
    std::string latest() const { return goinstall::test::read_text(dir.path() / "sum.test.example" / "latest"); }
    bool cached(const std::string& rel) const { return std::filesystem::exists(dir.path() / "sum.test.example" / rel); }
};

} // namespace

TEST_CASE("a lookup is verified, and cached for the next one", "[sumdb][client]") {
    Fixture f;
    auto r = f.client().lookup_toolchain(k_v1);
    REQUIRE(r);
    CHECK(r->hashes.zip == toolchain_zip_h1(k_v1));
    CHECK(r->hashes.go_mod == "h1:8wlg68NqwW7eMnI1aABk/C2pDYXj8mrMY4TyRfiLeS0=");
    CHECK(r->record_id == 700);
    CHECK(r->tree.size == 1000);
    CHECK_FALSE(r->from_cache);
    CHECK(f.latest() == f.db.note());
    CHECK(f.cached("lookup/golang.org/toolchain@" + k_v1));
    CHECK(f.cached("tile/8/0/002"));       // record 700's tile
    CHECK(f.cached("tile/8/0/003.p/232")); // the tree's last tile

    f.db.requests.clear();
    auto again = f.client().lookup_toolchain(k_v1);
    REQUIRE(again);
    CHECK(again->from_cache);
    CHECK(again->hashes.zip == toolchain_zip_h1(k_v1));
    CHECK(f.db.requests.empty()); // verified again from the cache alone
}

TEST_CASE("a missing partial tile is read from the full tile", "[sumdb][client]") {
    Fixture f;
    f.db.partial_tiles_missing = true;
    f.db.tiles_of_size = 3000; // the server has grown: tile 0/003 is complete now
    auto r = f.client().lookup_toolchain(k_v1);
    REQUIRE(r);
    CHECK(std::count(f.db.requests.begin(), f.db.requests.end(), "tile/8/0/003.p/232") == 1);
    CHECK(std::count(f.db.requests.begin(), f.db.requests.end(), "tile/8/0/003") == 1);
    CHECK(f.cached("tile/8/0/003.p/232"));
    CHECK_FALSE(f.cached("tile/8/0/003")); // the full tile was not authenticated, only its prefix
}

TEST_CASE("the cached tree moves forward only along one timeline", "[sumdb][client]") {
    Fixture f;
    REQUIRE(f.client().lookup_toolchain(k_v1));
    const std::string note_1000 = f.latest();

    SECTION("a newer consistent tree replaces latest") {
        f.db.serve(f.log, 3000);
        auto r = f.client().lookup_toolchain(k_v2);
        REQUIRE(r);
        CHECK(r->tree.size == 3000);
        CHECK(f.latest() == f.db.note());
    }
    SECTION("an older consistent tree is accepted and latest stays") {
        f.db.serve(f.log, 3000);
        REQUIRE(f.client().lookup_toolchain(k_v2));
        const std::string note_3000 = f.latest();
        std::filesystem::remove(f.dir.path() / "sum.test.example" / "lookup" / "golang.org" / ("toolchain@" + k_v1));
        f.db.serve(f.log, 1000); // a stale mirror
        auto r = f.client().lookup_toolchain(k_v1);
        REQUIRE(r);
        CHECK(r->tree.size == 1000);
        CHECK(f.latest() == note_3000);
    }
    SECTION("a forked newer tree is a security error with both notes") {
        const TestLog fork = forked_log(f.log);
        f.db.serve(fork, 3000);
        auto r = f.client().lookup_toolchain(k_v2);
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == ErrorCode::security);
        CHECK_THAT(r.error().message(), Catch::Contains("SECURITY ERROR"));
        CHECK_THAT(r.error().message(), Catch::Contains("\t1000\n") && Catch::Contains("\t3000\n"));
        CHECK_THAT(r.error().message(), Catch::Contains(to_base64(f.log.root(1000))));
        CHECK_THAT(r.error().message(), Catch::Contains(to_base64(fork.root(1000)))); // the recomputed hash
        CHECK_THAT(r.error().describe(),
                   Catch::StartsWith("checksum database sum.test.example: golang.org/toolchain@"));
        CHECK(f.latest() == note_1000);
        CHECK_FALSE(f.cached("lookup/golang.org/toolchain@" + k_v2));
    }
    SECTION("a forked tree of the same size is a security error") {
        const TestLog fork = forked_log(f.log);
        f.db.serve(fork, 1000);
        std::filesystem::remove(f.dir.path() / "sum.test.example" / "lookup" / "golang.org" / ("toolchain@" + k_v1));
        auto r = f.client().lookup_toolchain(k_v1);
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == ErrorCode::security);
        CHECK(f.latest() == note_1000);
    }
    SECTION("a forked older tree is a security error") {
        f.db.serve(f.log, 3000);
        REQUIRE(f.client().lookup_toolchain(k_v2));
        const std::string note_3000 = f.latest();
        const TestLog fork = forked_log(f.log);
        f.db.serve(fork, 2000);
        f.db.tiles_of_log = &f.log; // the honest tiles of tree 3000 stay available
        f.db.tiles_of_size = 3000;
        std::filesystem::remove(f.dir.path() / "sum.test.example" / "lookup" / "golang.org" / ("toolchain@" + k_v1));
        auto r = f.client().lookup_toolchain(k_v1);
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == ErrorCode::security);
        CHECK(f.latest() == note_3000);
    }
}

TEST_CASE("responses that do not verify are rejected and nothing is cached", "[sumdb][client]") {
    // Rows are built per fixture (each has its own random key), so a loop rather than GENERATE.
    struct Row {
        const char* what;
        std::string (*body)(Fixture& f, const std::string& good_body);
        const char* message;
    };
    const Row rows[] = {
        {"empty body", [](Fixture&, const std::string&) { return std::string(); }, "empty response"},
        {"note by another key",
         [](Fixture& f, const std::string& good) {
             TestSigner stranger("sum.test.example"); // the right name, another key
             return good.substr(0, good.find("\n\n") + 2) + stranger.sign(tree_text(1000, to_base64(f.log.root(1000))));
         },
         "no signature by key"},
        {"another module's record",
         [](Fixture& f, const std::string&) { return "12\nexample.com/m v1.0.12 h1:AAAA\n\n" + f.db.note(); },
         "is not about golang.org/toolchain@"},
        {"record id past the tree",
         [](Fixture&, const std::string& good) { return "1000\n" + good.substr(good.find('\n') + 1); },
         "cannot validate record 1000"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.what);
        Fixture f;
        const std::string path = "lookup/golang.org/toolchain@" + k_v1;
        f.db.bodies[path] = row.body(f, *f.db.get(path));
        auto r = f.client().lookup_toolchain(k_v1);
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == ErrorCode::checksum);
        CHECK_THAT(r.error().describe(), Catch::Contains(row.message));
        CHECK_FALSE(f.cached("latest"));
        CHECK_FALSE(f.cached(path));
    }
}

TEST_CASE("a tampered tile fails the lookup and is not cached", "[sumdb][client]") {
    Fixture f;
    std::string tile = *f.db.get("tile/8/0/002");
    tile[3] = static_cast<char>(tile[3] ^ 1);
    f.db.bodies["tile/8/0/002"] = tile;
    auto r = f.client().lookup_toolchain(k_v1);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::checksum);
    CHECK_THAT(r.error().message(), Catch::Contains("inconsistent tile tile/8/0/002"));
    CHECK_FALSE(f.cached("tile/8/0/002"));
    CHECK_FALSE(f.cached("latest"));
}

TEST_CASE("lookup failures are classified", "[sumdb][client]") {
    Fixture f;
    SECTION("unknown version: not_found") {
        auto r = f.client().lookup_toolchain("v0.0.1-go1.99.0.linux-amd64");
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == ErrorCode::not_found);
        REQUIRE(r.error().net());
        CHECK(r.error().net()->http_status == 404);
    }
    SECTION("a tile the server lacks: the record is unproven (checksum), not 'no such module'") {
        f.db.not_found.insert("tile/8/0/002");
        auto r = f.client().lookup_toolchain(k_v1);
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == ErrorCode::checksum);
        CHECK_THAT(r.error().describe(), Catch::Contains("does not serve tile/8/0/002 (HTTP 404)"));
        REQUIRE(r.error().net());
        CHECK(r.error().net()->http_status == 404);
    }
    SECTION("names that cannot be paths: usage, nothing fetched") {
        auto version = GENERATE("", "V0.0.1-go1.21.3.linux-amd64", "../latest", "v1/x", "v1 x", "v1\n");
        CAPTURE(version);
        auto r = f.client().lookup("golang.org/toolchain", version);
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == ErrorCode::usage);
        CHECK(f.db.requests.empty());
        auto r2 = f.client().lookup(
            GENERATE("", "/golang.org/toolchain", "golang.org//toolchain", "golang.org/../x", "golang.org/Toolchain"),
            k_v1);
        CHECK(r2.error().code() == ErrorCode::usage);
    }
    SECTION("a damaged cached latest note") {
        goinstall::test::write_text(f.dir.path() / "sum.test.example" / "latest", "go.sum database tree\n1\n");
        auto r = f.client().lookup_toolchain(k_v1);
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == ErrorCode::checksum);
        CHECK_THAT(r.error().describe(), Catch::Contains("does not verify (remove it)"));
    }
    SECTION("a damaged cached lookup is fetched again") {
        const std::string path = "lookup/golang.org/toolchain@" + k_v1;
        goinstall::test::write_text(f.dir.path() / "sum.test.example" / path, "garbage");
        auto r = f.client().lookup_toolchain(k_v1);
        REQUIRE(r);
        CHECK_FALSE(r->from_cache);
        CHECK(goinstall::test::read_text(f.dir.path() / "sum.test.example" / path) == *f.db.get(path));
    }
}
