#pragma once
// The mirror catalogue: built-in entries (data/mirrors.json, compiled in) plus a user file that adds,
// overrides or disables entries, and the pure function that turns --mirror choices into an order.

#include <string>
#include <string_view>
#include <vector>

#include "goinstall/base/error.hpp"
#include "goinstall/download/downloader.hpp"

namespace goinstall {

enum class MirrorStatus {
    ok,         // known to serve archives
    unverified, // seen in the wild, not checked
    stale,      // serves archives, but may lag behind
    missing,    // does not serve Go archives (tuna)
    retired,    // gone or redirecting elsewhere (ustc)
    disabled,   // turned off by the user
};
const char* to_string(MirrorStatus s);

struct CatalogEntry {
    std::string name;
    std::string url;       // archive base URL
    std::string index_url; // empty unless it serves the release index
    std::string region;
    std::vector<std::string> serves;
    MirrorStatus status = MirrorStatus::unverified;
    std::string checked; // "2026-11"
    std::string note;
    bool builtin = true;

    // Worth trying as a fallback: ok, unverified or stale.
    bool healthy() const;
};

struct Catalog {
    std::vector<CatalogEntry> entries;
    const CatalogEntry* find(std::string_view name) const;
};

// The compiled-in catalogue.
Catalog builtin_catalog();

// Applies a user file's JSON text to `base`: {"builtin": bool, "mirrors": [{name, url, index, region,
// status, note, enabled}]}. Entries with a known name override its fields; new names are appended
// (status "ok" unless given); "builtin": false drops every built-in entry not named in the file.
// Unknown keys and bad values are usage errors naming `source` and the key.
Result<Catalog> apply_user_catalog(Catalog base, std::string_view json, std::string_view source);

struct MirrorPlan {
    std::vector<Mirror> mirrors;    // in the order to try
    std::vector<std::string> notes; // e.g. "tuna: does not host Go binaries (checked 2026-11)"
    bool auto_rank = false;         // "auto" was asked for: probe and reorder before downloading
};

// Turns the user's preferences (names or URLs, in order) into the mirrors to try: the preferred ones
// first, then — unless `no_fallback` — every healthy catalogue entry not already listed. With no
// preference, the healthy entries in catalogue order. Unknown names are usage errors listing the
// known ones; a preferred entry with a bad status is kept (the user asked for it) with a note.
// "auto" names no mirror: it sets auto_rank, and the healthy entries follow as usual.
Result<MirrorPlan> plan_mirrors(const Catalog& catalog, const std::vector<std::string>& preferred, bool no_fallback);

// Index URLs to try in order (entries that serve the index, healthy first).
std::vector<std::string> index_sources(const Catalog& catalog);

} // namespace goinstall
