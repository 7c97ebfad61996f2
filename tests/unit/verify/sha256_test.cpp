#include <catch2/catch.hpp>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <unistd.h>

#include "goinstall/verify/sha256.hpp"

using namespace goinstall;

namespace {

// FIPS 180-4 / NIST CSRC "SHA-256 example" vectors.
constexpr const char* k_empty = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
constexpr const char* k_abc = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
constexpr const char* k_448 = "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
constexpr const char* k_million_a = "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";

std::string hash_of(std::string_view s) {
    Sha256 h;
    h.update(s);
    return h.hex_digest();
}

class TempFile {
public:
    explicit TempFile(const std::string& content) {
        static std::atomic<int> counter{0};
        m_path = std::filesystem::temp_directory_path() /
                 ("goinstall-sha256-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
        std::ofstream out(m_path, std::ios::binary);
        out << content;
    }
    ~TempFile() {
        std::error_code ec;
        std::filesystem::remove(m_path, ec);
    }
    TempFile(const TempFile&) = delete;
    TempFile& operator=(const TempFile&) = delete;
    const std::filesystem::path& path() const { return m_path; }

private:
    std::filesystem::path m_path;
};

} // namespace

TEST_CASE("Sha256 matches the NIST vectors", "[verify]") {
    struct Vector {
        const char* name;
        std::string message;
        const char* digest;
    };
    auto v = GENERATE(values<Vector>({
        {"empty", "", k_empty},
        {"abc", "abc", k_abc},
        {"448-bit", "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", k_448},
        {"million a", std::string(1000000, 'a'), k_million_a},
    }));
    INFO(v.name);
    CHECK(hash_of(v.message) == v.digest);
}

TEST_CASE("Sha256 chunked updates equal one-shot", "[verify]") {
    auto chunk = GENERATE(std::size_t{1}, std::size_t{7}, std::size_t{64}, std::size_t{4096});
    INFO("chunk size " << chunk);
    std::string message;
    for (int i = 0; i < 10000; ++i) {
        message.push_back(static_cast<char>((i * 31 + 7) % 256));
    }
    Sha256 h;
    for (std::size_t off = 0; off < message.size(); off += chunk) {
        auto part = std::string_view(message).substr(off, chunk);
        h.update(std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(part.data()), part.size()));
    }
    CHECK(h.hex_digest() == hash_of(message));
}

TEST_CASE("Sha256 resets after hex_digest and on reset()", "[verify]") {
    Sha256 h;
    h.update("abc");
    CHECK(h.hex_digest() == k_abc);
    CHECK(h.hex_digest() == k_empty); // digest leaves a fresh hasher behind
    h.update("garbage");
    h.reset();
    h.update("abc");
    CHECK(h.hex_digest() == k_abc);
}

TEST_CASE("Sha256 is movable", "[verify]") {
    Sha256 a;
    a.update("ab");
    Sha256 b(std::move(a));
    b.update("c");
    Sha256 c;
    c = std::move(b);
    CHECK(c.hex_digest() == k_abc);
}

TEST_CASE("sha256_file hashes a file", "[verify]") {
    SECTION("small") {
        TempFile f("abc");
        auto r = sha256_file(f.path());
        REQUIRE(r.has_value());
        CHECK(*r == k_abc);
    }
    SECTION("empty") {
        TempFile f("");
        auto r = sha256_file(f.path());
        REQUIRE(r.has_value());
        CHECK(*r == k_empty);
    }
    SECTION("larger than one read block") {
        std::string content(3 * (1U << 20) + 123, 'x');
        TempFile f(content);
        auto r = sha256_file(f.path());
        REQUIRE(r.has_value());
        CHECK(*r == hash_of(content));
    }
}

TEST_CASE("sha256_file reports errors", "[verify]") {
    SECTION("missing file") {
        auto missing = std::filesystem::temp_directory_path() / "goinstall-sha256-test-does-not-exist";
        auto r = sha256_file(missing);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == ErrorCode::filesystem);
        CHECK_THAT(r.error().message(), Catch::Contains(missing.string()));
    }
    SECTION("cancelled") {
        TempFile f("abc");
        CancelToken token;
        token.cancel();
        auto r = sha256_file(f.path(), &token);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == ErrorCode::cancelled);
    }
}

TEST_CASE("check_sha256 compares digests", "[verify]") {
    SECTION("match") { CHECK(check_sha256("go.tar.gz", k_abc, k_abc).has_value()); }
    SECTION("match ignoring case") {
        std::string upper = k_abc;
        for (auto& ch : upper) {
            ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        }
        CHECK(check_sha256("go.tar.gz", upper, k_abc).has_value());
        CHECK(check_sha256("go.tar.gz", k_abc, upper).has_value());
    }
    SECTION("mismatch") {
        auto r = check_sha256("go.tar.gz", k_abc, k_empty);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == ErrorCode::checksum);
        CHECK(r.error().message() ==
              std::string("checksum mismatch for go.tar.gz: expected ") + k_abc + ", got " + k_empty);
    }
    SECTION("malformed digests never match") {
        CHECK_FALSE(check_sha256("x", "", "").has_value());
        CHECK_FALSE(check_sha256("x", "zz", "ZZ").has_value());
        CHECK_FALSE(check_sha256("x", std::string(k_abc) + "00", std::string(k_abc) + "00").has_value());
    }
}

TEST_CASE("expected_sha256: the authority's digest and --sha256", "[verify]") {
    const std::string upper_abc = [] {
        std::string s = k_abc;
        for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
        return s;
    }();
    SECTION("the authority's digest, lowercased") {
        CHECK(expected_sha256(upper_abc, "the index", "", "go.tar.gz").value() == k_abc);
    }
    SECTION("--sha256 agreeing with it") {
        CHECK(expected_sha256(k_abc, "the index", upper_abc, "go.tar.gz").value() == k_abc);
    }
    SECTION("--sha256 disagreeing: a checksum error naming both") {
        auto r = expected_sha256(k_abc, "the index", k_empty, "go.tar.gz");
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == ErrorCode::checksum);
        CHECK(r.error().message() == std::string("--sha256 ") + k_empty + " does not match the index, which gives " +
                                         k_abc + " for go.tar.gz");
    }
    SECTION("only --sha256") { CHECK(expected_sha256("", "the index", k_empty, "go.tar.gz").value() == k_empty); }
    SECTION("neither: no_checksum") {
        auto r = expected_sha256("", "the index", "", "go.tar.gz");
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == ErrorCode::no_checksum);
    }
    SECTION("an h1: hash is a usage error") {
        auto r = expected_sha256(k_abc, "the index", "h1:" + std::string(44, 'A'), "go.tar.gz");
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == ErrorCode::usage);
    }
}
