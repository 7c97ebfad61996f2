// Extracting a Go toolchain module zip (golang.org/toolchain@v0.0.1-<go>.<os>-<arch>/...) as a
// toolchain tree: the module prefix becomes go/, modes follow distpack's rule, _go.mod is go.mod.

#include <catch2/catch.hpp>

#include <sys/stat.h>

#include "archive_builder.hpp"
#include "goinstall/archive/extract.hpp"

namespace {

using namespace goinstall;
using namespace goinstall::test;

const std::string k_prefix = "golang.org/toolchain@v0.0.1-go1.21.3.linux-amd64";

unsigned mode_of(const std::filesystem::path& p) {
    struct stat st {};
    REQUIRE(::lstat(p.c_str(), &st) == 0);
    return st.st_mode & 07777;
}

ExtractOptions module_options() {
    ExtractOptions o;
    o.top_dir = k_prefix;
    o.module_zip = true;
    return o;
}

TEST_CASE("module_mode follows distpack's rule", "[archive][module]") {
    // clang-format off
    auto [rel, mode] = GENERATE(table<std::string, unsigned>({
        {"bin/go", 0755}, {"bin/gofmt", 0755}, {"pkg/tool/linux_amd64/compile", 0755},
        {"src/make.bash", 0755}, {"src/all.rc", 0755}, {"src/cmd/dist/x.pl", 0755}, {"misc/a.sh", 0755},
        {"lib/wasm/go_js_wasm_exec", 0755}, {"misc/wasm/go_wasip1_wasm_exec", 0755},
        {"VERSION", 0644}, {"src/go.mod", 0644}, {"src/fmt/print.go", 0644}, {"lib/time/zoneinfo.zip", 0644},
        {"go_exec", 0644}, {"binary", 0644}, {"pkg/include/asm.h", 0644},
    }));
    // clang-format on
    CAPTURE(rel);
    CHECK(module_mode(rel) == mode);
}

TEST_CASE("a toolchain module zip extracts as a go/ tree with distpack's modes", "[archive][module]") {
    TempTree t;
    write_archive(t.archive(ArchiveKind::zip), ArchiveKind::zip,
                  {{k_prefix + "/VERSION", EntryType::file, 0777, "go1.21.3\n", ""},
                   {k_prefix + "/bin/go", EntryType::file, 0600, "#!/bin/sh\n", ""},
                   {k_prefix + "/src/_go.mod", EntryType::file, 0644, "module std\n", ""},
                   {k_prefix + "/src/cmd/_go.mod", EntryType::file, 0644, "module cmd\n", ""},
                   {k_prefix + "/src/make.bash", EntryType::file, 0644, "#!/bin/bash\n", ""}});
    auto stats = extract_archive(t.archive(ArchiveKind::zip), t.dest(), module_options());
    REQUIRE(stats);
    CHECK(stats->files == 5);
    CHECK(mode_of(t.dest() / "go/VERSION") == 0644);
    CHECK(mode_of(t.dest() / "go/bin/go") == 0755);
    CHECK(mode_of(t.dest() / "go/src/make.bash") == 0755);
    CHECK(read_file(t.dest() / "go/src/go.mod") == "module std\n");
    CHECK(read_file(t.dest() / "go/src/cmd/go.mod") == "module cmd\n");
    CHECK_FALSE(std::filesystem::exists(t.dest() / "go/src/_go.mod"));
    CHECK_FALSE(std::filesystem::exists(t.dest() / "golang.org"));
}

TEST_CASE("a module zip with anything but files inside the prefix is refused", "[archive][module]") {
    TempTree t;
    auto entries = GENERATE(std::vector<TestEntry>{{"golang.org/toolchain@v0.0.1-go1.22.0.linux-amd64/VERSION",
                                                    EntryType::file, 0644, "x", ""}},
                            std::vector<TestEntry>{{"go/VERSION", EntryType::file, 0644, "x", ""}},
                            std::vector<TestEntry>{{k_prefix + "/bin/go", EntryType::symlink, 0777, "", "/bin/sh"}},
                            std::vector<TestEntry>{{k_prefix + "/../evil", EntryType::file, 0644, "x", ""}},
                            std::vector<TestEntry>{{k_prefix, EntryType::file, 0644, "x", ""}});
    CAPTURE(entries.front().path);
    write_archive(t.archive(ArchiveKind::zip), ArchiveKind::zip, entries);
    auto stats = extract_archive(t.archive(ArchiveKind::zip), t.dest(), module_options());
    REQUIRE_FALSE(stats);
    CHECK(stats.error().code() == ErrorCode::bad_archive);
}

} // namespace
