#pragma once
// Shared helpers for the release tests: fixture loading (tests/fixtures, see SOURCES.md there), a
// sample manifest.

#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "goinstall/release/index.hpp"
#include "goinstall/release/manifest.hpp"

namespace goinstall::test {

inline std::string read_fixture(const std::string& name) {
    std::ifstream in(std::string(GOINSTALL_FIXTURES_DIR) + "/" + name, std::ios::binary);
    if (!in) throw std::runtime_error("missing fixture " + name);
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
}

// The parsed full index (go-dl-index-all.json), parsed once per test run.
inline const ReleaseIndex& all_index() {
    static const ReleaseIndex index = [] {
        auto parsed = parse_index(read_fixture("go-dl-index-all.json"), "https://go.dev/dl/?mode=json&include=all");
        if (!parsed) throw std::runtime_error(parsed.error().describe());
        return std::move(*parsed);
    }();
    return index;
}

inline const Release* find_release(const ReleaseIndex& index, std::string_view version) {
    for (const auto& r : index.releases)
        if (r.version.text == version) return &r;
    return nullptr;
}

// A manifest of go1.21.3 linux/amd64 with every field set (sha256 "aa...a").
inline ArchiveManifest sample_manifest() {
    ArchiveManifest m;
    m.version = "go1.21.3";
    m.file = ReleaseFile{"go1.21.3.linux-amd64.tar.gz", "linux",   "amd64", "go1.21.3",
                         std::string(64, 'a'),          "archive", 12345};
    m.index_source = "https://go.dev/dl/?mode=json&include=all";
    m.index_fetched_at = "2026-11-03T10:04:05Z";
    m.mirror = "official";
    m.mirror_url = "https://dl.google.com/go/";
    m.downloaded_at = "2026-11-03T10:05:00Z";
    return m;
}

} // namespace goinstall::test
