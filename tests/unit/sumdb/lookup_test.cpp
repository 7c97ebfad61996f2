#include <catch2/catch.hpp>

#include "goinstall/sumdb/lookup.hpp"
#include "sumdb_fixtures.hpp"
#include "test_log.hpp"
#include "test_signer.hpp"

using namespace goinstall;
using namespace goinstall::sumdb;
using namespace goinstall::sumdb::test;

namespace {

const std::string k_version = "v0.0.1-go1.21.9.linux-amd64";
const std::string k_zip_h1 = "h1:rRL9rPpsjKfpdDFcppvNgw1/dynUMrpDcTxdIwtyFR0=";
const std::string k_mod_h1 = "h1:8wlg68NqwW7eMnI1aABk/C2pDYXj8mrMY4TyRfiLeS0=";
const std::string k_record = "golang.org/toolchain " + k_version + " " + k_zip_h1 + "\n" + "golang.org/toolchain " +
                             k_version + "/go.mod " + k_mod_h1 + "\n";

// A log of 600 records with `record` as record 345, signed by `signer`; returns the lookup body.
struct Served {
    TestLog log;
    std::string body;
    SignedTree tree;
};

Served serve(const std::string& record, const TestSigner& signer, std::int64_t claimed_id = 345) {
    Served s;
    s.log.grow_to(345);
    s.log.append(record);
    s.log.grow_to(600);
    const std::string note = signer.sign(tree_text(600, to_base64(s.log.root(600))));
    s.body = std::to_string(claimed_id) + "\n" + record + "\n" + note;
    auto key = parse_verifier_key(signer.vkey());
    REQUIRE(key);
    auto tree = open_tree_note(note, *key);
    REQUIRE(tree);
    s.tree = *tree;
    return s;
}

} // namespace

TEST_CASE("the real lookup of go1.21.9.linux-amd64 parses and its note verifies", "[sumdb][lookup]") {
    auto r = parse_lookup(read_fixture("sumdb-lookup-example.txt"));
    REQUIRE(r);
    CHECK(r->id == 24929362);
    CHECK(r->record == k_record);
    CHECK(to_base64(record_hash(r->record)) == "A/+TP2a1pyCJM2jsWxhtn8S+e4UYsO5MYbxns1Xhj+o=");
    auto key = parse_verifier_key(real_vkey());
    REQUIRE(key);
    auto tree = open_tree_note(r->note, *key);
    REQUIRE(tree);
    CHECK(tree->tree.size == 28905453);
    CHECK(r->id < tree->tree.size);
}

TEST_CASE("parse_lookup rejects malformed responses", "[sumdb][lookup]") {
    const std::string note = read_fixture("sumdb-note-6476701.txt");
    auto body = GENERATE_COPY(
        std::string(""), std::string("\n"), "abc\n" + k_record + "\n" + note, "012\n" + k_record + "\n" + note,
        "-1\n" + k_record + "\n" + note, std::string("12\n") + k_record, std::string("12"), "12\n\n" + note,
        "12\nexample.com/m v1.0.0 h1:\x01\n\n" + note, "12\nexample.com/m v1.0.0 h1:\xff\n\n" + note);
    CAPTURE(body);
    auto r = parse_lookup(body);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::checksum);
}

TEST_CASE("a proven toolchain record yields its hashes", "[sumdb][lookup]") {
    TestSigner signer("sum.test.example");
    Served s = serve(k_record, signer);
    auto response = parse_lookup(s.body);
    REQUIRE(response);
    FakeTiles tiles(s.log, 600);
    auto proven = prove_record(*response, s.tree, tiles);
    REQUIRE(proven);
    CHECK(proven->id() == 345);
    auto hashes = module_hashes(*proven, "golang.org/toolchain", k_version);
    REQUIRE(hashes);
    CHECK(hashes->zip == k_zip_h1);
    CHECK(hashes->go_mod == k_mod_h1);
    // Asking for another version of the same record's module is "not about" it.
    auto other = module_hashes(*proven, "golang.org/toolchain", "v0.0.1-go1.21.9.linux-arm64");
    REQUIRE_FALSE(other);
    CHECK_THAT(other.error().message(),
               Catch::Contains("is not about golang.org/toolchain@v0.0.1-go1.21.9.linux-arm64"));
}

TEST_CASE("records that are not proven are never used", "[sumdb][lookup]") {
    TestSigner signer("sum.test.example");
    SECTION("the response claims another record's id") {
        Served s = serve(k_record, signer, 344);
        auto response = parse_lookup(s.body);
        REQUIRE(response);
        FakeTiles tiles(s.log, 600);
        auto proven = prove_record(*response, s.tree, tiles);
        REQUIRE_FALSE(proven);
        CHECK(proven.error().code() == ErrorCode::checksum);
    }
    SECTION("the record text was altered after logging") {
        Served s = serve(k_record, signer);
        std::string body = s.body;
        body.replace(body.find("rRL9"), 4, "rRL8");
        auto response = parse_lookup(body);
        REQUIRE(response);
        FakeTiles tiles(s.log, 600);
        CHECK_FALSE(prove_record(*response, s.tree, tiles));
    }
    SECTION("an id beyond the tree") {
        Served s = serve(k_record, signer, 600);
        auto response = parse_lookup(s.body);
        REQUIRE(response);
        FakeTiles tiles(s.log, 600);
        CHECK_FALSE(prove_record(*response, s.tree, tiles));
        CHECK(tiles.requested.empty());
    }
    SECTION("a note by another key") {
        Served s = serve(k_record, signer);
        auto response = parse_lookup(s.body);
        REQUIRE(response);
        auto key = parse_verifier_key(real_vkey());
        REQUIRE(key);
        auto tree = open_tree_note(response->note, *key);
        REQUIRE_FALSE(tree);
        CHECK_THAT(tree.error().message(), Catch::Contains("no signature by key sum.golang.org+033de0ae"));
    }
}

TEST_CASE("a proven record must hold exactly the two lines of the module version", "[sumdb][lookup]") {
    const std::string zip = "golang.org/toolchain " + k_version + " " + k_zip_h1 + "\n";
    const std::string mod = "golang.org/toolchain " + k_version + "/go.mod " + k_mod_h1 + "\n";
    const std::string chi = parse_lookup(read_fixture("sumdb-lookup-go-chi-v5.3.2.txt"))->record;
    struct Row {
        const char* what;
        std::string record;
        const char* message;
    };
    auto row = GENERATE_COPY(
        Row{"another module's record", chi, "is not about"}, Row{"zip line only", zip, "1 zip and 0 go.mod lines"},
        Row{"go.mod line only", mod, "0 zip and 1 go.mod lines"},
        Row{"two zip lines", zip + zip + mod, "2 zip and 1 go.mod lines"},
        Row{"malformed hash", "golang.org/toolchain " + k_version + " h1:rRL9\n" + mod, "malformed line"},
        Row{"h2 hash", "golang.org/toolchain " + k_version + " h2:" + k_zip_h1.substr(3) + "\n" + mod,
            "malformed line"},
        Row{"trailing field", "golang.org/toolchain " + k_version + " " + k_zip_h1 + " x\n" + mod, "malformed line"});
    CAPTURE(row.what);
    TestSigner signer("sum.test.example");
    Served s = serve(row.record, signer);
    auto response = parse_lookup(s.body);
    REQUIRE(response);
    FakeTiles tiles(s.log, 600);
    auto proven = prove_record(*response, s.tree, tiles);
    REQUIRE(proven);
    auto hashes = module_hashes(*proven, "golang.org/toolchain", k_version);
    REQUIRE_FALSE(hashes);
    CHECK(hashes.error().code() == ErrorCode::checksum);
    CHECK_THAT(hashes.error().message(), Catch::Contains(row.message));
}
