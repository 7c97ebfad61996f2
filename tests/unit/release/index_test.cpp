#include <catch2/catch.hpp>

#include <string>

#include "goinstall/release/index.hpp"
#include "release_fixtures.hpp"

using goinstall::ErrorCode;
using goinstall::parse_index;
using goinstall::serialize_index;
using goinstall::test::find_release;
using goinstall::test::read_fixture;

namespace {

constexpr const char* k_url = "https://go.dev/dl/?mode=json&include=all";

// Counts checked against the raw files with Python's json module (tests/fixtures/SOURCES.md).
struct FixtureFacts {
    const char* file;
    std::size_t releases, files, stable, unstable, empty_sha256, zero_size;
    const char* newest;
    const char* oldest;
};

} // namespace

TEST_CASE("parse_index reads every fixture", "[release][index]") {
    auto facts = GENERATE(values<FixtureFacts>({
        {"go-dl-index.json", 2, 92, 2, 0, 0, 0, "go1.25.0", "go1.24.6"},
        {"go-dl-index-2019-12-14.json", 2, 30, 2, 0, 0, 0, "go1.13.5", "go1.12.14"},
        {"go-dl-index-all.json", 363, 8662, 279, 84, 307, 234, "go1.27.0", "go1"},
    }));
    CAPTURE(facts.file);
    std::size_t skipped = 99;
    auto index = parse_index(read_fixture(facts.file), k_url, &skipped);
    REQUIRE(index);
    CHECK(skipped == 0);
    const auto& rs = index->releases;
    REQUIRE(rs.size() == facts.releases);

    std::size_t files = 0, stable = 0, empty_sha = 0, zero_size = 0;
    for (const auto& r : rs) {
        files += r.files.size();
        stable += r.stable ? 1 : 0;
        CHECK(r.stable == r.version.is_stable()); // true of every fixture entry
        for (const auto& f : r.files) {
            empty_sha += f.sha256.empty() ? 1 : 0;
            zero_size += f.size == 0 ? 1 : 0;
            CHECK(f.version == r.version.text);
        }
    }
    CHECK(files == facts.files);
    CHECK(stable == facts.stable);
    CHECK(rs.size() - stable == facts.unstable);
    CHECK(empty_sha == facts.empty_sha256);
    CHECK(zero_size == facts.zero_size);

    CHECK(rs.front().version.text == facts.newest);
    CHECK(rs.back().version.text == facts.oldest);
    for (std::size_t i = 1; i < rs.size(); ++i) {
        INFO(rs[i - 1].version.text << " before " << rs[i].version.text);
        CHECK(rs[i - 1].version > rs[i].version);
    }
}

TEST_CASE("parse_index keeps the bogus go1 bootstrap release as data", "[release][index]") {
    const auto* go1 = find_release(goinstall::test::all_index(), "go1");
    REQUIRE(go1);
    REQUIRE(go1->files.size() == 2);
    for (const auto& f : go1->files) {
        CHECK(f.os == "4");
        CHECK(f.arch == "bootstrap");
        CHECK(f.filename.starts_with("go1.4-bootstrap-"));
    }
}

TEST_CASE("parse_index sorts the raw order newest first and drops duplicates", "[release][index]") {
    // Raw go.dev order is not sorted (docs/field-notes.md#release-index: a 2019 response began
    // go1.13.3, go1.12.12, go1.13.2).
    const std::string json = R"([
 {"version": "go1.13.3", "stable": true, "files": [{"filename": "a.tar.gz", "sha256": "", "size": 0}]},
 {"version": "go1.12.12", "stable": true, "files": []},
 {"version": "go1.13.2", "stable": true, "files": []},
 {"version": "weekly.2012-03-27", "stable": false, "files": []},
 {"version": "go1.13rc1", "stable": false, "files": []},
 {"version": "go1.13.3", "stable": true, "files": [{"filename": "second.tar.gz"}]},
 {"version": "go1.20", "stable": true, "files": [{"filename": "first.tar.gz"}]},
 {"version": "go1.20.0", "stable": true, "files": [{"filename": "second.tar.gz"}]}
])";
    std::size_t skipped = 0;
    auto index = parse_index(json, k_url, &skipped);
    REQUIRE(index);
    CHECK(skipped == 3); // the weekly, and the later go1.13.3 and go1.20.0
    std::vector<std::string> order;
    for (const auto& r : index->releases) order.push_back(r.version.text);
    CHECK(order == std::vector<std::string>{"go1.20", "go1.13.3", "go1.13.2", "go1.13rc1", "go1.12.12"});
    CHECK(index->releases[0].files.at(0).filename == "first.tar.gz");
    const auto& kept = index->releases[1].files.at(0); // empty sha256 and size 0 are kept as-is
    CHECK(kept.filename == "a.tar.gz");
    CHECK(kept.sha256.empty());
    CHECK(kept.size == 0);
    CHECK(kept.os.empty());
}

TEST_CASE("parse_index ignores unknown fields", "[release][index]") {
    const std::string json = R"({"ignored": true})";
    const std::string list = R"([{"version": "go1.99.1", "stable": true, "released": "2031-01-01",
  "notes": {"url": "x", "list": [1, 2, null]}, "files": [
  {"filename": "go1.99.1.linux-amd64.tar.gz", "os": "linux", "arch": "amd64", "version": "go1.99.1",
   "sha256": "AB7002403d7cc44529ef6d26f69a44818263395ead7c16c05a5808ae047ebeb0", "size": 12,
   "kind": "archive", "signature": {"alg": "ed25519"}, "mirrors": ["a", "b"]}]}])";
    auto index = parse_index(list, k_url);
    REQUIRE(index);
    REQUIRE(index->releases.size() == 1);
    const auto& f = index->releases[0].files.at(0);
    CHECK(f.filename == "go1.99.1.linux-amd64.tar.gz");
    CHECK(f.sha256 == "AB7002403d7cc44529ef6d26f69a44818263395ead7c16c05a5808ae047ebeb0");
    CHECK(f.size == 12);
    CHECK(f.kind == "archive");
    // A missing "stable" falls back to the version; null fields read as missing.
    auto no_flag = parse_index(R"([{"version": "go1.22rc1", "files": [{"filename": "x", "os": null}]}])", k_url);
    REQUIRE(no_flag);
    CHECK_FALSE(no_flag->releases.at(0).stable);
    CHECK(parse_index("[]", k_url).value().releases.empty());
    CHECK_FALSE(parse_index(json, k_url)); // a top-level object is still wrong
}

TEST_CASE("parse_index reports malformed or ill-typed input as index_invalid", "[release][index]") {
    struct Row {
        const char* json;
        const char* says;
    };
    auto row = GENERATE(values<Row>({
        {"", "is empty"},
        {"  \n", "is empty"},
        {"<!DOCTYPE html><html>captive portal</html>", "looks like an HTML page"},
        {"[{\"version\": \"go1.21.0\",", "truncated? parse error at byte"},
        {"[1,]", "is not valid JSON (parse error at byte"},
        {"{\"releases\": []}", "is a JSON object, expected an array of releases"},
        {"\"go1.21.0\"", "is a JSON string, expected an array"},
        {"null", "is a JSON null, expected an array"},
        {"[42]", "entry 0 is a number, expected an object"},
        {"[[]]", "entry 0 is an array, expected an object"},
        {"[null]", "entry 0 is null, expected an object"},
        {"[{\"files\": []}]", "entry 0 has no \"version\" string"},
        {"[{\"version\": 1.21, \"files\": []}]", "entry 0 has no \"version\" string"},
        {"[{\"version\": \"go1.21.0\"}]", "entry 0 (go1.21.0) has no \"files\" array"},
        {"[{\"version\": \"go1.21.0\", \"files\": {}}]", "entry 0 (go1.21.0) has no \"files\" array"},
        {"[{\"version\": \"go1.21.0\", \"files\": \"x\"}]", "has no \"files\" array"},
        {"[{\"version\": \"go1.21.0\", \"stable\": \"yes\", \"files\": []}]", "\"stable\" that is not a boolean"},
        {"[{\"version\": \"go1.21.0\", \"files\": [7]}]", "entry 0 (go1.21.0) file 0 is a number, expected an object"},
        {"[{\"version\": \"go1.21.0\", \"files\": [{}]}]", "file 0 has no \"filename\" string"},
        {"[{\"version\": \"go1.21.0\", \"files\": [{\"filename\": 3}]}]", "has no \"filename\" string"},
        {"[{\"version\": \"go1.21.0\", \"files\": [{\"filename\": \"\"}]}]", "has no \"filename\" string"},
        {"[{\"version\": \"go1.21.0\", \"files\": [{\"filename\": \"../../.bashrc\"}]}]",
         "'../../.bashrc' that is not a plain file name"},
        {"[{\"version\": \"go1.21.0\", \"files\": [{\"filename\": \"/etc/passwd\"}]}]", "not a plain file name"},
        {"[{\"version\": \"go1.21.0\", \"files\": [{\"filename\": \"..\"}]}]", "not a plain file name"},
        {"[{\"version\": \"go1.21.0\", \"files\": [{\"filename\": \"a\\\\b.zip\"}]}]", "not a plain file name"},
        {"[{\"version\": \"go1.21.0\", \"files\": [{\"filename\": \"C:go.zip\"}]}]", "not a plain file name"},
        {"[{\"version\": \"go1.21.0\", \"files\": [{\"filename\": \"go\\n.zip\"}]}]", "not a plain file name"},
        {"[{\"version\": \"go1.21.0\", \"files\": [{\"filename\": \"f\", \"size\": -1}]}]",
         "\"size\" that is not a non-negative integer"},
        {"[{\"version\": \"go1.21.0\", \"files\": [{\"filename\": \"f\", \"size\": \"12\"}]}]", "\"size\" that is not"},
        {"[{\"version\": \"go1.21.0\", \"files\": [{\"filename\": \"f\", \"size\": 1.5}]}]", "\"size\" that is not"},
        {"[{\"version\": \"go1.21.0\", \"files\": [{\"filename\": \"f\", \"os\": 1}]}]",
         "has \"os\" of type number, expected a string"},
        {"[{\"version\": \"go1.21.0\", \"files\": [{\"filename\": \"f\", \"sha256\": 5}]}]",
         "has \"sha256\" of type number"},
        {"[{\"version\": \"go1.21.0\", \"files\": [{\"filename\": \"f\", \"sha256\": \"abc\"}]}]",
         "malformed \"sha256\" 'abc'"},
        {"[{\"version\": \"go1.21.0\", \"files\": [{\"filename\": \"f\", \"kind\": []}]}]",
         "has \"kind\" of type array"},
        {"[{\"version\": \"go1.21.0\", \"files\": []}, 5]", "entry 1 is a number"},
        {"[\"\\ud800\"]", "is not valid JSON"},
    }));
    CAPTURE(row.json);
    goinstall::Result<goinstall::ReleaseIndex> index = goinstall::fail(ErrorCode::internal, "unset");
    REQUIRE_NOTHROW(index = parse_index(row.json, "https://go.dev/dl/?mode=json"));
    REQUIRE_FALSE(index);
    CHECK(index.error().code() == ErrorCode::index_invalid);
    const auto& msg = index.error().message();
    CHECK_THAT(msg, Catch::StartsWith("release index from https://go.dev/dl/?mode=json "));
    CHECK_THAT(msg, Catch::Contains(row.says));
    CHECK(msg.find('\n') == std::string::npos);
}

TEST_CASE("parse_index fails cleanly on a truncated full index", "[release][index]") {
    const std::string all = read_fixture("go-dl-index-all.json");
    auto cut = GENERATE(1, 2, 3, 7, 16, 100, 1000);
    const std::string text = all.substr(0, all.size() / 2 + static_cast<std::size_t>(cut) * 977 - 977);
    auto index = parse_index(text, k_url);
    REQUIRE_FALSE(index);
    CHECK(index.error().code() == ErrorCode::index_invalid);
    CHECK_THAT(index.error().message(),
               Catch::StartsWith(std::string("release index from ") + k_url + " is not valid JSON (truncated?"));
}

TEST_CASE("parse_index survives hostile nesting without recursion trouble", "[release][index]") {
    const std::size_t depth = 100000;
    const std::string deep = std::string(depth, '[') + std::string(depth, ']');
    auto index = parse_index(deep, k_url);
    REQUIRE_FALSE(index);
    CHECK_THAT(index.error().message(), Catch::Contains("entry 0 is an array, expected an object"));
    auto unclosed = parse_index(std::string(depth, '{'), k_url);
    REQUIRE_FALSE(unclosed);
    CHECK(unclosed.error().code() == ErrorCode::index_invalid);
}

TEST_CASE("parse_index redacts credentials in the source URL", "[release][index]") {
    auto index = parse_index("[", "https://alice:s3cret@mirror.example/dl/?mode=json&token=t0ps3cret");
    REQUIRE_FALSE(index);
    const auto& msg = index.error().message();
    CHECK_THAT(msg, Catch::Contains("mirror.example"));
    CHECK(msg.find("s3cret") == std::string::npos);
    CHECK(msg.find("t0ps3cret") == std::string::npos);
}

TEST_CASE("serialize_index round-trips every fixture in go.dev's own layout", "[release][index]") {
    auto file = GENERATE(as<std::string>{}, "go-dl-index.json", "go-dl-index-2019-12-14.json", "go-dl-index-all.json");
    CAPTURE(file);
    const std::string raw = read_fixture(file);
    auto first = parse_index(raw, k_url);
    REQUIRE(first);
    const std::string text = serialize_index(*first);
    auto second = parse_index(text, k_url);
    REQUIRE(second);
    CHECK(*second == *first);
    for (std::size_t i = 0; i < first->releases.size(); ++i)
        CHECK(second->releases[i].version.text == first->releases[i].version.text);
    // These fixtures are already newest first, so the output is byte-identical to go.dev's.
    CHECK(text == raw);
}

TEST_CASE("serialize_index writes go.dev's schema for hand-built data", "[release][index]") {
    goinstall::ReleaseIndex index;
    goinstall::Release r;
    r.version = {1, 21, 0, goinstall::Version::Pre::none, 0, ""};
    r.stable = true;
    r.files.push_back({"go1.21.0.linux-amd64.tar.gz", "linux", "amd64", "go1.21.0", "", "archive", 0});
    index.releases.push_back(r);
    const std::string expected = R"([
 {
  "version": "go1.21.0",
  "stable": true,
  "files": [
   {
    "filename": "go1.21.0.linux-amd64.tar.gz",
    "os": "linux",
    "arch": "amd64",
    "version": "go1.21.0",
    "sha256": "",
    "size": 0,
    "kind": "archive"
   }
  ]
 }
]
)";
    CHECK(serialize_index(index) == expected);
    CHECK(serialize_index({}) == "[]\n");
}
