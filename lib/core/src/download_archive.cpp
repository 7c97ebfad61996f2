// `goinstall download`: an archive plus its manifest, for installing later without the network.

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/core/index_route.hpp"
#include "goinstall/core/offline.hpp"
#include "goinstall/fs/files.hpp"
#include "goinstall/release/manifest.hpp"
#include "goinstall/release/platform_match.hpp"
#include "goinstall/release/version_spec.hpp"
#include "goinstall/verify/sha256.hpp"

namespace goinstall {

namespace {

// True when `path` is a regular file of `size` bytes (0: any) whose SHA-256 is `sha`.
Result<bool> holds(const std::filesystem::path& path, const std::string& sha, std::uint64_t size,
                   const CancelToken* cancel) {
    auto have = regular_file_stat(path);
    if (!have || (size != 0 && have->size != size)) return false;
    auto got = sha256_file(path, cancel);
    if (!got) return std::unexpected(got.error());
    return *got == to_lower(sha);
}

// The fast path for an exact version: a manifest in `dir` for it and this platform whose archive is
// present and hashes right.
std::optional<ArchiveDownloadOutcome> find_present(const std::filesystem::path& dir, const Version& version,
                                                   const Platform& platform, const std::string& sha_override,
                                                   const CancelToken* cancel) {
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const auto name = entry.path().filename().string();
        if (!name.ends_with(".manifest.json")) continue;
        auto m = read_manifest(entry.path());
        if (!m) continue;
        auto v = parse_version(m->version);
        if (!v || !(*v == version) || !built_for(m->file, platform)) continue;
        if (!sha_override.empty() && to_lower(sha_override) != m->file.sha256) continue;
        auto archive = dir / m->file.filename;
        if (manifest_path_for(archive) != entry.path()) continue;
        auto ok = holds(archive, m->file.sha256, m->file.size, cancel);
        if (!ok || !*ok) continue;
        ArchiveDownloadOutcome out;
        out.version = m->version;
        out.archive = archive;
        out.manifest = entry.path();
        out.sha256 = m->file.sha256;
        out.size = m->file.size;
        out.already_present = true;
        out.mirror = m->mirror;
        return out;
    }
    return std::nullopt;
}

std::string base_url_of(const DownloadOptions& o, const std::string& mirror_name) {
    for (const auto& m : o.mirrors) {
        if (m.name == mirror_name) return redact_url(m.base_url);
    }
    return "";
}

} // namespace

Result<ArchiveDownloadOutcome> download_archive(Transport& transport, Clock& clock, EventSink& events,
                                                const ArchiveDownloadRequest& rq, const CancelToken* cancel) {
    auto spec = parse_version_spec(rq.spec);
    if (!spec) return std::unexpected(spec.error());
    if (auto st = ensure_dir(rq.output_dir); !st) return std::unexpected(st.error());

    auto done = [&](ArchiveDownloadOutcome out) {
        events.emit(Event{EventKind::already_installed, out.archive.filename().string() + " is already in " +
                                                            rq.output_dir.string() + " and verified"}
                        .with("version", out.version)
                        .with("path", out.archive.string()));
        return out;
    };
    if (spec->kind == VersionSpec::Kind::exact) {
        if (auto present = find_present(rq.output_dir, spec->version, rq.platform, rq.sha256_override, cancel)) {
            return done(std::move(*present));
        }
    }

    IndexMirrorRoute route(transport, clock, events,
                           IndexRouteOptions{rq.spec, rq.platform, rq.index, rq.download, rq.sha256_override});
    auto artifact = route.resolve(cancel);
    if (!artifact) return std::unexpected(artifact.error());
    const ReleaseFile& file = *route.file();
    const IndexResult& index = *route.index();

    ArchiveDownloadOutcome out;
    out.version = artifact->version;
    out.archive = rq.output_dir / artifact->filename;
    out.manifest = manifest_path_for(out.archive);
    out.sha256 = artifact->sha256;
    out.size = artifact->size;
    ArchiveManifest manifest;
    manifest.version = artifact->version;
    manifest.file = file;
    manifest.index_source = index.source;
    manifest.index_fetched_at = rfc3339_utc(clock.wall_now() - index.cache_age);

    auto present = holds(out.archive, artifact->sha256, artifact->size, cancel);
    if (!present) return std::unexpected(present.error());
    if (*present) {
        // Keep the provenance of the earlier download when its manifest says the same.
        if (auto old = read_manifest(out.manifest); old && old->file.sha256 == artifact->sha256) {
            out.already_present = true;
            out.mirror = old->mirror;
            return done(std::move(out));
        }
        manifest.mirror = "local";
        manifest.downloaded_at = rfc3339_utc(clock.wall_now());
        if (auto st = write_file_atomic(out.manifest, serialize_manifest(manifest)); !st) {
            return std::unexpected(st.error());
        }
        out.already_present = true;
        return done(std::move(out));
    }
    if (regular_file_stat(out.archive)) {
        events.emit(Event{EventKind::warning, out.archive.string() + " does not match the index's SHA-256; "
                                                                     "downloading it again"});
        if (auto st = remove_file(out.archive); !st) return std::unexpected(st.error());
    }

    auto fetched = route.fetch(*artifact, rq.output_dir, nullptr, cancel);
    if (!fetched) return std::unexpected(std::move(fetched.error()).with_context("downloading " + artifact->filename));
    out.mirror = fetched->server;
    out.bytes_downloaded = fetched->bytes_transferred;
    out.attempts = std::move(fetched->attempts);
    manifest.mirror = fetched->server;
    manifest.mirror_url = base_url_of(rq.download, fetched->server);
    manifest.downloaded_at = rfc3339_utc(clock.wall_now());
    if (auto st = write_file_atomic(out.manifest, serialize_manifest(manifest)); !st) {
        return std::unexpected(std::move(st.error()).with_context("writing the manifest"));
    }
    return out;
}

} // namespace goinstall
