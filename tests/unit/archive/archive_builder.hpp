#pragma once
// Test support: builds .tar.gz and .zip archives (including hostile ones) with libarchive's
// writer, and private temporary directory trees laid out as <root>/stage/dest.

#include <filesystem>
#include <string>
#include <vector>

namespace goinstall::test {

enum class EntryType { file, dir, symlink, hardlink, chardev, fifo };

struct TestEntry {
    std::string path; // written verbatim, however hostile
    EntryType type = EntryType::file;
    unsigned mode = 0644; // permission bits, including setuid etc.
    std::string data;     // contents of a file
    std::string link;     // symlink contents or hard-link target
};

enum class ArchiveKind { tar_gz_pax, tar_gz_ustar, zip };
const char* to_string(ArchiveKind kind);
const char* extension(ArchiveKind kind);

// Writes the entries in order; throws std::runtime_error if libarchive refuses one.
// `writer_options` goes to archive_write_set_options (e.g. "zip:compression=store").
void write_archive(const std::filesystem::path& path, ArchiveKind kind, const std::vector<TestEntry>& entries,
                   const std::string& writer_options = "");

// <temp>/goinstall-archive-test-<pid>-<n>/ containing stage/dest (the extraction target) and
// outside/ (an absolute target for hostile symlinks). Removed on destruction.
class TempTree {
public:
    TempTree();
    ~TempTree();
    TempTree(const TempTree&) = delete;
    TempTree& operator=(const TempTree&) = delete;

    const std::filesystem::path& root() const { return m_root; }
    std::filesystem::path stage() const { return m_root / "stage"; }
    std::filesystem::path dest() const { return m_root / "stage" / "dest"; }
    std::filesystem::path outside() const { return m_root / "outside"; }
    std::filesystem::path archive(ArchiveKind kind) const { return m_root / (std::string("input") + extension(kind)); }

private:
    std::filesystem::path m_root;
};

// Every path under `root` (not following symlinks) whose file name is `name`.
std::vector<std::filesystem::path> find_named(const std::filesystem::path& root, const std::string& name);

// Names directly inside `dir`, sorted.
std::vector<std::string> list_dir(const std::filesystem::path& dir);

std::string read_file(const std::filesystem::path& path);

} // namespace goinstall::test
