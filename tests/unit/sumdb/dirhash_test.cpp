#include <catch2/catch.hpp>

#include "goinstall/sumdb/dirhash.hpp"
#include "goinstall/sumdb/module_zip.hpp"
#include "sumdb_fixtures.hpp"

using namespace goinstall;
using namespace goinstall::sumdb;
using namespace goinstall::sumdb::test;

// Expected values: golang/mod sumdb/dirhash/hash_test.go (commit a42224db2bbfdca6866e9b201008f39ea33f787c),
// TestHash1 / TestHashDir / TestHashZip, which build them as htop("h1", "<h(data)>  <name>\n"...);
// the literals below are those expressions evaluated (SHA-256, standard base64).
TEST_CASE("Hash1 matches x/mod dirhash's test vectors", "[sumdb][dirhash]") {
    struct Row {
        std::vector<std::pair<std::string_view, std::string_view>> files;
        const char* h1;
    };
    auto row = GENERATE(
        // TestHash1: files "xyz", "abc" with "data for <name>", hashed in sorted order.
        Row{{{"xyz", "data for xyz"}, {"abc", "data for abc"}}, "h1:EP6WfDoQTSk9klnxcjriWJOGztueJUywHNmWeq+efB8="},
        // TestHashDir / TestHashZip: the same files under "prefix/".
        Row{{{"prefix/xyz", "data for xyz"}, {"prefix/abc", "data for abc"}},
            "h1:rLyfpGMAgqOnGE2aKOY5Xb6cOc0/YQhPjHBHBwkblhs="},
        Row{{{"prefix/abc", "data for abc"}, {"prefix/xyz", "data for xyz"}},
            "h1:rLyfpGMAgqOnGE2aKOY5Xb6cOc0/YQhPjHBHBwkblhs="});
    auto h = hash1(row.files);
    REQUIRE(h);
    CHECK(*h == row.h1);
}

TEST_CASE("Hash1 refuses a newline in a file name (TestHash1)", "[sumdb][dirhash]") {
    const std::vector<std::pair<std::string_view, std::string_view>> files{{"xyz", "data for xyz"}, {"a\nbc", "x"}};
    auto h = hash1(files);
    REQUIRE_FALSE(h);
    CHECK(h.error().code() == ErrorCode::bad_archive);
}

TEST_CASE("the toolchain go.mod hashes to the value of every real toolchain record", "[sumdb][dirhash]") {
    const std::string mod = read_fixture("toolchain-v0.0.1.mod");
    CHECK(mod == "module golang.org/toolchain\n");
    CHECK(go_mod_hash(mod) == "h1:8wlg68NqwW7eMnI1aABk/C2pDYXj8mrMY4TyRfiLeS0=");
}

TEST_CASE("Hash1 sorts names bytewise", "[sumdb][dirhash]") {
    // 'B' (0x42) < '_' (0x5f) < 'a' (0x61) < 0xc3 (UTF-8 lead byte): the order must not depend on
    // locale or on char being signed.
    Hash1Builder forward, backward;
    const std::vector<std::string> names{"m/B", "m/_", "m/a", "m/\xc3\xa9"};
    for (const auto& n : names) REQUIRE(forward.add(n, sha256_hex(n)));
    for (auto it = names.rbegin(); it != names.rend(); ++it) REQUIRE(backward.add(*it, sha256_hex(*it)));
    CHECK(forward.finish() == backward.finish());
    std::string lines;
    for (const auto& n : names) lines += sha256_hex(n) + "  " + n + "\n";
    Hash1Builder one;
    REQUIRE(one.add("x", sha256_hex("")));
    CHECK(forward.finish() != one.finish());
    // Recompute the definition directly: h1 = base64(sha256(lines)) with lines in byte order.
    const std::vector<std::pair<std::string_view, std::string_view>> files{
        {names[3], names[3]}, {names[0], names[0]}, {names[2], names[2]}, {names[1], names[1]}};
    CHECK(*hash1(files) == forward.finish());
}

namespace {

const std::string k_prefix = "golang.org/toolchain@v0.0.1-go1.21.3.linux-amd64/";

ZipEntryInfo entry(const std::string& rel, std::uint64_t size = 10) { return {k_prefix + rel, size / 2, size}; }

} // namespace

TEST_CASE("a toolchain module zip's entries are accepted and hashed", "[sumdb][dirhash]") {
    ModuleZipChecker checker("golang.org/toolchain", "v0.0.1-go1.21.3.linux-amd64");
    CHECK(checker.prefix() == k_prefix);
    CHECK(checker.check_zip_size(70U << 20));
    const std::vector<std::pair<std::string, std::string>> files{{"bin/go", "go binary"},
                                                                 {"VERSION", "go1.21.3\ntime 2023-10-09T17:04:35Z\n"},
                                                                 {"src/_go.mod", "module std\n"},
                                                                 {"pkg/tool/linux_amd64/compile", "compile"},
                                                                 {"lib/time/zoneinfo.zip", "zip"}};
    std::vector<std::pair<std::string_view, std::string_view>> named;
    std::vector<std::string> full_names;
    full_names.reserve(files.size());
    for (const auto& [rel, data] : files) {
        REQUIRE(checker.check_entry(entry(rel, data.size())));
        REQUIRE(checker.add_file(k_prefix + rel, sha256_hex(data), data.size()));
        full_names.push_back(k_prefix + rel);
    }
    for (std::size_t i = 0; i < files.size(); ++i) named.emplace_back(full_names[i], files[i].second);
    CHECK(checker.hash1() == *hash1(named));
}

TEST_CASE("unsafe or colliding module zip entries are refused", "[sumdb][dirhash]") {
    struct Row {
        const char* what;
        std::vector<ZipEntryInfo> entries; // all but the last must pass; the last must fail
        const char* message;
    };
    auto row = GENERATE(
        Row{"no prefix", {{"golang.org/toolchain@v0.0.1-go1.21.2.linux-amd64/bin/go", 1, 1}}, "does not start with"},
        Row{"prefix without slash",
            {{"golang.org/toolchain@v0.0.1-go1.21.3.linux-amd64", 0, 0}},
            "does not start with"},
        Row{"other module", {{"example.com/m@v1.0.0/x", 1, 1}}, "does not start with"},
        Row{"dot-dot", {entry("bin/../../../etc/passwd")}, "not clean"}, Row{"dot", {entry("./bin/go")}, "not clean"},
        Row{"double slash", {entry("bin//go")}, "not clean"}, Row{"empty rest", {entry("")}, "empty path"},
        Row{"absolute after prefix", {entry("/etc/passwd")}, "not clean"},
        Row{"backslash", {entry("bin\\go")}, "not allowed"}, Row{"colon", {entry("c:/x")}, "not allowed"},
        Row{"control character", {entry("bin/g\x01o")}, "not allowed"},
        Row{"invalid UTF-8", {entry("bin/g\xffo")}, "invalid UTF-8"},
        Row{"duplicate", {entry("bin/go"), entry("bin/go")}, "more than once"},
        Row{"case collision", {entry("bin/go"), entry("bin/GO")}, "case-insensitive name collision"},
        Row{"case collision of a directory", {entry("bin/go"), entry("BIN/gofmt")}, "case-insensitive name collision"},
        Row{"file then directory", {entry("bin"), entry("bin/go")}, "both a file and a directory"},
        Row{"directory then file", {entry("bin/go"), entry("bin")}, "both a file and a directory"},
        Row{"nested go.mod", {entry("src/go.mod")}, "not at the module root"},
        Row{"root GO.MOD", {entry("GO.MOD")}, "not at the module root"},
        Row{"uncompressed over 500 MiB", {entry("a", 300U << 20), entry("b", 201U << 20)}, "exceed"},
        Row{"compressed over 500 MiB", {{k_prefix + "a", (500U << 20) + 1, 1}}, "exceed"});
    CAPTURE(row.what);
    ModuleZipChecker checker("golang.org/toolchain", "v0.0.1-go1.21.3.linux-amd64");
    for (std::size_t i = 0; i + 1 < row.entries.size(); ++i) REQUIRE(checker.check_entry(row.entries[i]));
    auto r = checker.check_entry(row.entries.back());
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::bad_archive);
    CHECK_THAT(r.error().message(), Catch::Contains(row.message));
}

TEST_CASE("module zip sizes and the order of calls are enforced", "[sumdb][dirhash]") {
    ModuleZipChecker checker("golang.org/toolchain", "v0.0.1-go1.21.3.linux-amd64");
    CHECK(checker.check_zip_size(500U << 20));
    CHECK(checker.check_zip_size((500U << 20) + 1).error().code() == ErrorCode::bad_archive);
    CHECK(checker.check_entry(entry("bin/", 0))); // a directory entry, as x/mod allows
    CHECK(checker.check_entry(entry("bin/", 0))); // the same directory again is fine
    CHECK(checker.check_entry(entry("bin/go", 4)));
    CHECK(checker.add_file(k_prefix + "bin/go", sha256_hex("abc"), 3).error().code() == ErrorCode::bad_archive);
    CHECK(checker.add_file(k_prefix + "bin/gofmt", sha256_hex("abc"), 3).error().code() == ErrorCode::bad_archive);
    CHECK(checker.add_file(k_prefix + "bin/go", sha256_hex("abcd"), 4));
    CHECK_FALSE(checker.add_file(k_prefix + "bin/go", sha256_hex("abcd"), 4)); // only once
    ModuleZipChecker small("m", "v1", 100);
    CHECK(small.check_entry({"m@v1/a", 50, 100}));
    CHECK_FALSE(small.check_entry({"m@v1/b", 1, 1}));
}
