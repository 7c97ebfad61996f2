#pragma once
// The index + mirror route: the release index (go.dev, its fallbacks or the cache) vouches for
// an archive's SHA-256; the mirror-failover Downloader fetches it from the mirrors.

#include <optional>
#include <string>

#include "goinstall/base/clock.hpp"
#include "goinstall/base/events.hpp"
#include "goinstall/release/index_source.hpp"
#include "goinstall/core/route.hpp"
#include "goinstall/net/transport.hpp"
#include "goinstall/release/index.hpp"

namespace goinstall {

// Fetches `target` from the mirrors of `options` into `dir` with the failover Downloader, first
// ranking the mirrors by a probe when options.rank_mirrors (--mirror auto) and there are several.
// The one acquisition step of every verb that downloads from mirrors (install, download, mirror
// sync). A failure carries the attempt log (Error::tried: each mirror tried, its URL and error).
Result<Fetched> fetch_from_mirrors(Transport& transport, Clock& clock, EventSink& events, const DownloadTarget& target,
                                   const std::filesystem::path& dir, DownloadOptions options,
                                   const CancelToken* cancel);

// The artifact for `spec` on `platform` in a loaded index: resolves the spec (emitting `resolved`),
// picks the archive (not_found lists the platforms the release has) and its digest
// (expected_sha256 with `sha256_override`). `file_out`, when given, receives the index entry.
Result<Artifact> artifact_in_index(const IndexResult& index, const std::string& spec, const Platform& platform,
                                   const std::string& sha256_override, EventSink& events,
                                   ReleaseFile* file_out = nullptr);

struct IndexRouteOptions {
    std::string spec; // "latest", "1.21", "1.21.3", "go1.22rc1"
    Platform platform;
    IndexOptions index;
    DownloadOptions download;    // mirrors, limits, ranking
    std::string sha256_override; // --sha256 (validated hex): must agree with the index, or stands in for a missing one
};

class IndexMirrorRoute final : public Route {
public:
    IndexMirrorRoute(Transport& transport, Clock& clock, EventSink& events, IndexRouteOptions options)
        : m_transport(transport), m_clock(clock), m_events(events), m_options(std::move(options)) {}

    // Loads the index, resolves the spec, picks the archive for the platform (not_found lists the
    // platforms the release has) and its digest (expected_sha256).
    Result<Artifact> resolve(const CancelToken* cancel) override;
    Result<Fetched> fetch(const Artifact& artifact, const std::filesystem::path& dir, PartObserver* observer,
                          const CancelToken* cancel) override;
    bool streams() const override { return true; }

    // After resolve(): where the index came from (for manifests).
    const std::optional<IndexResult>& index() const { return m_index; }
    // After resolve(): the index's entry for the archive.
    const std::optional<ReleaseFile>& file() const { return m_file; }

private:
    Transport& m_transport;
    Clock& m_clock;
    EventSink& m_events;
    IndexRouteOptions m_options;
    std::optional<IndexResult> m_index;
    std::optional<ReleaseFile> m_file;
};

} // namespace goinstall
