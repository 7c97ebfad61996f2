#pragma once
// `goinstall mirror sync DIR --modules`: DIR also becomes a Go module proxy tree for the toolchain
// modules (layout in mirror_sync.hpp), so that one directory serves goinstall's index route, its
// module proxy route and the go command (GOPROXY=file://DIR or https://host/).

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/clock.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/base/events.hpp"
#include "goinstall/core/goproxy_route.hpp"
#include "goinstall/net/transport.hpp"
#include "goinstall/platform/host.hpp"

namespace goinstall {

inline constexpr const char* k_module_state_name = ".goinstall-module-state";

// One toolchain module to mirror: a Go version ("go1.21.3") for a platform.
struct ModuleMirrorItem {
    std::string go_version;
    Platform platform;
};

struct SyncedModule {
    std::string module_version; // "v0.0.1-go1.21.3.linux-amd64"
    std::string h1;             // what the checksum database recorded (and the zip matches)
    bool downloaded = false;    // false: already there and matching
    std::uint64_t bytes = 0;    // transferred
};

struct ModuleSyncOutcome {
    std::vector<SyncedModule> modules;
    std::size_t listed = 0;      // versions in DIR/golang.org/toolchain/@v/list
    std::string sumdb_name;      // the database mirrored under DIR/sumdb/<name>
    std::size_t sumdb_files = 0; // lookups and tiles copied (or already there)
};

// The module state: "<h1> <size> <mtime_ns> <module version>" per line (after a comment line), so a
// sync need not hash every zip again. Unparsable lines are dropped.
struct ModuleZipState {
    std::string h1;
    std::uint64_t size = 0;
    std::int64_t mtime_ns = 0;
    bool operator==(const ModuleZipState&) const = default;
};
using ModuleState = std::map<std::string, ModuleZipState>;
ModuleState parse_module_state(std::string_view text);
std::string format_module_state(const ModuleState& state);

// For each item: GoproxyRoute(route with spec = the exact version) resolves it (checksum database
// lookup, which must not be off: usage error), and unless DIR's zip is there with the database's
// h1, fetches the zip (h1 checked by the route, again here) into DIR/.goinstall-modules-tmp and
// renames it into DIR/golang.org/toolchain/@v/<v>.zip; writes <v>.mod and <v>.info (the upstream
// .info's Time when the proxy serves one, else a fixed time), then @v/list (every version whose
// .zip, .mod and .info are present). Afterwards DIR/sumdb/<name>/{supported,latest} and the
// synced versions' lookups and every verified tile are copied from the route's sumdb cache. All
// writes are atomic. The caller holds DIR's sync lock.
Result<ModuleSyncOutcome> sync_module_mirror(Transport& transport, Clock& clock, EventSink& events,
                                             const std::filesystem::path& dir,
                                             const std::vector<ModuleMirrorItem>& items,
                                             const GoproxyRouteOptions& options, const CancelToken* cancel);

} // namespace goinstall
