#pragma once
// The one install pipeline, the same for every route and verb:
//   lock → tidy leftovers → fetch (extracting into staging while bytes arrive, when the route
//   streams) → verify the digest (SHA-256, and a module zip's h1: when the artifact has one)
//   → extract (a module zip as a go/ tree) → check the tree (VERSION, bounded `bin/go version`)
//   → syncfs → commit (atomic exchange) → switch `current`.
// A route (route.hpp) says what to install and delivers the bytes; nothing here knows where they
// came from. Receives everything it touches; prints nothing.

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/base/events.hpp"
#include "goinstall/core/route.hpp"
#include "goinstall/fs/file_system.hpp"
#include "goinstall/install/layout.hpp"
#include "goinstall/release/version_spec.hpp"

namespace goinstall {

// Where and how a toolchain is installed: shared by every verb's install request.
struct InstallPlace {
    Layout layout{""};
    bool reinstall = false;
    bool switch_current = true; // point <root>/current at it (root mode, host platform)
    std::chrono::milliseconds lock_timeout{std::chrono::minutes(10)};
    std::chrono::milliseconds check_timeout{std::chrono::seconds(30)}; // the whole `bin/go version` child
};

struct PipelineRequest {
    InstallPlace place;
    std::optional<VersionSpec> spec; // when given, the installed version must satisfy it
    std::string spec_text;           // as the user wrote it, for messages
    Platform platform;               // the platform asked for (the fast path runs before resolve)
};

struct InstallOutcome {
    std::string version;
    std::filesystem::path path;
    bool already_installed = false;
    bool switched = false;
    std::string mirror; // who served the bytes
    std::string sha256;
    std::string h1; // a module zip's verified h1: (module routes only)
    std::uint64_t bytes_downloaded = 0;
    Provenance provenance; // route, authority, server
    std::vector<Attempt> attempts;
};

class InstallPipeline {
public:
    InstallPipeline(FileSystem& fs, EventSink& events) : m_fs(fs), m_events(events) {}

    // Installs what `route` resolves. An exact version already installed (VERSION agrees) returns
    // without fetching anything unless `reinstall` (for a route that does not resolve offline,
    // without resolving either: no network). Any failure leaves the installed toolchains and
    // `current` as they were and removes staging; a downloaded archive is removed once extracted.
    Result<InstallOutcome> run(Route& route, const PipelineRequest& request, const CancelToken* cancel);
    // The same, for a spec as the user wrote it (empty: none); a malformed spec is a usage error.
    Result<InstallOutcome> run(Route& route, const InstallPlace& place, const std::string& spec,
                               const Platform& platform, const CancelToken* cancel);

private:
    FileSystem& m_fs;
    EventSink& m_events;
};

} // namespace goinstall
