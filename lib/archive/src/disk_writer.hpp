#pragma once
// Creates the extracted tree under one directory file descriptor, remembering what it created so
// that no entry is written through a symlink, over a directory, or twice.

#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>

#include <sys/types.h>

#include "goinstall/archive/extract.hpp"
#include "goinstall/base/error.hpp"
#include "unique_fd.hpp"

namespace goinstall::archive_detail {

// What the writer created at a path. Hard links are files.
enum class NodeKind { directory, file, symlink };
const char* to_string(NodeKind kind);

// A regular file being written. Not durable: nothing is fsync'ed.
class OutputFile {
public:
    OutputFile(UniqueFd fd, std::string display_path) : m_fd(std::move(fd)), m_display(std::move(display_path)) {}
    // Appends all of `data`; errno_error on failure (ENOSPC → disk_full).
    Status write(std::span<const unsigned char> data);
    // Closes the file, reporting a deferred write error if the kernel has one.
    Status finish();

private:
    UniqueFd m_fd;
    std::string m_display;
};

// Every `rel` argument is a path already normalised by safe_entry_path; `shown` is the sanitised
// raw entry name used in bad_archive messages. Missing parent directories are created with mode
// 0755. Modes are the archive's capped at k_max_mode, set exactly whatever the umask. All failures that stem from the archive are bad_archive; system-call failures come
// from errno_error.
class DiskWriter {
public:
    // Opens `dest_dir` (which must exist) as the root of all later calls.
    static Result<DiskWriter> open(const std::filesystem::path& dest_dir);

    // No group or other write, no set-id or sticky bit, whatever the archive says: a tree installed
    // by root (/usr/local/go) must not be changeable by other users. Files end up at most 0755
    // (executables) or 0644, directories at most 0755.
    static constexpr mode_t k_max_mode = 0755;

    // Creates the directory, or updates the mode of one created earlier. Mode gets owner rwx.
    Status make_directory(const std::string& rel, mode_t mode, std::string_view shown);
    // Creates a new regular file with exactly `mode` & k_max_mode.
    Result<OutputFile> create_file(const std::string& rel, mode_t mode, std::string_view shown);
    // Creates a symlink; the caller has checked `target` with symlink_target_safe.
    Status make_symlink(const std::string& rel, const std::string& target, std::string_view shown);
    // Creates a hard link to `target_rel`, which must be a regular file extracted earlier.
    Status make_hardlink(const std::string& rel, const std::string& target_rel, std::string_view shown);

    const ExtractStats& stats() const { return m_stats; }
    ExtractStats& stats() { return m_stats; }

private:
    using Kind = NodeKind;
    struct Node {
        Kind kind;
        mode_t mode; // directories: the mode on disk
    };
    struct StringHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const noexcept { return std::hash<std::string_view>{}(s); }
    };
    using Tree = std::unordered_map<std::string, Node, StringHash, std::equal_to<>>;

    DiskWriter(UniqueFd root, std::filesystem::path root_path, std::optional<mode_t> umask_bits);

    // Ensures every proper ancestor of `rel` is a directory, creating missing ones.
    Status ensure_parents(const std::string& rel, std::string_view shown);
    // Creates the directory `rel` with exactly `mode` and records it. A directory that already
    // exists is recorded with its current mode (success); any other existing file is bad_archive.
    Status create_directory(std::string_view rel, mode_t mode, std::string_view shown);
    // bad_archive unless nothing was recorded at `rel` yet.
    Status check_new(const std::string& rel, std::string_view shown, std::string_view what) const;
    // bad_archive for EEXIST (a name collision in the destination), errno_error otherwise.
    Error creation_error(int err, std::string_view rel, std::string_view shown, const char* what) const;
    // True when creating with `mode` under the umask would not yield exactly `mode`.
    bool umask_strips(mode_t mode) const { return !m_umask || (mode & *m_umask) != 0; }
    std::string display(std::string_view rel) const;

    UniqueFd m_root;
    std::filesystem::path m_root_path;
    std::optional<mode_t> m_umask; // nullopt when it cannot be read without changing it
    Tree m_tree;
    std::string m_last_parent; // parent of the previous entry, known to be a directory chain
    ExtractStats m_stats;
};

} // namespace goinstall::archive_detail
