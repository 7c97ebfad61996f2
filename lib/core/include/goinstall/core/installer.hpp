#pragma once
// `goinstall install VERSION`: the index + mirror route through the install pipeline.
// Receives everything it touches; prints nothing.

#include <chrono>
#include <string>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/clock.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/base/events.hpp"
#include "goinstall/core/index_source.hpp"
#include "goinstall/core/pipeline.hpp"
#include "goinstall/download/downloader.hpp"
#include "goinstall/fs/file_system.hpp"
#include "goinstall/install/layout.hpp"
#include "goinstall/net/transport.hpp"
#include "goinstall/platform/host.hpp"

namespace goinstall {

struct InstallRequest : InstallPlace {
    std::string spec;            // "latest", "1.21", "1.21.3", "go1.22rc1"
    Platform platform;           // what to fetch
    IndexOptions index;
    DownloadOptions download;    // mirrors, limits, attempts, ranking (--mirror auto)
    std::string sha256_override; // --sha256: required when the index has none, must agree otherwise
};

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
