#include <catch2/catch.hpp>

#include "goinstall/sumdb/base64.hpp"
#include "goinstall/sumdb/signed_note.hpp"
#include "sumdb_fixtures.hpp"
#include "test_signer.hpp"

using namespace goinstall;
using namespace goinstall::sumdb;
using namespace goinstall::sumdb::test;

namespace {

VerifierKey real_key() {
    auto k = parse_verifier_key(real_vkey());
    REQUIRE(k);
    return *k;
}

// The signed note at the end of a lookup response (after the record's blank line).
std::string note_of_lookup(const std::string& body) { return body.substr(body.find("\n\ngo.sum database tree") + 2); }

std::string replace_once(std::string s, std::string_view from, std::string_view to) {
    const auto at = s.find(from);
    REQUIRE(at != std::string::npos);
    return s.replace(at, from.size(), to);
}

} // namespace

TEST_CASE("parse_verifier_key reads the sum.golang.org key", "[sumdb][note]") {
    const VerifierKey k = real_key();
    CHECK(k.name == "sum.golang.org");
    CHECK(k.key_hash == 0x033de0aeU);
    CHECK(k.text == real_vkey());
    CHECK(std::string(k_sum_golang_org_key) == real_vkey());
}

TEST_CASE("parse_verifier_key rejects malformed keys", "[sumdb][note]") {
    const std::string good_key = "Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";
    // A key of algorithm 2 and one of 31 bytes, with matching hashes, so only the named check fails.
    std::string alg2 = *base64_decode(good_key);
    alg2[0] = 2;
    std::string short_key = base64_decode(good_key)->substr(0, 32);
    auto with_hash = [](const std::string& name, const std::string& raw) {
        char hex[9];
        std::snprintf(hex, sizeof hex, "%08x",
                      key_hash(name, {reinterpret_cast<const unsigned char*>(raw.data()), raw.size()}));
        return name + "+" + hex + "+" + base64_encode({reinterpret_cast<const unsigned char*>(raw.data()), raw.size()});
    };
    struct Row {
        const char* what;
        std::string vkey;
    };
    auto row = GENERATE_COPY(
        Row{"empty", ""}, Row{"name only", "sum.golang.org"}, Row{"no key", "sum.golang.org+033de0ae"},
        Row{"wrong hash", "sum.golang.org+033de0af+" + good_key},
        Row{"short hash", "sum.golang.org+33de0ae+" + good_key},
        Row{"hash not hex", "sum.golang.org+033de0ag+" + good_key}, Row{"empty name", "+033de0ae+" + good_key},
        Row{"other name", "sum.golang.com+033de0ae+" + good_key},
        Row{"space in name", "sum golang+033de0ae+" + good_key},
        Row{"bad base64", "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn"},
        Row{"empty key", "sum.golang.org+033de0ae+"}, Row{"algorithm 2", with_hash("x", alg2)},
        Row{"31-byte key", with_hash("x", short_key)});
    CAPTURE(row.what);
    auto k = parse_verifier_key(row.vkey);
    REQUIRE_FALSE(k);
    CHECK(k.error().code() == ErrorCode::usage);
}

TEST_CASE("real sum.golang.org notes verify and parse", "[sumdb][note]") {
    struct Row {
        const char* file;
        std::int64_t size;
        const char* hash;
        bool lookup;
    };
    auto row =
        GENERATE(Row{"sumdb-note-3935567.txt", 3935567, "SapHtgdNCeF00Cx8kqztePV24kgzNg++Xovae42HAMw=", false},
                 Row{"sumdb-note-6476701.txt", 6476701, "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=", false},
                 Row{"sumdb-note-52544510.txt", 52544510, "+TGlZfnTizQCJgyZR56QixD8+X4dd8Wefy8U1w6k0Ig=", false},
                 Row{"sumdb-latest-15067302.txt", 15067302, "gJyioq6dwR9n+NjEWORfYmH+ubeYm3kH42BBQ0bTpYI=", false},
                 Row{"sumdb-latest-15081221.txt", 15081221, nullptr, false},
                 Row{"sumdb-latest-28891140.txt", 28891140, "++pUIeKTwGvykMUkmM3AT97PwQipMT6H/p7t86E0Sp0=", false},
                 Row{"sumdb-lookup-example.txt", 28905453, "f3f8U0MoQmXkWAgAEKDtXcaI3c2y6N9+55KNSRefF/w=", true},
                 Row{"sumdb-lookup-go-chi-v5.3.2.txt", 63096908, nullptr, true});
    CAPTURE(row.file);
    std::string msg = read_fixture(row.file);
    if (row.lookup) msg = note_of_lookup(msg);
    auto signed_tree = open_tree_note(msg, real_key());
    REQUIRE(signed_tree);
    CHECK(signed_tree->tree.size == row.size);
    if (row.hash != nullptr) CHECK(to_base64(signed_tree->tree.hash) == row.hash);
    CHECK(signed_tree->note == msg);
    auto text = open_note(msg, real_key());
    REQUIRE(text);
    CHECK(msg.starts_with(*text));
    CHECK(text->ends_with("=\n"));
}

TEST_CASE("tampered or foreign notes are rejected", "[sumdb][note]") {
    const std::string good = read_fixture("sumdb-note-6476701.txt");
    const std::string sig = good.substr(good.find("\xE2\x80\x94 "));
    const std::string b64 = sig.substr(sig.find(' ', 4) + 1, sig.size() - sig.find(' ', 4) - 2);
    std::string other_hash = *base64_decode(b64);
    other_hash[3] = static_cast<char>(other_hash[3] ^ 1);
    std::string flipped_sig = *base64_decode(b64);
    flipped_sig[40] = static_cast<char>(flipped_sig[40] ^ 0x20);
    auto b64_of = [](const std::string& raw) {
        return base64_encode({reinterpret_cast<const unsigned char*>(raw.data()), raw.size()});
    };
    TestSigner other("sum.golang.org"); // same name, another key: its hash differs
    const std::string text = good.substr(0, good.find("\n\n") + 1);
    const std::string by_other = other.sign(text);
    struct Row {
        const char* what;
        std::string msg;
        const char* message;
    };
    auto row = GENERATE_COPY(
        Row{"size changed", replace_once(good, "6476701", "6476702"), "invalid signature"},
        Row{"hash byte flipped", replace_once(good, "mb8QLQ", "mb8QLR"), "invalid signature"},
        Row{"signature byte flipped", replace_once(good, b64, b64_of(flipped_sig)), "invalid signature"},
        Row{"wrong key hash", replace_once(good, b64, b64_of(other_hash)),
            "no signature by key sum.golang.org+033de0ae"},
        Row{"wrong name", replace_once(good, "\xE2\x80\x94 sum.golang.org", "\xE2\x80\x94 sum.golang.com"),
            "no signature by key"},
        Row{"signed by another key only", by_other, "no signature by key"},
        Row{"no blank line", replace_once(good, "\n\n", "\n"), "malformed"},
        Row{"no signature lines", text + "\n", "malformed"},
        Row{"no final newline", good.substr(0, good.size() - 1), "malformed"},
        Row{"hyphen for em dash", replace_once(good, "\xE2\x80\x94", "-"), "malformed"},
        Row{"signature not base64", replace_once(good, b64, b64.substr(1)), "malformed"},
        Row{"signature too short", replace_once(good, b64, "AAAAAA=="), "malformed"},
        Row{"no signature after name", text + "\n\xE2\x80\x94 sum.golang.org\n", "malformed"},
        Row{"control character", replace_once(good, "tree\n", "tree\r\n"), "malformed"},
        Row{"invalid UTF-8",
            replace_once(good, "database",
                         "data\xff"
                         "base"),
            "malformed"},
        Row{"empty", "", "malformed"});
    CAPTURE(row.what);
    auto r = open_note(row.msg, real_key());
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::checksum);
    CHECK_THAT(r.error().message(), Catch::Contains(row.message));
}

TEST_CASE("a note with several signers verifies by the one we trust", "[sumdb][note]") {
    const std::string good = read_fixture("sumdb-note-6476701.txt");
    const std::string text = good.substr(0, good.find("\n\n") + 1);
    TestSigner witness("witness.example");
    const std::string both = good + witness.signature_line(text);
    CHECK(open_note(both, real_key()));
    auto witness_key = parse_verifier_key(witness.vkey());
    REQUIRE(witness_key);
    auto by_witness = open_note(both, *witness_key);
    REQUIRE(by_witness);
    CHECK(*by_witness == text);
    // A repeated valid signature is ignored, as Go does.
    CHECK(open_note(good + good.substr(good.find("\xE2\x80\x94")), real_key()));
}

TEST_CASE("parse_tree_text", "[sumdb][note]") {
    const std::string h = "mb8QLQIs0Z0yP5Cstq6guj87oXWeC9gEM8oVikmm9Wk=";
    auto ok = parse_tree_text(tree_text(6476701, h) + "extra line, ignored\n");
    REQUIRE(ok);
    CHECK(ok->size == 6476701);
    CHECK(parse_tree_text(tree_text(0, h)));
    auto bad = GENERATE_COPY(
        std::string("go.sum database tree\n012\n") + h + "\n", std::string("go.sum database tree\n-1\n") + h + "\n",
        std::string("go.sum database tree\n+1\n") + h + "\n",
        std::string("go.sum database tree\n99999999999999999999\n") + h + "\n",
        std::string("go.sum database tree\n12\n") + h, std::string("go.sum database tree\n12\n"),
        std::string("go.sum database tree\n12\nAAAA\n"), std::string("go.sum tree\n12\n") + h + "\n", std::string(""));
    CAPTURE(bad);
    auto r = parse_tree_text(bad);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::checksum);
}
