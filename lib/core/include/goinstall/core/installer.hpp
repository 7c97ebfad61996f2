#pragma once
// `goinstall install VERSION`: the index + mirror route and the module proxy route through the
// install pipeline, one after the other when the first cannot reach its sources.
// Receives everything it touches; prints nothing.

#include <chrono>
#include <string>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/clock.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/base/events.hpp"
#include "goinstall/release/index_source.hpp"
#include "goinstall/core/goproxy_route.hpp"
#include "goinstall/core/pipeline.hpp"
#include "goinstall/download/downloader.hpp"
#include "goinstall/fs/file_system.hpp"
#include "goinstall/install/layout.hpp"
#include "goinstall/net/transport.hpp"
#include "goinstall/platform/host.hpp"

namespace goinstall {

struct InstallRequest : InstallPlace {
    std::string spec;  // "latest", "1.21", "1.21.3", "go1.22rc1"
    Platform platform; // what to fetch
    IndexOptions index;
    DownloadOptions download;    // mirrors, limits, attempts, ranking (--mirror auto)
    std::string sha256_override; // --sha256: required when the index has none, must agree otherwise
                                 // ("h1:..." names a module zip: then only the module proxy route)
    // The toolchain-module route (its spec, platform and sha256_override are taken from above);
    // nullopt: not used.
    std::optional<GoproxyRouteOptions> modules;
    bool modules_first = false; // --via goproxy: the module proxy before the index
    bool use_index = true;      // false: the module proxy route alone (no index source or mirror configured)
};

// Whether a route's failure lets the install go on with the next route: it could not reach its
// sources (network, TLS, proxy authentication, an unusable index). Never after bytes failed to
// verify, a security error, a missing version, a local failure or a cancel.
bool route_unreachable(const Error& error);

class Installer {
public:
    Installer(Transport& transport, Clock& clock, EventSink& events, FileSystem& fs = real_file_system())
        : m_transport(transport), m_clock(clock), m_events(events), m_fs(fs) {}

    // Installs the toolchain the request names (IndexMirrorRoute through InstallPipeline; see
    // pipeline.hpp for the contract: an exact version already installed needs no network, and a
    // failure leaves the previous toolchain and `current` as they were).
    Result<InstallOutcome> install(const InstallRequest& request, const CancelToken* cancel);

private:
    Transport& m_transport;
    Clock& m_clock;
    EventSink& m_events;
    FileSystem& m_fs;
};

} // namespace goinstall
