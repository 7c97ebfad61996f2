// The SHA-256 of a segmented download is computed while its ranges arrive (issue 15): a
// PrefixHasher follows the contiguous prefix on its own thread, so after the last byte the .part
// is not read back again; a file that does not match still fails the checksum.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include "download_rig.hpp"
#include "prefix_hasher.hpp"

using namespace goinstall;
using namespace goinstall::test;
using namespace std::chrono_literals;

namespace {

// A file of three 4 MiB chunks and more, segmentation on for it.
struct BigRig : Rig {
    static constexpr std::uint64_t k_big = (9ULL << 20) + 123;
    BigRig() {
        body = pseudo_random(k_big);
        target = DownloadTarget{"go1.21.3.linux-amd64.tar.gz", sha256_hex(body), k_big};
        options.segmented_min_size = 0;
    }
};

// Waits (bounded: 10 s) until the hasher's thread has reached `size`.
bool wait_hashed(const PrefixHasher& h, std::uint64_t size) {
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (h.hashed() < size && std::chrono::steady_clock::now() < deadline) std::this_thread::yield();
    return h.hashed() == size;
}

} // namespace

TEST_CASE("segmented: the SHA-256 follows the ranges; nothing is read back after the last byte",
          "[download][segmented]") {
    BigRig rig;
    rig.net.script(rig.url(0), Scripted::ok(rig.body).ranged());
    rig.net.script(rig.url(1), Scripted::ok(rig.body).ranged());
    auto r = rig.run();
    REQUIRE(r);
    CHECK(r->sha256 == rig.target.expected_sha256);
    CHECK(read_text(rig.final_path()) == rig.body);
    CHECK(rig.events.count(EventKind::verified) == 1);
    CHECK(r->rehashed_bytes == 0); // before issue 15: the whole file, re-read from the .part
}

TEST_CASE("segmented: a file that does not match its checksum still fails", "[download][segmented]") {
    BigRig rig;
    auto other = rig.body;
    other[other.size() / 2] ^= 1; // both mirrors serve a file with one bit flipped
    rig.net.script(rig.url(0), Scripted::ok(other).ranged());
    rig.net.script(rig.url(1), Scripted::ok(other).ranged());
    auto r = rig.run();
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::checksum);
    CHECK_FALSE(std::filesystem::exists(rig.final_path()));
}

TEST_CASE("PrefixHasher hashes the growing prefix on its own thread; reset starts again", "[download][segmented]") {
    TempDir tmp;
    auto path = tmp / "f.part";
    auto data = pseudo_random((3U << 20) + 77);
    write_text(path, data);

    PrefixHasher h(path);
    h.advance(1000);
    REQUIRE(wait_hashed(h, 1000)); // before finish: the hashing runs while the download does
    h.advance(2U << 20);
    REQUIRE(wait_hashed(h, 2U << 20));
    auto prefix = h.finish(data.size()); // the rest is hashed by finish
    REQUIRE(prefix);
    CHECK(prefix->bytes == data.size());
    CHECK(prefix->state.hex_digest() == sha256_hex(data));

    PrefixHasher again(path);
    again.advance(5000);
    REQUIRE(wait_hashed(again, 5000));
    again.reset(); // the .part is rewritten from zero with other bytes
    auto other = pseudo_random(4000, 7);
    write_text(path, other);
    again.advance(other.size());
    auto p2 = again.finish(other.size());
    REQUIRE(p2);
    CHECK(p2->bytes == other.size());
    CHECK(p2->state.hex_digest() == sha256_hex(other));

    PrefixHasher past(path);
    past.advance(4000);
    REQUIRE(wait_hashed(past, 4000));
    CHECK_FALSE(past.finish(100)); // a prefix shorter than what was hashed: no state to give
}
