#pragma once
// A route: where an install's bytes come from and who vouches for them. Routes produce artifacts;
// the one install pipeline (pipeline.hpp) consumes them. Adding a route means writing one class
// that implements Route, not touching the pipeline.

#include <cstdint>
#include <filesystem>
#include <string>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/download/downloader.hpp"
#include "goinstall/platform/host.hpp"

namespace goinstall {

// Who vouched for an artifact and who served it.
struct Provenance {
    std::string route;     // "index" (release index + mirrors), "archive" (a local file), "goproxy"
    std::string authority; // what vouched for the digest: "the release index <url>", "the manifest <path>", "--sha256"
    std::string server;    // who served the bytes (set by Route::fetch): a mirror name, "local", a proxy URL
};

// What a route resolved a request to, before any archive byte is fetched.
struct Artifact {
    std::string version;    // "go1.21.3"; empty when only the bytes can tell (a local file vouched for by --sha256)
    Platform platform;      // what the toolchain is built for
    std::string filename;   // "go1.21.3.linux-amd64.tar.gz"
    std::uint64_t size = 0; // 0: unknown
    std::string sha256;     // lowercase hex the bytes must hash to (may be empty only when h1 is set:
                            // nothing unproven is installed)
    std::string h1;         // a module zip's go.sum hash ("h1:...", dirhash over its entries) the bytes
                            // must match; empty for archives
    std::string
        module_prefix; // non-empty: the file is a module zip ("golang.org/toolchain@v0.0.1-go1.21.3.linux-amd64")
                       // whose entries all start with this + '/'; the pipeline extracts it as one
    Provenance provenance;
};

// The bytes a route delivered.
struct Fetched {
    std::filesystem::path path; // a complete file
    std::string sha256;         // computed over the bytes as they were read or written
    std::string h1;             // a module zip's h1: as the route computed it (empty: the pipeline
                                // computes it when the artifact has an h1)
    std::string server;         // who served them
    std::uint64_t bytes_transferred = 0;
    bool owned = true;                   // the pipeline's to delete after use (false: the user's own file)
    bool verification_announced = false; // the route already emitted the `verified` event
    std::vector<Attempt> attempts;       // the attempt log, when the route used the network
};

class Route {
public:
    virtual ~Route() = default;
    // Resolves the request to an artifact. Fails with not_found (listing what exists), no_checksum
    // (nothing vouches for the bytes) or the route's own source errors.
    virtual Result<Artifact> resolve(const CancelToken* cancel) = 0;
    // Delivers the artifact's bytes as a complete file, in `dir` when it downloads. When `observer`
    // is not null and the route streams, it sees the growing file (extraction while downloading).
    // A route may verify on the way (the mirror route does, naming a mirror that served bad bytes);
    // the pipeline checks the digest again either way. Failures carry the attempt log (Error::tried).
    virtual Result<Fetched> fetch(const Artifact& artifact, const std::filesystem::path& dir, PartObserver* observer,
                                  const CancelToken* cancel) = 0;
    // Whether resolve() works without the network (then the pipeline resolves before its
    // no-network fast path, which can then use the artifact's version).
    virtual bool resolves_offline() const { return false; }
    // Whether fetch() feeds an observer while the bytes arrive (never for a module zip: its central
    // directory is at the end).
    virtual bool streams() const { return false; }
};

} // namespace goinstall
