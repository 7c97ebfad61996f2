#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <sys/stat.h>

#include "archive_builder.hpp"
#include "goinstall/archive/extract.hpp"

using namespace goinstall;
using namespace goinstall::test;
namespace fs = std::filesystem;

namespace {

unsigned mode_of(const fs::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

std::string pseudo_random(std::size_t n) {
    std::string s(n, '\0');
    std::uint32_t x = 2463534242U;
    for (auto& ch : s) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        ch = static_cast<char>(x & 0xff);
    }
    return s;
}

const std::vector<TestEntry>& good_tree() {
    static const std::vector<TestEntry> entries = {
        {"go/", EntryType::dir, 0755, "", ""},
        {"go/VERSION", EntryType::file, 0644, "go1.22.5\n", ""},
        {"go/bin/", EntryType::dir, 0755, "", ""},
        {"go/bin/go", EntryType::file, 0755,
         "\x7f"
         "ELF pretend binary",
         ""},
        {"go/lib/link", EntryType::symlink, 0777, "", "../VERSION"},
        {"go/src/deep/er/a.go", EntryType::file, 0644, "package a\n", ""}, // parents not listed
        {"go/src/deep/er/b.go", EntryType::file, 0644, "", ""},            // empty file
        {"go/pkg/big.bin", EntryType::file, 0644, pseudo_random(3 * (1U << 20) + 17), ""},
    };
    return entries;
}

} // namespace

TEST_CASE("extract_archive extracts a good tree", "[archive]") {
    auto kind = GENERATE(ArchiveKind::tar_gz_pax, ArchiveKind::tar_gz_ustar, ArchiveKind::zip);
    INFO(to_string(kind));
    TempTree t;
    write_archive(t.archive(kind), kind, good_tree());

    auto r = extract_archive(t.archive(kind), t.dest(), {});
    REQUIRE(r.has_value());
    CHECK(r->files == 5);
    CHECK(r->symlinks == 1);
    CHECK(r->hardlinks == 0);
    CHECK(r->dirs == 7); // go and bin listed; lib, src, src/deep, src/deep/er and pkg implied
    CHECK(r->bytes == 9 + 19 + 10 + 3 * (1U << 20) + 17);

    const fs::path go = t.dest() / "go";
    CHECK(read_file(go / "VERSION") == "go1.22.5\n");
    CHECK(read_file(go / "src/deep/er/a.go") == "package a\n");
    CHECK(fs::file_size(go / "src/deep/er/b.go") == 0);
    CHECK(read_file(go / "pkg/big.bin") == good_tree().back().data);
    CHECK(mode_of(go / "bin/go") == 0755);
    CHECK(mode_of(go / "VERSION") == 0644);
    CHECK(fs::is_symlink(go / "lib/link"));
    CHECK(fs::read_symlink(go / "lib/link") == "../VERSION");
    CHECK(read_file(go / "lib/link") == "go1.22.5\n");
    CHECK(list_dir(t.stage()) == std::vector<std::string>{"dest"});
    CHECK(list_dir(t.dest()) == std::vector<std::string>{"go"});
}

TEST_CASE("extract_archive caps modes at 0755: no group/other write, setuid, setgid or sticky", "[archive]") {
    auto kind = GENERATE(ArchiveKind::tar_gz_pax, ArchiveKind::zip);
    INFO(to_string(kind));
    TempTree t;
    write_archive(t.archive(kind), kind,
                  {
                      {"go/", EntryType::dir, 0755, "", ""},
                      {"go/suid", EntryType::file, 04755, "x", ""},
                      {"go/sgid", EntryType::file, 02711, "x", ""},
                      {"go/sticky/", EntryType::dir, 01777, "", ""},
                      {"go/all", EntryType::file, 0777, "x", ""}, // more than a 022 umask allows
                      {"go/none", EntryType::file, 0000, "x", ""},
                      {"go/shared", EntryType::file, 0666, "x", ""},
                      {"go/open/", EntryType::dir, 0777, "", ""},
                      {"go/ro/", EntryType::dir, 0555, "", ""}, // owner keeps rwx on directories
                      {"go/ro/file", EntryType::file, 0444, "x", ""},
                  });
    auto r = extract_archive(t.archive(kind), t.dest(), {});
    REQUIRE(r.has_value());
    const fs::path go = t.dest() / "go";
    CHECK(mode_of(go / "suid") == 0755);
    CHECK(mode_of(go / "sgid") == 0711);
    CHECK(mode_of(go / "sticky") == 0755);
    CHECK(mode_of(go / "all") == 0755);
    CHECK(mode_of(go / "none") == 0000);
    CHECK(mode_of(go / "shared") == 0644);
    CHECK(mode_of(go / "open") == 0755);
    CHECK(mode_of(go / "ro") == 0755);
    CHECK(mode_of(go / "ro/file") == 0444);
    CHECK(read_file(go / "ro/file") == "x");
}

TEST_CASE("extract_archive sets modes exactly whatever the umask", "[archive]") {
    TempTree t;
    write_archive(t.archive(ArchiveKind::tar_gz_pax), ArchiveKind::tar_gz_pax,
                  {
                      {"go/bin/go", EntryType::file, 0755, "x", ""}, // go and go/bin implied
                      {"go/doc/", EntryType::dir, 0755, "", ""},
                      {"go/doc/README", EntryType::file, 0644, "x", ""},
                  });
    const mode_t old_umask = ::umask(077); // tests run single-threaded
    auto r = extract_archive(t.archive(ArchiveKind::tar_gz_pax), t.dest(), {});
    ::umask(old_umask);
    REQUIRE(r.has_value());
    const fs::path go = t.dest() / "go";
    CHECK(mode_of(go) == 0755);
    CHECK(mode_of(go / "bin") == 0755);
    CHECK(mode_of(go / "bin/go") == 0755);
    CHECK(mode_of(go / "doc") == 0755);
    CHECK(mode_of(go / "doc/README") == 0644);
}

TEST_CASE("extract_archive accepts hard links to files extracted earlier", "[archive]") {
    TempTree t;
    write_archive(t.archive(ArchiveKind::tar_gz_pax), ArchiveKind::tar_gz_pax,
                  {
                      {"go/bin/go", EntryType::file, 0755, "binary", ""},
                      {"go/bin/go2", EntryType::hardlink, 0755, "", "go/bin/go"},
                      {"./go/pkg/go3", EntryType::hardlink, 0755, "", "./go/bin/go"},
                  });
    auto r = extract_archive(t.archive(ArchiveKind::tar_gz_pax), t.dest(), {});
    REQUIRE(r.has_value());
    CHECK(r->files == 1);
    CHECK(r->hardlinks == 2);
    const fs::path go = t.dest() / "go";
    CHECK(fs::equivalent(go / "bin/go", go / "bin/go2"));
    CHECK(fs::equivalent(go / "bin/go", go / "pkg/go3"));
    CHECK(fs::hard_link_count(go / "bin/go") == 3);
}

TEST_CASE("extract_archive normalises names and tolerates repeated directories", "[archive]") {
    auto kind = GENERATE(ArchiveKind::tar_gz_pax, ArchiveKind::zip);
    INFO(to_string(kind));
    TempTree t;
    write_archive(t.archive(kind), kind,
                  {
                      {"./go/ok", EntryType::file, 0644, "ok", ""},
                      {"go//a/./x", EntryType::file, 0644, "x", ""},
                      {"go/a/", EntryType::dir, 0750, "", ""}, // after it was implied by go/a/x
                      {"go/a", EntryType::dir, 0700, "", ""},  // and listed twice
                  });
    auto r = extract_archive(t.archive(kind), t.dest(), {});
    REQUIRE(r.has_value());
    CHECK(read_file(t.dest() / "go/ok") == "ok");
    CHECK(read_file(t.dest() / "go/a/x") == "x");
    CHECK(mode_of(t.dest() / "go/a") == 0700);
}

TEST_CASE("extract_archive keeps non-ASCII names byte for byte", "[archive]") {
    auto kind = GENERATE(ArchiveKind::tar_gz_pax, ArchiveKind::zip);
    INFO(to_string(kind));
    TempTree t;
    const std::string name = "go/h\xc3\xa9llo.txt"; // "héllo" in UTF-8
    write_archive(t.archive(kind), kind, {{name, EntryType::file, 0644, "hi", ""}});
    auto r = extract_archive(t.archive(kind), t.dest(), {});
    REQUIRE(r.has_value());
    CHECK(read_file(t.dest() / name) == "hi");
}

TEST_CASE("extract_archive honours another top directory or none", "[archive]") {
    TempTree t;
    write_archive(t.archive(ArchiveKind::tar_gz_pax), ArchiveKind::tar_gz_pax,
                  {{"a/x", EntryType::file, 0644, "x", ""}, {"b/l", EntryType::symlink, 0777, "", "../a/x"}});
    ExtractOptions options;
    SECTION("no restriction") {
        options.top_dir = "";
        auto r = extract_archive(t.archive(ArchiveKind::tar_gz_pax), t.dest(), options);
        REQUIRE(r.has_value());
        CHECK(read_file(t.dest() / "b/l") == "x");
    }
    SECTION("invalid top directories are usage errors") {
        options.top_dir = GENERATE(as<std::string>{}, "../x", "/go", "go/", "./go", "a/../b");
        auto r = extract_archive(t.archive(ArchiveKind::tar_gz_pax), t.dest(), options);
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == ErrorCode::usage);
        CHECK(fs::is_empty(t.dest()));
    }
}

TEST_CASE("extract_archive rejects corrupt or truncated or empty archives", "[archive]") {
    TempTree t;
    const fs::path path = t.root() / "input.bin";
    SECTION("tar.gz cut in half") {
        write_archive(path, ArchiveKind::tar_gz_pax, good_tree());
        fs::resize_file(path, fs::file_size(path) / 2);
    }
    SECTION("zip cut in half") {
        write_archive(path, ArchiveKind::zip, good_tree());
        fs::resize_file(path, fs::file_size(path) / 2);
    }
    SECTION("garbage") { std::ofstream(path, std::ios::binary) << pseudo_random(10000); }
    SECTION("gzip of garbage") {
        // A valid gzip stream whose contents are not a tar: write a 'tar' with raw bytes only.
        std::ofstream(path, std::ios::binary)
            << std::string("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", 10) << pseudo_random(5000);
    }
    SECTION("empty file") { std::ofstream(path, std::ios::binary).flush(); }
    SECTION("valid but empty tar.gz") { write_archive(path, ArchiveKind::tar_gz_pax, {}); }
    auto r = extract_archive(path, t.dest(), {});
    REQUIRE_FALSE(r.has_value());
    INFO(r.error().message());
    CHECK(r.error().code() == ErrorCode::bad_archive);
    CHECK(list_dir(t.stage()) == std::vector<std::string>{"dest"});
}

TEST_CASE("extract_archive treats a zip CRC mismatch as corruption", "[archive]") {
    TempTree t;
    const fs::path path = t.archive(ArchiveKind::zip);
    const std::string content(1000, 'c');
    write_archive(path, ArchiveKind::zip, {{"go/data", EntryType::file, 0644, content, ""}}, "zip:compression=store");
    std::string bytes = read_file(path);
    const auto at = bytes.find(content);
    REQUIRE(at != std::string::npos);
    bytes[at + 500] = 'X'; // stored data, so only the CRC can notice
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    auto r = extract_archive(path, t.dest(), {});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::bad_archive);
    CHECK_THAT(r.error().message(), Catch::StartsWith("archive is corrupt or truncated: "));
    CHECK_THAT(r.error().message(), Catch::Contains("\"go/data\""));
}

TEST_CASE("extract_archive merges into existing directories but never follows existing symlinks", "[archive]") {
    TempTree t;
    write_archive(t.archive(ArchiveKind::tar_gz_pax), ArchiveKind::tar_gz_pax,
                  {{"go/", EntryType::dir, 0750, "", ""}, {"go/evil", EntryType::file, 0644, "x", ""}});
    SECTION("an existing directory gets the archive's mode") {
        fs::create_directory(t.dest() / "go");
        fs::permissions(t.dest() / "go", fs::perms::owner_all);
        auto r = extract_archive(t.archive(ArchiveKind::tar_gz_pax), t.dest(), {});
        REQUIRE(r.has_value());
        CHECK(r->dirs == 0);
        CHECK(mode_of(t.dest() / "go") == 0750);
        CHECK(read_file(t.dest() / "go/evil") == "x");
    }
    SECTION("an existing symlink to outside is rejected") {
        fs::create_directory_symlink(t.outside(), t.dest() / "go");
        auto r = extract_archive(t.archive(ArchiveKind::tar_gz_pax), t.dest(), {});
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == ErrorCode::bad_archive);
        CHECK_THAT(r.error().message(), Catch::Contains("\"go/\""));
        CHECK(fs::is_empty(t.outside()));
    }
    SECTION("an existing file is never overwritten") {
        fs::create_directory(t.dest() / "go");
        std::ofstream(t.dest() / "go/evil") << "mine";
        auto r = extract_archive(t.archive(ArchiveKind::tar_gz_pax), t.dest(), {});
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == ErrorCode::bad_archive);
        CHECK(read_file(t.dest() / "go/evil") == "mine");
    }
}

TEST_CASE("extract_archive names the corruption", "[archive]") {
    TempTree t;
    const fs::path path = t.archive(ArchiveKind::tar_gz_pax);
    write_archive(path, ArchiveKind::tar_gz_pax, good_tree());
    fs::resize_file(path, fs::file_size(path) / 2);
    auto r = extract_archive(path, t.dest(), {});
    REQUIRE_FALSE(r.has_value());
    CHECK_THAT(r.error().message(), Catch::StartsWith("archive is corrupt or truncated: "));
}

TEST_CASE("extract_archive reports missing inputs as file-system errors", "[archive]") {
    TempTree t;
    write_archive(t.archive(ArchiveKind::tar_gz_pax), ArchiveKind::tar_gz_pax, good_tree());
    SECTION("missing archive") {
        auto r = extract_archive(t.root() / "missing.tar.gz", t.dest(), {});
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == ErrorCode::filesystem);
    }
    SECTION("missing destination is not created") {
        auto r = extract_archive(t.archive(ArchiveKind::tar_gz_pax), t.stage() / "missing", {});
        REQUIRE_FALSE(r.has_value());
        CHECK(r.error().code() == ErrorCode::filesystem);
        CHECK_FALSE(fs::exists(t.stage() / "missing"));
    }
}

TEST_CASE("extract_archive stops when cancelled", "[archive]") {
    TempTree t;
    write_archive(t.archive(ArchiveKind::tar_gz_pax), ArchiveKind::tar_gz_pax, good_tree());
    CancelToken token;
    token.cancel();
    ExtractOptions options;
    options.cancel = &token;
    auto r = extract_archive(t.archive(ArchiveKind::tar_gz_pax), t.dest(), options);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::cancelled);
}

TEST_CASE("gzip_isize reads the size a gzip trailer records", "[archive]") {
    TempTree t;
    const auto write = [&](const std::string& name, const std::string& bytes) {
        std::ofstream(t.root() / name, std::ios::binary) << bytes;
        return t.root() / name;
    };
    // "hello" as one stored deflate block (RFC 1951 §3.2.4): header, block, CRC-32 0x3610a686, ISIZE 5.
    const std::string hello("\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
                            "\x01\x05\x00\xfa\xff"
                            "hello"
                            "\x86\xa6\x10\x36\x05\x00\x00\x00",
                            28);
    CHECK(gzip_isize(write("hello.gz", hello)) == 5);
    // ISIZE is little-endian, all four bytes.
    CHECK(gzip_isize(write("big.gz", hello.substr(0, 24) + std::string("\x01\x02\x03\x04", 4))) == 0x04030201U);
    CHECK(gzip_isize(write("plain.txt", "not a gzip file, but long enough")) == 0);
    CHECK(gzip_isize(write("short.gz", hello.substr(0, 17))) == 0);
    CHECK(gzip_isize(t.root() / "missing.gz") == 0);
}
