#pragma once
// The module proxy route (issue #13): the toolchain module golang.org/toolchain@v0.0.1-<go>.<os>-<arch>
// from a Go module proxy (GOPROXY), its h1: hash authenticated by the Go checksum database
// (GOSUMDB), as the go command switches toolchains (src/cmd/go/internal/toolchain/select.go).
// The pipeline extracts the zip as a go/ tree (Artifact::module_prefix) after checking its h1:.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "goinstall/base/clock.hpp"
#include "goinstall/base/events.hpp"
#include "goinstall/core/route.hpp"
#include "goinstall/net/transport.hpp"
#include "goinstall/release/version.hpp"
#include "goinstall/sumdb/client.hpp"
#include "goinstall/sumdb/go_env.hpp"
#include "goinstall/sumdb/goproxy.hpp"

namespace goinstall {

struct GoproxyRouteOptions {
    std::string spec;                       // "latest", "1.21", "1.21.3", "go1.22rc1"
    Platform platform;                      // Go's names; "armv6l", "x86_64" are normalised
    std::vector<sumdb::ProxyEntry> goproxy; // sumdb::parse_goproxy(GOPROXY / --goproxy); empty → the default
    sumdb::SumdbSetting gosumdb; // sumdb::parse_gosumdb(GOSUMDB / --gosumdb); default-constructed → sum.golang.org
    std::filesystem::path sumdb_cache_dir; // required unless gosumdb.off: the database's verified
                                           // notes, lookups and tiles live in <dir>/<database name>
    std::chrono::milliseconds sumdb_lock_timeout{std::chrono::minutes(2)}; // <dir>/<name>.lock around lookups
    sumdb::GoproxyOptions proxy; // limits for lists/.info/sumdb files; what "direct" reads
    DownloadOptions download;    // the zip's limits, attempts, deadline (mirrors are the proxies)
    std::string sha256_override; // --sha256: "h1:..." or 64 hex (module_zip_digest)
};

// The Go version that names a toolchain module: "go1.20" (not go1.20.0) before 1.21, "go1.21.0" from 1.21.
std::string toolchain_go_name(const Version& v);

class GoproxyRoute final : public Route {
public:
    GoproxyRoute(Transport& transport, Clock& clock, EventSink& events, GoproxyRouteOptions options);

    // Resolves the spec (an exact version as is, without listing, as cmd/go does; latest and lines
    // from the proxies' @v/list for the platform, in Go's version order), then looks the module
    // version up in the checksum database — through the first proxy that supports it, else directly
    // — and applies module_zip_digest. Errors: usage (spec, --sha256), not_found (no such version for
    // the platform: listing or database), no_checksum (GOSUMDB=off without --sha256), checksum and
    // security from the database client, network errors with the attempt log (Error::tried).
    Result<Artifact> resolve(const CancelToken* cancel) override;
    // Fetches <proxy>/golang.org/toolchain/@v/<v>.zip trying the proxies with GOPROXY's
    // semantics (resumable .part in `dir` for http(s); a file:// proxy's zip is used in place),
    // then computes its h1: (Fetched::h1; a resumed download whose h1 is wrong is fetched again
    // from zero once). Never streams.
    Result<Fetched> fetch(const Artifact& artifact, const std::filesystem::path& dir, PartObserver* observer,
                          const CancelToken* cancel) override;

    // After resolve(): "v0.0.1-go1.21.3.linux-amd64", and what the database proved (nullopt with GOSUMDB=off).
    const std::string& module_version() const { return m_module_version; }
    const std::optional<sumdb::SumdbLookup>& lookup() const { return m_lookup; }
    // After resolve(): where the database was reached ("" with GOSUMDB=off).
    const std::string& sumdb_url() const { return m_sumdb_url; }

private:
    Result<std::string> resolve_version(const CancelToken* cancel);
    Result<sumdb::SumdbLookup> look_up(const CancelToken* cancel);
    Result<Fetched> fetch_from(const sumdb::ProxyEntry& proxy, const std::filesystem::path& dir,
                               const CancelToken* cancel);

    Transport& m_transport;
    Clock& m_clock;
    EventSink& m_events;
    GoproxyRouteOptions m_options;
    std::string m_module_version;
    std::string m_sumdb_url;
    std::optional<sumdb::SumdbLookup> m_lookup;
    std::vector<TriedSource> m_tried; // resolve's attempt log (listing, sumdb probes)
};

} // namespace goinstall
