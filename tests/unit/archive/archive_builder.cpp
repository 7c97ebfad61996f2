#include "archive_builder.hpp"

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>

#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

namespace goinstall::test {

namespace {

struct WriteDeleter {
    void operator()(struct archive* a) const { archive_write_free(a); }
};
struct EntryDeleter {
    void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

void check(struct archive* a, int r, const std::string& what) {
    if (r < ARCHIVE_WARN) {
        const char* msg = archive_error_string(a);
        throw std::runtime_error("libarchive writer: " + what + ": " + (msg != nullptr ? msg : "?"));
    }
}

unsigned file_type(EntryType type) {
    switch (type) {
    case EntryType::file: return AE_IFREG;
    case EntryType::dir: return AE_IFDIR;
    case EntryType::symlink: return AE_IFLNK;
    case EntryType::hardlink: return AE_IFREG;
    case EntryType::chardev: return AE_IFCHR;
    case EntryType::fifo: return AE_IFIFO;
    }
    return AE_IFREG;
}

} // namespace

const char* to_string(ArchiveKind kind) {
    switch (kind) {
    case ArchiveKind::tar_gz_pax: return "tar.gz (pax)";
    case ArchiveKind::tar_gz_ustar: return "tar.gz (ustar)";
    case ArchiveKind::zip: return "zip";
    }
    return "?";
}

const char* extension(ArchiveKind kind) { return kind == ArchiveKind::zip ? ".zip" : ".tar.gz"; }

void write_archive(const std::filesystem::path& path, ArchiveKind kind, const std::vector<TestEntry>& entries,
                   const std::string& writer_options) {
    std::unique_ptr<struct archive, WriteDeleter> owner(archive_write_new());
    struct archive* a = owner.get();
    switch (kind) {
    case ArchiveKind::tar_gz_pax:
        check(a, archive_write_set_format_pax_restricted(a), "pax");
        check(a, archive_write_add_filter_gzip(a), "gzip");
        break;
    case ArchiveKind::tar_gz_ustar:
        check(a, archive_write_set_format_ustar(a), "ustar");
        check(a, archive_write_add_filter_gzip(a), "gzip");
        break;
    case ArchiveKind::zip: check(a, archive_write_set_format_zip(a), "zip"); break;
    }
    if (!writer_options.empty()) {
        check(a, archive_write_set_options(a, writer_options.c_str()), "options " + writer_options);
    }
    check(a, archive_write_open_filename(a, path.c_str()), "open");
    for (const TestEntry& t : entries) {
        std::unique_ptr<struct archive_entry, EntryDeleter> e(archive_entry_new());
        archive_entry_set_pathname(e.get(), t.path.c_str());
        archive_entry_set_filetype(e.get(), file_type(t.type));
        archive_entry_set_perm(e.get(), t.mode);
        archive_entry_set_size(e.get(), t.type == EntryType::file ? static_cast<la_int64_t>(t.data.size()) : 0);
        if (t.type == EntryType::symlink) {
            archive_entry_set_symlink(e.get(), t.link.c_str());
        }
        if (t.type == EntryType::hardlink) {
            archive_entry_set_hardlink(e.get(), t.link.c_str());
        }
        if (t.type == EntryType::chardev) {
            archive_entry_set_rdevmajor(e.get(), 1);
            archive_entry_set_rdevminor(e.get(), 3);
        }
        check(a, archive_write_header(a, e.get()), "header for " + t.path);
        if (t.type == EntryType::file && !t.data.empty()) {
            la_ssize_t n = archive_write_data(a, t.data.data(), t.data.size());
            if (n < 0 || static_cast<std::size_t>(n) != t.data.size()) {
                check(a, ARCHIVE_FATAL, "data for " + t.path);
            }
        }
        check(a, archive_write_finish_entry(a), "finish " + t.path);
    }
    check(a, archive_write_close(a), "close");
}

TempTree::TempTree() {
    static std::atomic<int> counter{0};
    m_root = std::filesystem::temp_directory_path() /
             ("goinstall-archive-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    std::filesystem::remove_all(m_root);
    std::filesystem::create_directories(dest());
    std::filesystem::create_directories(outside());
}

TempTree::~TempTree() {
    std::error_code ec;
    std::filesystem::remove_all(m_root, ec);
}

std::vector<std::filesystem::path> find_named(const std::filesystem::path& root, const std::string& name) {
    std::vector<std::filesystem::path> found;
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
        if (entry.path().filename() == name) {
            found.push_back(entry.path());
        }
    }
    return found;
}

std::vector<std::string> list_dir(const std::filesystem::path& dir) {
    std::vector<std::string> names;
    for (const auto& entry : std::filesystem::directory_iterator(dir)) {
        names.push_back(entry.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

} // namespace goinstall::test
