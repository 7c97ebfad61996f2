#pragma once
// `goinstall mirror sync DIR`: a static mirror directory that goinstall (and any HTTP server) can
// serve as both the release index and the archive mirror.
//
// Layout:
//   DIR/index.json                 go.dev's index format (?mode=json&include=all), listing only
//                                  the files present and verified in DIR
//   DIR/<filename>                 archives, named as in the official dl/ directory
//   DIR/<filename>.part[.meta]     an interrupted download, resumed by the next sync
//   DIR/.goinstall-mirror-state    SHA-256, size and mtime of each verified file, so a sync does
//                                  not hash hundreds of MB again (a file whose size or mtime
//                                  changed is hashed again)
//   DIR/.goinstall-mirror.lock     serialises syncs of one directory
// With --modules (mirror_modules.hpp) DIR is also a Go module proxy for the toolchain modules:
//   DIR/golang.org/toolchain/@v/<v>.zip|.mod|.info   v = v0.0.1-<go>.<os>-<arch>, zip h1-checked
//                                  against the checksum database
//   DIR/golang.org/toolchain/@v/list                 every version present
//   DIR/sumdb/<name>/supported|latest|lookup/...|tile/8/...   the database through the proxy:
//                                  the verified lookups and tiles of goinstall's sumdb cache
//   DIR/.goinstall-module-state    h1, size and mtime of each zip (no hashing again)
//   DIR/.goinstall-modules-tmp/    zips being downloaded (resumable)
// Use it with --index-url file://DIR/index.json --mirror file://DIR/, or serve DIR over HTTP(S)
// and use --index-url https://host/index.json --mirror https://host/; as GOPROXY=file://DIR or
// https://host/ for goinstall --via goproxy and the go command (GOSUMDB=<name or key> only).

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/clock.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/base/events.hpp"
#include "goinstall/release/index_source.hpp"
#include "goinstall/core/mirror_modules.hpp"
#include "goinstall/download/downloader.hpp"
#include "goinstall/net/transport.hpp"
#include "goinstall/platform/host.hpp"

namespace goinstall {

inline constexpr const char* k_mirror_index_name = "index.json";
inline constexpr const char* k_mirror_state_name = ".goinstall-mirror-state";

// What a sync knows about a file it verified.
struct VerifiedFile {
    std::string sha256; // lowercase hex
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0; // st_mtim when it was verified
    bool operator==(const VerifiedFile&) const = default;
};
using MirrorState = std::map<std::string, VerifiedFile>; // by file name

// The state file: a comment line, then "<sha256> <size> <mtime_ns> <filename>" per line. Lines
// that do not parse (or name something that is not a plain file name) are dropped: the worst
// outcome of a damaged state file is hashing again.
MirrorState parse_mirror_state(std::string_view text);
std::string format_mirror_state(const MirrorState& state);

struct MirrorSyncRequest {
    std::filesystem::path dir;
    std::vector<std::string> specs;  // version specs; empty = {"latest"}
    std::vector<Platform> platforms; // empty = {host}
    IndexOptions index;              // the upstream index: the only source of checksums
    DownloadOptions download;
    std::chrono::milliseconds lock_timeout{std::chrono::minutes(10)};
    std::optional<GoproxyRouteOptions> modules; // --modules: also the toolchain modules (spec/platform per file)
};

struct SyncedFile {
    std::string version, filename;
    Platform platform;
    std::uint64_t size = 0;
    bool downloaded = false; // false: already there and verified
};

struct MirrorSyncOutcome {
    std::vector<SyncedFile> files; // the ones this sync asked for
    std::uint64_t bytes_downloaded = 0;
    std::filesystem::path index_path;
    std::size_t index_files = 0;              // files listed in DIR/index.json (earlier syncs' included)
    std::optional<ModuleSyncOutcome> modules; // with request.modules
};

// Resolves every spec for every platform against the upstream index (all must resolve to an archive
// with a SHA-256, else not_found / no_checksum before anything is downloaded), downloads what is
// missing into DIR with the failover Downloader (resuming .part files), verifies each file, and
// rewrites DIR/index.json atomically: the releases of this sync merged with those of earlier syncs
// whose files are still present and verified. The state file is saved after each file, so an
// interrupted sync keeps what it finished. With request.modules, then sync_module_mirror for each
// synced version and platform.
Result<MirrorSyncOutcome> sync_mirror(Transport& transport, Clock& clock, EventSink& events,
                                      const MirrorSyncRequest& request, const CancelToken* cancel);

} // namespace goinstall
