#include <catch2/catch.hpp>

#include "goinstall/base/strings.hpp"
#include "goinstall/sumdb/base64.hpp"
#include "goinstall/sumdb/signed_note.hpp"
#include "goinstall/sumdb/tile.hpp"
#include "goinstall/sumdb/tlog.hpp"
#include "sumdb_fixtures.hpp"
#include "test_log.hpp"

using namespace goinstall;
using namespace goinstall::sumdb;
using namespace goinstall::sumdb::test;

TEST_CASE("stored hash indexes", "[sumdb][tlog]") {
    // The layout of x/mod tlog's comment: records 0..3 store 0, 1, (0+1)=2, 3, 4, (3+4)=5, (2+5)=6.
    CHECK(stored_hash_index(0, 0) == 0);
    CHECK(stored_hash_index(0, 1) == 1);
    CHECK(stored_hash_index(1, 0) == 2);
    CHECK(stored_hash_index(0, 2) == 3);
    CHECK(stored_hash_index(0, 3) == 4);
    CHECK(stored_hash_index(1, 1) == 5);
    CHECK(stored_hash_index(2, 0) == 6);
    CHECK(stored_hash_index(0, 4) == 7);
    TestLog log;
    for (std::int64_t n = 1; n <= 300; ++n) {
        log.append("r" + std::to_string(n) + "\n");
        CHECK(stored_hash_count(n) == log.stored_count());
    }
    for (std::int64_t index = 0; index < 2000; ++index) {
        auto [level, n] = split_stored_hash_index(index);
        CHECK(stored_hash_index(level, n) == index);
    }
    const std::int64_t big = std::int64_t{1} << 40;
    auto [level, n] = split_stored_hash_index(stored_hash_index(3, big));
    CHECK(level == 3);
    CHECK(n == big);
}

namespace {

// A HashReader straight over a TestLog's stored hashes (no tiles).
class LogHashes final : public HashReader {
public:
    explicit LogHashes(const TestLog& log) : m_log(log) {}
    Result<std::vector<Hash>> read_hashes(std::span<const std::int64_t> indexes) override {
        std::vector<Hash> out;
        FakeTiles tiles(m_log, m_log.size(), 1);
        for (auto x : indexes) {
            const Tile t = tile_for_index(1, x);
            auto data = m_log.tile_data(t, m_log.size());
            if (!data) return fail(ErrorCode::internal, "no tile");
            auto h = hash_from_tile(t, *data, x);
            if (!h) return std::unexpected(h.error());
            out.push_back(*h);
        }
        return out;
    }

private:
    const TestLog& m_log;
};

} // namespace

TEST_CASE("tree_hash matches RFC 6962's definition", "[sumdb][tlog]") {
    TestLog log;
    log.grow_to(130);
    LogHashes reader(log);
    for (std::int64_t n = 0; n <= log.size(); ++n) {
        auto h = tree_hash(n, reader);
        REQUIRE(h);
        CHECK(*h == log.root(n));
    }
}

TEST_CASE("a real inclusion proof of sum.golang.org verifies (c2sp tlog-proof bundle)", "[sumdb][tlog]") {
    const std::string bundle = read_fixture("sumdb-tlog-proof-tessera-v1.0.0.txt");
    const std::string leaf = read_fixture("sumdb-tlog-proof-tessera-v1.0.0.leaf.txt");
    auto key = parse_verifier_key(real_vkey());
    REQUIRE(key);
    const auto blank = bundle.find("\n\n");
    auto tree = open_tree_note(bundle.substr(blank + 2), *key);
    REQUIRE(tree);
    CHECK(tree->tree.size == 58253265);
    std::vector<Hash> proof;
    std::int64_t index = -1;
    for (const auto& line : split(bundle.substr(0, blank), '\n')) {
        if (line.starts_with("index ")) index = static_cast<std::int64_t>(*parse_u64(line.substr(6)));
        if (auto h = parse_hash(line)) proof.push_back(*h);
    }
    REQUIRE(index == 43930254);
    REQUIRE(proof.size() == 26);
    const Hash leaf_hash = record_hash(leaf);
    CHECK(check_record_proof(proof, tree->tree, index, leaf_hash));

    SECTION("negatives") {
        auto flipped = proof;
        flipped[7][0] ^= 1;
        CHECK(check_record_proof(flipped, tree->tree, index, leaf_hash).error().code() == ErrorCode::checksum);
        CHECK_FALSE(check_record_proof(proof, tree->tree, index + 1, leaf_hash));
        CHECK_FALSE(check_record_proof(std::span(proof).first(25), tree->tree, index, leaf_hash));
        CHECK_FALSE(check_record_proof(proof, tree->tree, index, record_hash(leaf + "x")));
        CHECK(check_record_proof(proof, tree->tree, tree->tree.size, leaf_hash).error().code() == ErrorCode::usage);
    }
}
