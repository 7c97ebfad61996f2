// Module zips read one way only: what is hashed (module_zip_h1) is what extraction writes. The
// security review's polyglot (a tar.gz in front of a genuine zip: the central directory says one
// thing, the start of the file another), a declared size smaller than the data (a zip bomb that
// would inflate far past its caps before any check), and the extraction-time hash the pipeline
// compares before its commit.

#include "goproxy_rig.hpp"

#include "goinstall/archive/extract.hpp"

namespace {

using namespace goinstall;

std::string bytes_of(const std::filesystem::path& p) { return goinstall::test::read_file(p); }

// Sets the uncompressed size of every entry, in local and central headers, to `size`.
std::string with_declared_size(std::string zip, std::uint32_t size) {
    auto put32 = [&](std::size_t at) {
        for (int i = 0; i < 4; ++i) zip[at + i] = static_cast<char>((size >> (8 * i)) & 0xff);
    };
    for (std::size_t at = 0; (at = zip.find(std::string("PK\x03\x04", 4), at)) != std::string::npos; at += 4)
        put32(at + 22);
    for (std::size_t at = 0; (at = zip.find(std::string("PK\x01\x02", 4), at)) != std::string::npos; at += 4)
        put32(at + 24);
    return zip;
}

} // namespace

TEST_CASE("module zip: bytes before the first entry (a tar.gz in front of a genuine zip) are refused",
          "[core][goproxy][archive]") {
    TempDir tmp;
    auto z = make_zip(tmp, "go1.21.3");
    const auto evil_tgz = tmp / "evil.tar.gz";
    goinstall::test::write_archive(evil_tgz, ArchiveKind::tar_gz_pax,
                                   {{"go/bin/go", EntryType::file, 0755, "#!/bin/sh\necho PWNED\n", ""}});
    const std::string prefixes[] = {bytes_of(evil_tgz), std::string(512, '\0')};
    for (const auto& prefix : prefixes) {
        const auto path = tmp / "poly.zip";
        goinstall::test::write_text(path, prefix + z.bytes);
        auto h1 = module_zip_h1(path, "golang.org/toolchain", z.version);
        REQUIRE_FALSE(h1);
        CHECK(h1.error().code() == ErrorCode::bad_archive);
        ExtractOptions xo;
        xo.module_zip = true;
        xo.top_dir = "golang.org/toolchain@" + z.version;
        std::filesystem::create_directories(tmp / "out");
        auto x = extract_archive(path, tmp / "out", xo);
        REQUIRE_FALSE(x);
        CHECK(x.error().code() == ErrorCode::bad_archive);
        CHECK_FALSE(std::filesystem::exists(tmp / "out" / "go" / "bin" / "go"));
    }
}

TEST_CASE("module zip through the route: a polyglot file is refused, nothing installed", "[core][goproxy]") {
    Rig rig;
    const auto evil_tgz = rig.tmp / "evil.tar.gz";
    goinstall::test::write_archive(evil_tgz, ArchiveKind::tar_gz_pax,
                                   {{"go/bin/go", EntryType::file, 0755, "#!/bin/sh\necho PWNED\n", ""}});
    rig.net.serve(Rig::zip_url(k_proxy, rig.zip.version), bytes_of(evil_tgz) + rig.zip.bytes);
    auto out = rig.install();
    REQUIRE_FALSE(out);
    CHECK(out.error().code() == ErrorCode::bad_archive);
    rig.check_nothing_installed();
}

TEST_CASE("module zip: an entry with more data than it declares stops at once, in both readers",
          "[core][goproxy][archive]") {
    TempDir tmp;
    const std::string version = "v0.0.1-go1.21.3.linux-amd64";
    const std::string prefix = "golang.org/toolchain@" + version + "/";
    const auto built = tmp / "big.zip";
    goinstall::test::write_archive(built, ArchiveKind::zip,
                                   {{prefix + "VERSION", EntryType::file, 0644, "go1.21.3\n", ""},
                                    {prefix + "src/big", EntryType::file, 0644, std::string(4 << 20, 'z'), ""}});
    const auto path = tmp / "bomb.zip";
    goinstall::test::write_text(path, with_declared_size(bytes_of(built), 9));
    auto h1 = module_zip_h1(path, "golang.org/toolchain", version);
    REQUIRE_FALSE(h1);
    CHECK(h1.error().code() == ErrorCode::bad_archive);
    ExtractOptions xo;
    xo.module_zip = true;
    xo.top_dir = prefix.substr(0, prefix.size() - 1);
    std::filesystem::create_directories(tmp / "out");
    auto x = extract_archive(path, tmp / "out", xo);
    REQUIRE_FALSE(x);
    CHECK(x.error().code() == ErrorCode::bad_archive);
}

TEST_CASE("module zip: extraction hashes what it writes, to the same h1: as the file's", "[core][goproxy][archive]") {
    TempDir tmp;
    auto z = make_zip(tmp, "go1.21.3");
    const auto path = tmp / "z.zip";
    goinstall::test::write_text(path, z.bytes);
    ModuleZipHasher hasher("golang.org/toolchain", z.version);
    ExtractOptions xo;
    xo.module_zip = true;
    xo.top_dir = "golang.org/toolchain@" + z.version;
    xo.module_visitor = &hasher;
    std::filesystem::create_directories(tmp / "out");
    auto x = extract_archive(path, tmp / "out", xo);
    REQUIRE(x);
    CHECK(hasher.h1() == z.h1);
    CHECK(module_zip_h1(path, "golang.org/toolchain", z.version) == z.h1);
}
