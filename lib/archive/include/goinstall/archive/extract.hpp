#pragma once
// Safe extraction of a Go release archive (.tar.gz or .zip) into a staging directory.

#include <cstdint>
#include <filesystem>
#include <string>

#include "goinstall/archive/entry_path.hpp"
#include "goinstall/archive/zip_entries.hpp"
#include "goinstall/base/cancel.hpp"
#include "goinstall/base/error.hpp"

namespace goinstall {

// Guards against archive bombs. An official Go archive is about 12,000 entries and 250 MB
// unpacked, so the defaults leave an order of magnitude of headroom.
struct ExtractLimits {
    std::uint64_t max_total_bytes = 4ULL << 30; // regular-file bytes, declared and actual
    std::uint64_t max_entries = 200000;
    std::uint64_t max_file_bytes = 1ULL << 30;
    // Hard links to one file. Go archives have none; ext4 allows 65,000 (EXT4_LINK_MAX), so an
    // archive within this limit never meets a file system's own (whose EMLINK is bad_archive too).
    std::uint64_t max_links_per_file = 1000;
};

struct ExtractOptions {
    std::string top_dir = "go"; // every entry must be this directory or below it; "" = no restriction
    // A Go toolchain module zip ("golang.org/toolchain@v0.0.1-go1.21.3.linux-amd64/..."): entries are
    // written under "go/" instead of top_dir; regular files only (links are bad_archive); modes by
    // distpack's rule (module_mode) whatever the zip says; "_go.mod" is written as "go.mod" (Go
    // renames nested go.mod files so that a module zip may carry them: x/mod zip.CheckZip).
    // A module zip is read only as a zip (offset 0 must hold a local file header; no gzip or tar
    // sniffing), from its central directory, as read_zip_entries reads it; an entry holding more
    // bytes than it declares is bad_archive at once.
    bool module_zip = false;
    // module_zip only: sees every entry's stored name and the bytes written for it, so that the
    // caller can hash exactly what was extracted (the h1: check before commit).
    ZipEntryVisitor* module_visitor = nullptr;
    ExtractLimits limits;
    const CancelToken* cancel = nullptr;
};

struct ExtractStats {
    std::uint64_t files = 0; // regular files written
    std::uint64_t dirs = 0;  // directories created, listed in the archive or implied by a path
    std::uint64_t symlinks = 0;
    std::uint64_t hardlinks = 0;
    std::uint64_t bytes = 0; // regular-file bytes written
};

// Extracts the .tar.gz (or plain .tar) or .zip at `archive` into `dest_dir`, which must already
// exist; nothing is created above it and nothing is written outside it.
//
// Every entry is checked before anything is written for it. ErrorCode::bad_archive, with a
// message quoting the sanitised entry name, for:
//  - names rejected by safe_entry_path (absolute, "..", outside top_dir, zip backslashes or
//    drive letters);
//  - device nodes, FIFOs, sockets and sparse files;
//  - symlinks rejected by symlink_target_safe;
//  - hard links whose target is not an already-extracted regular file inside top_dir, or that
//    would give one file more than limits.max_links_per_file links (or the file system's EMLINK);
//  - any entry whose path passes through an extracted symlink or regular file;
//  - duplicates: a repeated directory is accepted (its mode is updated); any other repeated name
//    is rejected — in particular a file never replaces a directory, a directory never replaces a
//    file, and a file is never overwritten (a genuine Go archive has no duplicates, so there is
//    no "last one wins" ambiguity to resolve);
//  - a name that already exists in dest_dir as a non-directory (for example two names that
//    collide on a case-insensitive file system);
//  - more than limits.max_entries entries, a file over limits.max_file_bytes, or regular-file
//    bytes over limits.max_total_bytes (checked against declared sizes before writing and
//    against actual bytes while writing);
//  - an archive with no entries.
// An unreadable, corrupt or truncated archive (including a zip CRC mismatch) is bad_archive with
// "archive is corrupt or truncated: <libarchive message>". Failing to open `archive` or
// `dest_dir`, or to write (ENOSPC → disk_full, EACCES → permission, ...), comes from errno_error.
// Cancellation via options.cancel, polled between entries and between 1 MiB data blocks, is
// ErrorCode::cancelled. A top_dir that is not a normalised relative path is ErrorCode::usage.
//
// Modes: the archive's permission bits capped at 0755 (mode & 0755, regardless of the umask):
// group/other write, setuid, setgid and sticky bits are dropped, so nothing installed (by root in
// /usr/local/go, say) is writable by other users. Directories additionally always get owner rwx so the tree stays
// writable and removable; directories implied by a path but not listed get 0755. The umask is not
// applied. Existing directories in dest_dir are merged into; existing non-directories are not
// touched (an entry that would need one to be a directory, or would replace one, is bad_archive).
// Ownership, timestamps, ACLs, xattrs and file flags are not restored. Files are not fsync'ed.
//
// Not atomic: on failure the partially extracted tree is left in dest_dir and the caller must
// remove it (extract into a fresh staging directory and delete it on error).
// distpack's mode for a file at `rel` (relative to the toolchain root): 0755 for bin/**, pkg/tool/**,
// *.bash, *.sh, *.pl, *.rc and **/go_*_*_exec; 0644 otherwise (golang/go src/cmd/distpack/pack.go).
unsigned module_mode(std::string_view rel);

Result<ExtractStats> extract_archive(const std::filesystem::path& archive, const std::filesystem::path& dest_dir,
                                     const ExtractOptions& options);

// The uncompressed size a gzip file records in its trailer (ISIZE, RFC 1952 §2.3.1: the size
// modulo 2^32), or 0 when `path` is not a complete gzip file.
std::uint64_t gzip_isize(const std::filesystem::path& path);

} // namespace goinstall
