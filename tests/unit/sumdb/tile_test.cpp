#include <catch2/catch.hpp>

#include "goinstall/sumdb/tile.hpp"
#include "test_log.hpp"

using namespace goinstall;
using namespace goinstall::sumdb;
using namespace goinstall::sumdb::test;

TEST_CASE("tile paths", "[sumdb][tile]") {
    struct Row {
        Tile tile;
        const char* path;
    };
    auto row = GENERATE(Row{{8, 0, 0, 256}, "tile/8/0/000"}, Row{{8, 0, 0, 1}, "tile/8/0/000.p/1"},
                        Row{{8, 1, 441, 15}, "tile/8/1/441.p/15"}, Row{{8, 0, 112911, 237}, "tile/8/0/x112/911.p/237"},
                        Row{{8, 0, 97380, 256}, "tile/8/0/x097/380"},
                        Row{{3, 4, 1234067, 1}, "tile/3/4/x001/x234/067.p/1"}, // x/mod tlog's own examples
                        Row{{3, 4, 1234067, 8}, "tile/3/4/x001/x234/067"}, Row{{8, -1, 5, 256}, "tile/8/data/005"},
                        Row{{8, 2, 1000, 256}, "tile/8/2/x001/000"});
    CHECK(tile_path(row.tile) == row.path);
    auto parsed = parse_tile_path(row.path);
    REQUIRE(parsed);
    CHECK(*parsed == row.tile);
}

TEST_CASE("parse_tile_path rejects non-canonical paths", "[sumdb][tile]") {
    auto path =
        GENERATE("", "tile/8/0", "tiles/8/0/000", "tile/0/0/000", "tile/31/0/000", "tile/8/-1/000", "tile/8/0/00",
                 "tile/8/0/1234", "tile/8/0/x001", "tile/8/0/001/002", "tile/8/0/000.p/0", "tile/8/0/000.p/256",
                 "tile/8/0/000.p/", "tile/8/0/000.p/01", "tile/8/0/+00", "tile/8/0/x000/001", "tile/8/0/000/");
    CAPTURE(path);
    CHECK_FALSE(parse_tile_path(path));
}

TEST_CASE("tile planning for the real lookup of go1.21.9.linux-amd64", "[sumdb][tile]") {
    // Record 24929362 in tree 28905453: the six tiles of the research notes (tiles_needed.py),
    // root tiles first, then the record's tile after its parent.
    const TreeHead tree{28905453, {}};
    RecordingTiles tiles;
    CHECK_FALSE(check_record_in_tree(tree, 24929362, "x\n", tiles));
    CHECK(tiles.requested == std::vector<std::string>{"tile/8/3/000.p/1", "tile/8/2/001.p/185", "tile/8/1/441.p/15",
                                                      "tile/8/0/x112/911.p/237", "tile/8/1/380", "tile/8/0/x097/380"});
    // Consistency with the cached tree 28891140: its hash from the new tree's tiles.
    RecordingTiles tiles2;
    TileHashReader reader(tree, tiles2);
    CHECK_FALSE(tree_hash(28891140, reader));
    CHECK(tiles2.requested == std::vector<std::string>{"tile/8/3/000.p/1", "tile/8/2/001.p/185", "tile/8/1/441.p/15",
                                                       "tile/8/0/x112/911.p/237", "tile/8/1/440", "tile/8/0/x112/856"});
}

TEST_CASE("inclusion and consistency over every small tree (height 2)", "[sumdb][tile]") {
    TestLog log;
    log.grow_to(40);
    for (std::int64_t n = 1; n <= log.size(); ++n) {
        CAPTURE(n);
        FakeTiles tiles(log, n, 2);
        for (std::int64_t id = 0; id < n; ++id) REQUIRE(check_record_in_tree(log.head(n), id, log.record(id), tiles));
        TileHashReader reader(log.head(n), tiles);
        for (std::int64_t old = 0; old <= n; ++old) {
            auto h = tree_hash(old, reader);
            REQUIRE(h);
            REQUIRE(*h == log.root(old));
        }
    }
}

namespace {

// 70000 records: level-0 tiles 0/000..0/272 and 0/273.p/112, level 1 1/000 and 1/001.p/17, level 2
// 2/000.p/1. Built once: every test case below reads it.
const TestLog& big_log() {
    static const TestLog log = [] {
        TestLog l;
        l.grow_to(70000);
        return l;
    }();
    return log;
}

} // namespace

TEST_CASE("inclusion and consistency in a log of 70000 records (height 8)", "[sumdb][tile]") {
    const TestLog& log = big_log();
    const std::int64_t n = log.size();
    const TreeHead head = log.head(n);
    FakeTiles tiles(log, n);
    for (std::int64_t id : {0, 255, 256, 300, 65535, 65536, 69887, 69888, 69999}) {
        CAPTURE(id);
        REQUIRE(check_record_in_tree(head, id, log.record(id), tiles));
    }
    CHECK_FALSE(tiles.saved.empty());
    TileHashReader reader(head, tiles);
    for (std::int64_t old : {1, 256, 1000, 65536, 69999, 70000}) {
        CAPTURE(old);
        auto h = tree_hash(old, reader);
        REQUIRE(h);
        CHECK(*h == log.root(old));
    }
}

TEST_CASE("tiles that do not prove what they claim are rejected", "[sumdb][tile]") {
    const TestLog& log = big_log();
    const std::int64_t n = log.size();
    const TreeHead head = log.head(n);
    // Record 300's tile 0/001 is full, as is its parent 1/000, whose parent 2/000.p/1 is a root tile;
    // 0/273.p/112 and 1/001.p/17 are root tiles too.
    FakeTiles tiles(log, n);
    auto flip = [&](const std::string& path, std::size_t at) {
        auto t = parse_tile_path(path);
        REQUIRE(t);
        std::string data = *log.tile_data(*t, n);
        data[at] = static_cast<char>(data[at] ^ 0x40);
        tiles.overrides[path] = data;
    };
    SECTION("tile not matching its parent") {
        flip("tile/8/0/001", 5 * 32 + 3);
        auto r = check_record_in_tree(head, 300, log.record(300), tiles);
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == ErrorCode::checksum);
        CHECK_THAT(r.error().message(), Catch::Contains("inconsistent tile tile/8/0/001"));
        CHECK(tiles.saved.empty());
    }
    SECTION("a forged record hash in a tile whose parents are genuine") {
        // The attack a tile reader that skips parent checks lets through: the record's own tile
        // carries the forged record's hash.
        auto t = parse_tile_path("tile/8/0/001");
        std::string data = *log.tile_data(*t, n);
        const Hash forged = record_hash("example.com/m v1.0.300 h1:EVIL\n");
        data.replace((300 - 256) * 32, 32, reinterpret_cast<const char*>(forged.data()), 32);
        tiles.overrides["tile/8/0/001"] = data;
        auto r = check_record_in_tree(head, 300, "example.com/m v1.0.300 h1:EVIL\n", tiles);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message(), Catch::Contains("inconsistent tile tile/8/0/001"));
        CHECK(tiles.saved.empty());
    }
    SECTION("a forged level-1 tile") {
        flip("tile/8/1/000", 1 * 32 + 7);
        auto r = check_record_in_tree(head, 300, log.record(300), tiles);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message(), Catch::Contains("inconsistent tile tile/8/1/000"));
    }
    SECTION("root tile not matching the signed tree hash") {
        flip("tile/8/0/273.p/112", 0);
        auto r = check_record_in_tree(head, 300, log.record(300), tiles);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message(), Catch::Contains("inconsistent tile"));
        CHECK(tiles.saved.empty());
    }
    SECTION("truncated tile") {
        tiles.overrides["tile/8/0/001"] = log.tile_data(*parse_tile_path("tile/8/0/001"), n)->substr(0, 8191);
        auto r = check_record_in_tree(head, 300, log.record(300), tiles);
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == ErrorCode::checksum);
        CHECK_THAT(r.error().message(), Catch::Contains("8191 bytes"));
        CHECK(tiles.saved.empty());
    }
    SECTION("another record's text") {
        auto r = check_record_in_tree(head, 300, log.record(301), tiles);
        REQUIRE_FALSE(r);
        CHECK_THAT(r.error().message(), Catch::Contains("not authenticated"));
    }
    SECTION("a tile missing on the server") {
        tiles.missing.push_back("tile/8/0/001");
        auto r = check_record_in_tree(head, 300, log.record(300), tiles);
        REQUIRE_FALSE(r);
        CHECK(r.error().code() == ErrorCode::network);
    }
}

TEST_CASE("a record id not below the tree size is rejected before any tile is read", "[sumdb][tile]") {
    TestLog log;
    log.grow_to(10);
    auto id = GENERATE(std::int64_t{10}, 11, -1, std::int64_t{1} << 62);
    FakeTiles tiles(log, 10);
    auto r = check_record_in_tree(log.head(10), id, "x\n", tiles);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::checksum);
    CHECK(tiles.requested.empty());
}

TEST_CASE("a forked log fails the consistency check", "[sumdb][tile]") {
    // Both logs share records [0, 1000); the fork rewrites record 500 before growing on.
    TestLog honest, forked;
    honest.grow_to(3000);
    for (std::int64_t i = 0; i < 3000; ++i)
        forked.append(i == 500 ? std::string("evil.example/m v6.6.6\n") : honest.record(i));
    const TreeHead old_head = honest.head(1000);
    FakeTiles tiles(forked, 3000);
    TileHashReader reader(forked.head(3000), tiles);
    auto h = tree_hash(old_head.size, reader);
    REQUIRE(h);                 // the forked tiles are self-consistent...
    CHECK(*h != old_head.hash); // ...but do not contain the old tree
    // Records before the fork still prove into the forked tree; the forged one proves too — only
    // the consistency check catches the fork.
    CHECK(check_record_in_tree(forked.head(3000), 100, honest.record(100), tiles));
    CHECK_FALSE(check_record_in_tree(forked.head(3000), 500, honest.record(500), tiles));
}
