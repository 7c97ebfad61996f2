#pragma once
// The go.dev release index (https://go.dev/dl/?mode=json[&include=all]) as plain data.
// This module is the only user of nlohmann/json; it never appears in these headers.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "goinstall/base/error.hpp"
#include "goinstall/release/version.hpp"

namespace goinstall {

// One downloadable file, exactly as the index lists it. Callers download `filename` as given and
// never rebuild names from (os, arch) (docs/field-notes.md#release-index). An empty sha256 or a
// size of 0 means "unknown": such a file cannot be verified by the index alone.
struct ReleaseFile {
    std::string filename, os, arch, version, sha256, kind; // kind: "archive", "installer", "source"
    std::uint64_t size = 0;
    bool operator==(const ReleaseFile&) const = default;
};

struct Release {
    Version version;
    bool stable = false; // the index's own "stable" flag (missing → version.is_stable())
    std::vector<ReleaseFile> files;
    bool operator==(const Release&) const = default; // Version equality ignores its text
};

struct ReleaseIndex {
    std::vector<Release> releases; // newest first, no two with equal versions
    bool operator==(const ReleaseIndex&) const = default;
};

// Callers save downloads under a file's name (docs/field-notes.md#release-index: use the index's
// name as given), so it must be one plain path component: no separators, no drive colon, no
// leading dot, no control bytes.
bool is_plain_file_name(std::string_view name);

// Parses the index JSON. Unknown fields are ignored. Entries whose "version" string does not parse
// as a Go version, and later duplicates of a version already seen, are dropped; their number is
// stored in *skipped when given. Releases are sorted newest first (the raw order is not sorted,
// docs/field-notes.md#release-index). Never throws.
// Fails with ErrorCode::index_invalid, naming the redacted source_url and what was wrong, when the
// text is not JSON, the top level is not an array, an entry is not an object, "version" is not a
// string, "files" is not an array, a file is not an object or has no "filename" string, a filename
// is not one plain path component (contains '/', '\\', ':', control bytes, or starts with '.'), a known
// field has the wrong type ("stable" not a bool, "size" not a non-negative integer, "os"/"arch"/
// "version"/"sha256"/"kind" not strings, "sha256" neither empty nor 64 hex digits).
Result<ReleaseIndex> parse_index(std::string_view json, std::string_view source_url, std::size_t* skipped = nullptr);

// Serialises back to go.dev's schema, in go.dev's layout (1-space indent, key order version,
// stable, files / filename, os, arch, version, sha256, size, kind; trailing newline), so a mirror
// directory can serve it. parse_index(serialize_index(i)) yields data equal to i.
std::string serialize_index(const ReleaseIndex& index);

} // namespace goinstall
