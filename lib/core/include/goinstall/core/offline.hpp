#pragma once
// Offline and air-gapped installs: fetching an archive plus a manifest for later (`goinstall
// download`), and installing from a local archive (`goinstall install --archive`) through the same
// verify → extract → check → atomic commit → switch steps as a normal install.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/clock.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/base/events.hpp"
#include "goinstall/release/index_source.hpp"
#include "goinstall/core/installer.hpp"
#include "goinstall/core/route.hpp"
#include "goinstall/fs/file_system.hpp"
#include "goinstall/download/downloader.hpp"
#include "goinstall/install/layout.hpp"
#include "goinstall/net/transport.hpp"
#include "goinstall/platform/host.hpp"
#include "goinstall/release/index.hpp"

namespace goinstall {

struct ArchiveDownloadRequest {
    std::string spec; // "latest", "1.21", "1.21.3"
    Platform platform;
    IndexOptions index;
    DownloadOptions download;
    std::string sha256_override;      // as for installs: required when the index has none
    std::filesystem::path output_dir; // created if missing
};

struct ArchiveDownloadOutcome {
    std::string version;
    std::filesystem::path archive, manifest;
    std::string sha256;
    std::uint64_t size = 0;
    bool already_present = false; // the verified archive was there already: nothing downloaded
    std::string mirror;
    std::uint64_t bytes_downloaded = 0;
    std::vector<Attempt> attempts;
};

// Resolves the spec through the index, downloads the archive into output_dir with the mirror
// failover Downloader (resuming a <file>.part there; verified against the index's SHA-256) and
// writes <file>.manifest.json beside it (atomically, after the archive). Idempotent: for an exact
// version whose manifest and archive are present and hash correctly, returns at once without the
// network; otherwise an archive already there that matches the index is kept, not downloaded again.
Result<ArchiveDownloadOutcome> download_archive(Transport& transport, Clock& clock, EventSink& events,
                                                const ArchiveDownloadRequest& request, const CancelToken* cancel);

struct ArchiveInstallRequest : InstallPlace {
    std::filesystem::path archive;
    std::string spec;                 // optional; when given, the archive's version must match it
    std::optional<Platform> platform; // --os/--arch; else from the manifest or index entry, else the host
    std::filesystem::path cache_dir;  // cached release indexes to look the file name up in
    std::string index_url;            // the index whose cached copy is searched first
    std::string sha256_override;      // --sha256: used when neither a manifest nor a cached index knows the file
};

// Where the expected checksum of a local archive comes from, in this order: the manifest beside it,
// an entry for its file name in a cached release index, --sha256.
struct ExpectedArchive {
    std::string source;  // "manifest <path>", "cached release index <url>", "--sha256"
    std::string version; // empty when only --sha256 vouches for the file
    std::optional<ReleaseFile> file;
    std::string sha256;
};

// Finds the expected checksum (see ExpectedArchive). Fails with no_checksum, saying how to supply
// one, when nothing knows the file; with checksum when --sha256 disagrees with the manifest/index.
Result<ExpectedArchive> expected_for_archive(const ArchiveInstallRequest& request);

// The local-archive route: resolves offline (the platform and version from the manifest or cached
// index entry, which --os/--arch and the spec must agree with; the size must match) and "fetches"
// by hashing the file in place (it is never removed).
class LocalArchiveRoute final : public Route {
public:
    explicit LocalArchiveRoute(ArchiveInstallRequest request) : m_request(std::move(request)) {}
    Result<Artifact> resolve(const CancelToken* cancel) override;
    Result<Fetched> fetch(const Artifact& artifact, const std::filesystem::path& dir, PartObserver* observer,
                          const CancelToken* cancel) override;
    bool resolves_offline() const override { return true; }

private:
    ArchiveInstallRequest m_request;
};

// Installs from a local archive without any network access: LocalArchiveRoute through the install
// pipeline (pipeline.hpp). A digest mismatch fails before anything is extracted; any failure leaves
// the installed toolchains and `current` as they were. The archive itself is left in place.
Result<InstallOutcome> install_archive(EventSink& events, const ArchiveInstallRequest& request,
                                       const CancelToken* cancel, FileSystem& fs = real_file_system());

} // namespace goinstall
