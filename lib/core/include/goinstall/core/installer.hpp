#pragma once
// The install pipeline: resolve → download → verify → extract → check → atomic commit → switch.
// Receives everything it touches; prints nothing.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/clock.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/base/events.hpp"
#include "goinstall/core/index_source.hpp"
#include "goinstall/download/downloader.hpp"
#include "goinstall/install/layout.hpp"
#include "goinstall/net/transport.hpp"
#include "goinstall/platform/host.hpp"

namespace goinstall {

struct InstallRequest {
    std::string spec;            // "latest", "1.21", "1.21.3", "go1.22rc1"
    Platform platform;           // what to fetch
    Layout layout{""};
    IndexOptions index;
    DownloadOptions download;    // mirrors, limits, attempts
    std::string sha256_override; // --sha256: required when the index has none, must agree otherwise
    bool reinstall = false;
    bool switch_current = true;  // point <root>/current at it (root mode, host platform)
    std::chrono::milliseconds lock_timeout{std::chrono::minutes(10)};
};

struct InstallOutcome {
    std::string version;
    std::filesystem::path path;
    bool already_installed = false;
    bool switched = false;
    std::string mirror;
    std::string sha256;
    std::uint64_t bytes_downloaded = 0;
    std::vector<Attempt> attempts;
};

class Installer {
public:
    Installer(Transport& transport, Clock& clock, EventSink& events)
        : m_transport(transport), m_clock(clock), m_events(events) {}

    // Installs the toolchain the request names. An exact version that is already installed (and
    // whose VERSION file agrees) returns at once without touching the network unless `reinstall`.
    // Any failure leaves the previous toolchain and `current` as they were and removes staging.
    Result<InstallOutcome> install(const InstallRequest& request, const CancelToken* cancel);

private:
    Transport& m_transport;
    Clock& m_clock;
    EventSink& m_events;
};

// Directory name for a toolchain: "go1.21.3" for the host platform, "go1.21.3.windows-amd64" otherwise.
std::string toolchain_name(const std::string& version, const Platform& platform);

} // namespace goinstall
