// Hostile archives: each must fail with the right code, name the offending entry, and leave
// nothing outside the destination directory.

#include <catch2/catch.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "archive_builder.hpp"
#include "goinstall/archive/extract.hpp"

using namespace goinstall;
using namespace goinstall::test;
namespace fs = std::filesystem;

namespace {

constexpr auto D = EntryType::dir;
constexpr auto F = EntryType::file;
constexpr auto S = EntryType::symlink;
constexpr auto H = EntryType::hardlink;

struct Hostile {
    std::string name;
    std::vector<ArchiveKind> kinds;
    // Built per tree because some targets are absolute paths inside the tree.
    std::function<std::vector<TestEntry>(const TempTree&)> entries;
    std::string entry_in_message; // the offending entry's name as it must appear in the message
    ExtractLimits limits{};
    // Entries named "evil" must never appear; duplicate cases check their own leftovers instead.
    std::function<void(const TempTree&)> extra_checks{};
};

const std::vector<ArchiveKind> k_all = {ArchiveKind::tar_gz_pax, ArchiveKind::tar_gz_ustar, ArchiveKind::zip};
const std::vector<ArchiveKind> k_tar = {ArchiveKind::tar_gz_pax, ArchiveKind::tar_gz_ustar};
const std::vector<ArchiveKind> k_zip = {ArchiveKind::zip};
const std::vector<ArchiveKind> k_pax_zip = {ArchiveKind::tar_gz_pax, ArchiveKind::zip};

std::function<std::vector<TestEntry>(const TempTree&)> fixed(std::vector<TestEntry> entries) {
    return [entries = std::move(entries)](const TempTree&) { return entries; };
}

ExtractLimits limits(std::uint64_t total, std::uint64_t entries, std::uint64_t file) {
    ExtractLimits l;
    l.max_total_bytes = total;
    l.max_entries = entries;
    l.max_file_bytes = file;
    return l;
}

ExtractLimits links(std::uint64_t per_file) {
    ExtractLimits l;
    l.max_links_per_file = per_file;
    return l;
}

const std::vector<Hostile>& hostile_cases() {
    static const std::vector<Hostile> cases = {
        {"parent traversal", k_all, fixed({{"go/ok", F, 0644, "ok", ""}, {"../evil", F, 0644, "x", ""}}), "../evil"},
        {"traversal inside the top directory", k_all, fixed({{"go/../../evil", F, 0644, "x", ""}}), "go/../../evil"},
        {"absolute path", k_all, fixed({{"/etc/evil", F, 0644, "x", ""}}), "/etc/evil"},
        {"outside the top directory", k_all, fixed({{"evil/outside-top", F, 0644, "x", ""}}), "evil/outside-top"},
        {"name that only looks like the top directory", k_all, fixed({{"gopher/evil", F, 0644, "x", ""}}),
         "gopher/evil"},
        {"the destination itself", k_tar, fixed({{"./", D, 0755, "", ""}}), "./"},
        {"absolute symlink then a file through it", k_all,
         [](const TempTree& t) {
             return std::vector<TestEntry>{{"go/link", S, 0777, "", t.outside().string()},
                                           {"go/link/evil", F, 0644, "x", ""}};
         },
         "go/link"},
        {"symlink to /tmp then a file through it", k_all,
         fixed({{"go/link", S, 0777, "", "/tmp"}, {"go/link/evil", F, 0644, "x", ""}}), "go/link"},
        {"file through a safe symlink", k_all,
         fixed({{"go/sub/", D, 0755, "", ""}, {"go/link", S, 0777, "", "sub"}, {"go/link/evil", F, 0644, "x", ""}}),
         "go/link/evil"},
        {"directory through a safe symlink", k_all,
         fixed({{"go/link", S, 0777, "", "."}, {"go/link/evil/", D, 0755, "", ""}}), "go/link/evil/"},
        {"relative symlink escaping", k_all, fixed({{"go/evil", S, 0777, "", "../../evil"}}), "go/evil"},
        {"symlink to the top directory's sibling", k_all, fixed({{"go/evil", S, 0777, "", "../x"}}), "go/evil"},
        {"symlink escaping through another symlink", k_all,
         fixed({{"go/a/d", S, 0777, "", ".."}, {"go/a/evil", S, 0777, "", "d/../../x"}}), "go/a/evil"},
        {"hard link to /etc/passwd", k_tar, fixed({{"go/evil", H, 0644, "", "/etc/passwd"}}), "go/evil"},
        {"hard link to ../x", k_tar, fixed({{"go/evil", H, 0644, "", "../x"}}), "go/evil"},
        {"hard link to a missing file", k_tar, fixed({{"go/evil", H, 0644, "", "go/missing"}}), "go/evil"},
        {"hard link to a later file", k_tar,
         fixed({{"go/evil", H, 0644, "", "go/later"}, {"go/later", F, 0644, "x", ""}}), "go/evil"},
        {"hard link to a directory", k_tar, fixed({{"go/d/", D, 0755, "", ""}, {"go/evil", H, 0644, "", "go/d"}}),
         "go/evil"},
        {"hard link to a symlink", k_tar, fixed({{"go/s", S, 0777, "", "x"}, {"go/evil", H, 0644, "", "go/s"}}),
         "go/evil"},
        {"character device", k_tar, fixed({{"go/evil", EntryType::chardev, 0644, "", ""}}), "go/evil"},
        {"FIFO", k_tar, fixed({{"go/evil", EntryType::fifo, 0644, "", ""}}), "go/evil"},
        // Names a file system would refuse with ENAMETOOLONG are unsafe, not a file-system error.
        // The message quotes the name cut to 200 bytes.
        {"component over NAME_MAX", k_pax_zip, fixed({{"go/evil" + std::string(300, 'a'), F, 0644, "x", ""}}),
         "go/evil" + std::string(193, 'a') + "..."},
        {"path over the length limit", k_pax_zip,
         fixed({{"go/evil/" + std::string(1100, 'd')
                                  .replace(100, 1, "/")
                                  .replace(300, 1, "/")
                                  .replace(500, 1, "/")
                                  .replace(700, 1, "/")
                                  .replace(900, 1, "/"),
                 F, 0644, "x", ""}}),
         "go/evil/" + std::string(100, 'd') + "/" + std::string(91, 'd') + "..."},
        {"symlink target over the length limit", k_pax_zip,
         fixed({{"go/evil", S, 0777, "", std::string(1100, 'x').replace(100, 1, "/")}}), "go/evil"},
        {"hard links beyond the limit", k_tar,
         fixed({{"go/t", F, 0644, "x", ""},
                {"go/l1", H, 0644, "", "go/t"},
                {"go/l2", H, 0644, "", "go/t"},
                {"go/evil", H, 0644, "", "go/t"}}),
         "go/evil", links(2)},
        {"file through a file", k_all, fixed({{"go/f", F, 0644, "x", ""}, {"go/f/evil", F, 0644, "x", ""}}),
         "go/f/evil"},
        {"file over a directory",
         k_all,
         fixed({{"go/dup/", D, 0755, "", ""}, {"go/dup/inner", F, 0644, "in", ""}, {"go/dup", F, 0644, "x", ""}}),
         "go/dup",
         {},
         [](const TempTree& t) {
             CHECK(fs::is_directory(t.dest() / "go/dup"));
             CHECK(read_file(t.dest() / "go/dup/inner") == "in");
         }},
        {"directory over a file",
         k_all,
         fixed({{"go/dup", F, 0644, "first", ""}, {"go/dup/", D, 0755, "", ""}}),
         "go/dup/",
         {},
         [](const TempTree& t) { CHECK(read_file(t.dest() / "go/dup") == "first"); }},
        {"duplicate file",
         k_all,
         fixed({{"go/dup", F, 0644, "first", ""}, {"go/dup", F, 0644, "second", ""}}),
         "go/dup",
         {},
         [](const TempTree& t) { CHECK(read_file(t.dest() / "go/dup") == "first"); }},
        {"symlink over a file",
         k_all,
         fixed({{"go/dup", F, 0644, "first", ""}, {"go/dup", S, 0777, "", "x"}}),
         "go/dup",
         {},
         [](const TempTree& t) { CHECK(read_file(t.dest() / "go/dup") == "first"); }},
        // libarchive's zip reader turns every '\\' into '/' before we see the name, so the ".." rule
        // is what rejects it and the message shows the converted name.
        {"zip name with backslashes", k_zip, fixed({{"go\\..\\evil", F, 0644, "x", ""}}), "go/../evil"},
        {"zip name with a drive letter", k_zip, fixed({{"C:/evil", F, 0644, "x", ""}}), "C:/evil"},
        {"file over the per-file limit", k_all,
         fixed({{"go/ok", F, 0644, std::string(100, 'o'), ""}, {"go/evil", F, 0644, std::string(101, 'x'), ""}}),
         "go/evil", limits(1000, 100, 100)},
        {"total over the limit", k_all,
         fixed({{"go/a", F, 0644, std::string(40, 'a'), ""},
                {"go/b", F, 0644, std::string(40, 'b'), ""},
                {"go/evil", F, 0644, std::string(40, 'c'), ""}}),
         "go/evil", limits(100, 100, 100)},
        {"too many entries", k_all,
         fixed({{"go/", D, 0755, "", ""},
                {"go/a", F, 0644, "a", ""},
                {"go/b", F, 0644, "b", ""},
                {"go/evil", F, 0644, "c", ""}}),
         "go/evil", limits(1000, 3, 1000)},
    };
    return cases;
}

struct Run {
    const Hostile* hostile;
    ArchiveKind kind;
};

std::vector<Run> all_runs() {
    std::vector<Run> runs;
    for (const Hostile& h : hostile_cases()) {
        for (ArchiveKind kind : h.kinds) {
            runs.push_back({&h, kind});
        }
    }
    return runs;
}

bool exists_nofollow(const fs::path& p) { return fs::exists(fs::symlink_status(p)); }

} // namespace

TEST_CASE("extract_archive rejects hostile archives and writes nothing outside dest", "[archive]") {
    const Run run = GENERATE(from_range(all_runs()));
    const Hostile& h = *run.hostile;
    INFO(h.name << " in " << to_string(run.kind));
    const bool tmp_evil_existed = exists_nofollow("/tmp/evil");

    TempTree t;
    write_archive(t.archive(run.kind), run.kind, h.entries(t));
    ExtractOptions options;
    options.limits = h.limits;
    auto r = extract_archive(t.archive(run.kind), t.dest(), options);

    REQUIRE_FALSE(r.has_value());
    INFO("message: " << r.error().message());
    CHECK(r.error().code() == ErrorCode::bad_archive);
    CHECK_THAT(r.error().message(), Catch::Contains("\"" + h.entry_in_message + "\""));

    CHECK(list_dir(t.stage()) == std::vector<std::string>{"dest"});
    CHECK(fs::is_empty(t.outside()));
    CHECK(find_named(t.root(), "evil").empty());
    CHECK_FALSE(exists_nofollow("/etc/evil"));
    if (!tmp_evil_existed) {
        CHECK_FALSE(exists_nofollow("/tmp/evil"));
    }
    if (h.extra_checks) {
        h.extra_checks(t);
    }
}

TEST_CASE("extract_archive checks declared sizes before creating the file", "[archive]") {
    TempTree t;
    write_archive(t.archive(ArchiveKind::tar_gz_pax), ArchiveKind::tar_gz_pax,
                  {{"go/big", F, 0644, std::string(5000, 'x'), ""}});
    ExtractOptions options;
    options.limits.max_file_bytes = 4096;
    auto r = extract_archive(t.archive(ArchiveKind::tar_gz_pax), t.dest(), options);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::bad_archive);
    CHECK_FALSE(exists_nofollow(t.dest() / "go/big"));
}

TEST_CASE("extract_archive refuses a FIFO in a zip as it does in a tar", "[archive]") {
    // libarchive's zip writer cannot store a FIFO and its reader reports one as a regular file:
    // write a regular file, then make its central directory entry say FIFO (mode 010644, made on
    // Unix; APPNOTE.TXT 4.3.12: "version made by" at +4, external attributes at +38).
    TempTree t;
    const auto zip = t.archive(ArchiveKind::zip);
    write_archive(zip, ArchiveKind::zip, {{"go/ok", F, 0644, "x", ""}, {"go/evil", F, 0644, "", ""}});
    std::string bytes = read_file(zip);
    const auto at = bytes.rfind("PK\x01\x02");
    REQUIRE(at != std::string::npos);
    const std::uint32_t attr = 0010644U << 16;
    bytes[at + 5] = 3;
    for (int i = 0; i < 4; ++i) bytes[at + 38 + i] = static_cast<char>((attr >> (8 * i)) & 0xFF);
    std::ofstream(zip, std::ios::binary | std::ios::trunc) << bytes;
    auto r = extract_archive(zip, t.dest(), {});
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::bad_archive);
    CHECK_THAT(r.error().message(), Catch::Contains("\"go/evil\"") && Catch::Contains("FIFOs are not allowed"));
    CHECK(find_named(t.root(), "evil").empty());
}
