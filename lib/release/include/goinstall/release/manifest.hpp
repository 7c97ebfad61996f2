#pragma once
// The manifest `goinstall download` writes beside an archive (<filename>.manifest.json): the
// index's entry for the file plus where and when it came from, so the archive can be verified and
// installed later on a machine without network access.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "goinstall/base/error.hpp"
#include "goinstall/release/index.hpp"

namespace goinstall {

inline constexpr int k_manifest_format = 1;
// A manifest is a few hundred bytes; anything much larger is not one.
inline constexpr std::uint64_t k_max_manifest_bytes = 64 * 1024;

struct ArchiveManifest {
    std::string version;          // the release ("go1.21.3")
    ReleaseFile file;             // the index's entry, as given (filename, os, arch, sha256, size, kind)
    std::string index_source;     // redacted URL or path of the release index the checksum came from
    std::string index_fetched_at; // RFC 3339 UTC: when that copy of the index was fetched
    std::string mirror;           // name of the mirror that served the bytes
    std::string mirror_url;       // its base URL, redacted
    std::string downloaded_at;    // RFC 3339 UTC
    bool operator==(const ArchiveManifest&) const = default;
};

// One JSON object, 2-space indent, trailing newline: {"goinstall_manifest": 1, "version", "os",
// "arch", "filename", "sha256", "size", "kind", "index_source", "index_fetched_at", "mirror",
// "mirror_url", "downloaded_at"}.
std::string serialize_manifest(const ArchiveManifest& manifest);

// Parses a manifest. Unknown keys are ignored (later formats may add some). Fails with
// ErrorCode::no_checksum — a manifest that cannot be read vouches for nothing — naming `source`
// and the problem, when the text is not a JSON object, "goinstall_manifest" is not 1, "version"
// is not a Go version, "filename" is not one plain path component, "sha256" is not 64 hex digits,
// "size" is not a non-negative integer, or a known field has the wrong type.
Result<ArchiveManifest> parse_manifest(std::string_view json, std::string_view source);

// A manifest's timestamps: "2026-11-03T10:04:05Z".
std::string rfc3339_utc(std::chrono::system_clock::time_point t);

// "<archive>.manifest.json", beside the archive.
std::filesystem::path manifest_path_for(const std::filesystem::path& archive);

// Reads (at most k_max_manifest_bytes) and parses the manifest at `path`: the read's error, or
// parse_manifest's naming the path.
Result<ArchiveManifest> read_manifest(const std::filesystem::path& path);

} // namespace goinstall
