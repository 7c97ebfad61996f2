#include <catch2/catch.hpp>

#include "goinstall/sumdb/base64.hpp"
#include "goinstall/sumdb/hash.hpp"

using namespace goinstall::sumdb;

namespace {
std::span<const unsigned char> bytes(const std::string& s) {
    return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}
} // namespace

TEST_CASE("base64 round-trips the RFC 4648 section 10 vectors", "[sumdb][base64]") {
    struct Row {
        std::string plain, encoded;
    };
    auto row =
        GENERATE(Row{"", ""}, Row{"f", "Zg=="}, Row{"fo", "Zm8="}, Row{"foo", "Zm9v"}, Row{"foob", "Zm9vYg=="},
                 Row{"fooba", "Zm9vYmE="}, Row{"foobar", "Zm9vYmFy"}, Row{std::string("\xff\xfe\x00", 3), "//4A"});
    CHECK(base64_encode(bytes(row.plain)) == row.encoded);
    auto decoded = base64_decode(row.encoded);
    REQUIRE(decoded);
    CHECK(*decoded == row.plain);
}

TEST_CASE("base64_decode rejects malformed text", "[sumdb][base64]") {
    auto text = GENERATE("Zg=", "Zg", "Z===", "=Zg=", "Zm9v\n", "Zm 9", "Zm9v====", "Zg==Zg==", "Zm-v", "Zm_v");
    CAPTURE(text);
    CHECK_FALSE(base64_decode(text));
}

TEST_CASE("parse_hash wants exactly 32 bytes", "[sumdb][base64]") {
    CHECK(parse_hash("A/+TP2a1pyCJM2jsWxhtn8S+e4UYsO5MYbxns1Xhj+o="));
    CHECK_FALSE(parse_hash("A/+TP2a1pyCJM2jsWxhtn8S+e4UYsO5MYbxns1Xhjw=="));     // 31 bytes
    CHECK_FALSE(parse_hash("A/+TP2a1pyCJM2jsWxhtn8S+e4UYsO5MYbxns1Xhj+o=AAAA")); // 35 bytes
    CHECK(to_base64(*parse_hash("A/+TP2a1pyCJM2jsWxhtn8S+e4UYsO5MYbxns1Xhj+o=")) ==
          "A/+TP2a1pyCJM2jsWxhtn8S+e4UYsO5MYbxns1Xhj+o=");
}

TEST_CASE("RFC 6962 hashes", "[sumdb][base64]") {
    // SHA-256 of the empty string (FIPS 180-4 example), the hash of an empty tree in RFC 6962.
    CHECK(to_base64(sha256("")) == "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
    // The leaf hash of record 24929362 given by the research notes (lookup of go1.21.9.linux-amd64).
    const std::string record =
        "golang.org/toolchain v0.0.1-go1.21.9.linux-amd64 h1:rRL9rPpsjKfpdDFcppvNgw1/dynUMrpDcTxdIwtyFR0=\n"
        "golang.org/toolchain v0.0.1-go1.21.9.linux-amd64/go.mod h1:8wlg68NqwW7eMnI1aABk/C2pDYXj8mrMY4TyRfiLeS0=\n";
    CHECK(to_base64(record_hash(record)) == "A/+TP2a1pyCJM2jsWxhtn8S+e4UYsO5MYbxns1Xhj+o=");
    const Hash a = record_hash("a"), b = record_hash("b");
    CHECK(node_hash(a, b) != node_hash(b, a));
}
