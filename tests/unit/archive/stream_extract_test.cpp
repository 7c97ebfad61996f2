// extract_tar_gz_stream: same tree as extract_archive whatever the chunking of the input, corrupt
// and truncated streams, source errors, and a source that grows while it is read.

#include <catch2/catch.hpp>

#include <fcntl.h>
#include <random>
#include <thread>
#include <unistd.h>

#include <sys/stat.h>

#include "archive_builder.hpp"
#include "goinstall/archive/extract.hpp"
#include "goinstall/archive/stream_extract.hpp"

using namespace goinstall;
using namespace goinstall::test;
namespace fs = std::filesystem;

namespace {

// Hands out `data` in chunks of pseudo-random sizes (1 byte to 64 KiB), then an optional error.
class ChunkedSource final : public ByteSource {
public:
    ChunkedSource(std::string data, std::uint32_t seed, std::optional<Error> end_error = std::nullopt)
        : m_data(std::move(data)), m_rng(seed), m_end_error(std::move(end_error)) {}
    Result<std::size_t> read(std::span<unsigned char> buf) override {
        if (m_pos == m_data.size()) {
            if (m_end_error) return std::unexpected(*m_end_error);
            return 0;
        }
        std::size_t n = std::uniform_int_distribution<std::size_t>(1, 65536)(m_rng);
        n = std::min({n, buf.size(), m_data.size() - m_pos});
        std::copy_n(m_data.data() + m_pos, n, buf.data());
        m_pos += n;
        return n;
    }

private:
    std::string m_data;
    std::size_t m_pos = 0;
    std::mt19937 m_rng;
    std::optional<Error> m_end_error;
};

std::string noise(std::size_t n, std::uint32_t x) {
    std::string s(n, '\0');
    for (auto& ch : s) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        ch = static_cast<char>(x & 0xff);
    }
    return s;
}

std::vector<TestEntry> tree() {
    std::vector<TestEntry> e = {
        {"go/", EntryType::dir, 0755, "", ""},
        {"go/VERSION", EntryType::file, 0644, "go1.22.5\n", ""},
        {"go/bin/go", EntryType::file, 0755, "#!/bin/sh\n", ""},
        {"go/lib/link", EntryType::symlink, 0777, "", "../VERSION"},
        {"go/src/empty.go", EntryType::file, 0600, "", ""},
        {"go/pkg/big.bin", EntryType::file, 0644, noise(2 * (1U << 20) + 5, 7), ""},
        {"go/pkg/hard", EntryType::hardlink, 0644, "", "go/pkg/big.bin"},
    };
    for (int i = 0; i < 300; ++i) {
        e.push_back({"go/src/p" + std::to_string(i % 17) + "/f" + std::to_string(i) + ".go", EntryType::file,
                     i % 3 == 0 ? 0755U : 0644U,
                     noise(static_cast<std::size_t>(i) * 37, static_cast<std::uint32_t>(i) + 1), ""});
    }
    return e;
}

// "path mode kind size" for every node, sorted: the shape of an extracted tree.
std::vector<std::string> shape(const fs::path& root) {
    std::vector<std::string> out;
    for (auto it = fs::recursive_directory_iterator(root); it != fs::recursive_directory_iterator(); ++it) {
        struct stat st {};
        REQUIRE(::lstat(it->path().c_str(), &st) == 0);
        std::string line = fs::relative(it->path(), root).string() + " " + std::to_string(st.st_mode) + " ";
        if (S_ISREG(st.st_mode))
            line += std::to_string(st.st_size) + " " + std::to_string(st.st_nlink) + " " +
                    read_file(it->path()).substr(0, 64);
        if (S_ISLNK(st.st_mode)) line += fs::read_symlink(it->path()).string();
        out.push_back(line);
    }
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

TEST_CASE("extract_tar_gz_stream gives the same tree as extract_archive in any chunking", "[archive][stream]") {
    auto kind = GENERATE(ArchiveKind::tar_gz_pax, ArchiveKind::tar_gz_ustar);
    auto seed = GENERATE(1U, 2U, 3U);
    TempTree t;
    write_archive(t.archive(kind), kind, tree());
    const fs::path other = t.root() / "other";
    fs::create_directory(other);

    auto from_file = extract_archive(t.archive(kind), other, {});
    REQUIRE(from_file);
    ChunkedSource src(read_file(t.archive(kind)), seed);
    auto streamed = extract_tar_gz_stream(src, t.dest(), {});
    REQUIRE(streamed);
    CHECK(streamed->files == from_file->files);
    CHECK(streamed->hardlinks == 1);
    CHECK(streamed->bytes == from_file->bytes);
    CHECK(shape(t.dest()) == shape(other));
}

TEST_CASE("extract_tar_gz_stream rejects corrupt, truncated and non-gzip streams", "[archive][stream]") {
    TempTree t;
    write_archive(t.archive(ArchiveKind::tar_gz_pax), ArchiveKind::tar_gz_pax, tree());
    std::string data = read_file(t.archive(ArchiveKind::tar_gz_pax));
    SECTION("a flipped byte in the middle") { data[data.size() / 2] = static_cast<char>(data[data.size() / 2] ^ 0xff); }
    SECTION("truncated") { data.resize(data.size() * 2 / 3); }
    SECTION("not gzip") { data = std::string(4096, 'x'); }
    SECTION("empty") { data.clear(); }
    SECTION("bad CRC trailer") { data[data.size() - 6] = static_cast<char>(data[data.size() - 6] ^ 1); }
    ChunkedSource src(data, 9);
    auto r = extract_tar_gz_stream(src, t.dest(), {});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::bad_archive);
    CHECK_THAT(r.error().message(), Catch::Contains("corrupt or truncated"));
}

TEST_CASE("extract_tar_gz_stream keeps the entry checks", "[archive][stream]") {
    TempTree t;
    write_archive(t.archive(ArchiveKind::tar_gz_pax), ArchiveKind::tar_gz_pax,
                  {{"go/ok", EntryType::file, 0644, "x", ""}, {"go/../evil", EntryType::file, 0644, "x", ""}});
    ChunkedSource src(read_file(t.archive(ArchiveKind::tar_gz_pax)), 4);
    auto r = extract_tar_gz_stream(src, t.dest(), {});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::bad_archive);
    CHECK(find_named(t.root(), "evil").empty());
}

TEST_CASE("extract_tar_gz_stream returns the source's error", "[archive][stream]") {
    TempTree t;
    write_archive(t.archive(ArchiveKind::tar_gz_pax), ArchiveKind::tar_gz_pax, tree());
    std::string data = read_file(t.archive(ArchiveKind::tar_gz_pax));
    data.resize(data.size() / 2);
    ChunkedSource src(data, 5, Error(ErrorCode::network, "the mirror went away"));
    auto r = extract_tar_gz_stream(src, t.dest(), {});
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::network);
}

TEST_CASE("extract_tar_gz_stream follows a file that is still being written", "[archive][stream]") {
    TempTree t;
    write_archive(t.archive(ArchiveKind::tar_gz_pax), ArchiveKind::tar_gz_pax, tree());
    const std::string data = read_file(t.archive(ArchiveKind::tar_gz_pax));
    const fs::path part = t.root() / "x.part";
    int fd = ::open(part.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    REQUIRE(fd >= 0);
    GrowingFileSource src;
    std::thread writer([&] {
        src.attach(fd);
        std::size_t done = 0;
        while (done < data.size()) {
            const std::size_t n = std::min<std::size_t>(40000, data.size() - done);
            if (::write(fd, data.data() + done, n) != static_cast<ssize_t>(n)) break;
            done += n;
            src.grow(done);
        }
        src.finish();
    });
    auto r = extract_tar_gz_stream(src, t.dest(), {});
    writer.join();
    ::close(fd);
    REQUIRE(r);
    CHECK(r->files == tree().size() - 3); // all but the directory, the symlink and the hard link
    CHECK(read_file(t.dest() / "go/VERSION") == "go1.22.5\n");
}
