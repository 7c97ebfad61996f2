#pragma once
// Filesystem operations with explicit durability and atomicity contracts. No function throws.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "goinstall/base/error.hpp"

namespace goinstall {

namespace fs = std::filesystem;

// Creates the directory and its parents. Errors name the path.
Status ensure_dir(const fs::path& dir);

// The size and modification time of a regular file (following symlinks); nullopt when `path`
// is missing or not a regular file.
struct FileStat {
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0; // st_mtim
};
std::optional<FileStat> regular_file_stat(const fs::path& path);

// Reads a whole file, failing (filesystem) when it is larger than max_bytes.
Result<std::string> read_file(const fs::path& path, std::uint64_t max_bytes);

// Atomically replaces `path` with `content`: writes a temporary file in the same directory,
// fsyncs it, renames it over `path`, and fsyncs the directory. Readers see the old or the new
// content, never a mix; after a crash, one of the two.
Status write_file_atomic(const fs::path& path, std::string_view content);

// fsync of a directory, making renames and creations in it durable.
Status fsync_dir(const fs::path& dir);

// Creates a fresh, uniquely named directory "<parent>/<prefix>XXXXXX" (mode 0755).
Result<fs::path> make_unique_dir(const fs::path& parent, const std::string& prefix);

// Removes a file (or symlink); a missing one is not an error. Errors name the path.
Status remove_file(const fs::path& path);

// rename(2): moves `from` to `to` on one filesystem, replacing a file at `to`. Errors read
// "<action> <what>: <reason>" (what defaults to `to`).
Status rename_path(const fs::path& from, const fs::path& to, const std::string& action = "cannot move into place",
                   const std::string& what = "");

// Removes a tree if present. Never follows symlinks out of it. Errors name the path.
Status remove_tree(const fs::path& path);

// Moves directory `from` to `to` atomically. If `to` exists, the two are exchanged atomically
// (renameat2 RENAME_EXCHANGE) and the old tree ends up at `from`; returns true in that case so the
// caller can remove it. Both must be on one filesystem. Either way, `to` is never missing or
// partial at any instant when the exchange is supported; where it is not (EINVAL/ENOSYS), falls
// back to rename-aside + rename, restoring the old tree on failure.
Result<bool> replace_dir(const fs::path& from, const fs::path& to);

// Points the symlink `link` at `target` atomically (symlink to a temporary name + rename), then
// fsyncs the directory.
Status replace_symlink(const fs::path& target, const fs::path& link);

// Removes, best effort, the temporaries of write_file_atomic and replace_symlink in `dir`
// (".<name>.tmp-<pid>-<random>") whose writer process no longer exists, i.e. was killed
// mid-write; a live writer's temporary is left alone. A temporary without a pid (older format)
// counts as orphaned once its mtime is older than `unknown_writer_age`.
void remove_orphaned_temps(const fs::path& dir, std::chrono::seconds unknown_writer_age = std::chrono::hours(1));

// Free bytes available to this user on the filesystem holding `path`; nullopt-like 0 on failure.
std::uint64_t free_bytes(const fs::path& path);

} // namespace goinstall
