// `goinstall install --archive FILE`: the local-archive route (a file vouched for by its manifest, a
// cached release index or --sha256) through the install pipeline, with no network.

#include <sys/stat.h>

#include "goinstall/base/strings.hpp"
#include "goinstall/core/offline.hpp"
#include "goinstall/fs/files.hpp"
#include "goinstall/release/manifest.hpp"
#include "goinstall/release/platform_match.hpp"
#include "goinstall/release/version_spec.hpp"
#include "goinstall/verify/sha256.hpp"

namespace goinstall {

namespace {

std::optional<ExpectedArchive> from_cached_index(const ArchiveInstallRequest& rq, const std::string& filename) {
    if (rq.cache_dir.empty()) return std::nullopt;
    for (const auto& path : cached_index_files(rq.cache_dir, rq.index_url)) {
        auto index = read_index_file(path, path.string());
        if (!index) continue;
        for (const auto& release : index->releases) {
            for (const auto& f : release.files) {
                if (f.filename != filename || !is_hex(f.sha256, 64)) continue;
                return ExpectedArchive{"the cached release index " + path.string(), release.version.text, f,
                                       to_lower(f.sha256)};
            }
        }
    }
    return std::nullopt;
}

} // namespace

Result<ExpectedArchive> expected_for_archive(const ArchiveInstallRequest& rq) {
    const std::string filename = rq.archive.filename().string();
    const auto manifest_path = manifest_path_for(rq.archive);
    std::optional<ExpectedArchive> found;
    std::error_code ec;
    if (std::filesystem::exists(manifest_path, ec)) {
        auto m = read_manifest(manifest_path);
        if (!m && m.error().code() != ErrorCode::no_checksum) return std::unexpected(m.error()); // unreadable
        if (!m) {
            return std::unexpected(std::move(m.error()).with_context("remove it or pass --sha256 HEX to install " +
                                                                     filename + " without it"));
        }
        found = ExpectedArchive{"the manifest " + manifest_path.string(), m->version, m->file, m->file.sha256};
    } else {
        found = from_cached_index(rq, filename);
    }
    const std::string given = to_lower(rq.sha256_override);
    if (found) {
        if (!given.empty() && given != found->sha256) {
            return fail(ErrorCode::checksum, "--sha256 " + given + " does not match " + found->source +
                                                 ", which gives " + found->sha256 + " for " + filename);
        }
        return *found;
    }
    if (!given.empty()) {
        return ExpectedArchive{"--sha256", "", std::nullopt, given};
    }
    return fail(ErrorCode::no_checksum,
                "no checksum to verify " + rq.archive.string() + " against: no manifest beside it (" +
                    manifest_path.filename().string() + "), and no cached release index lists " + filename +
                    "; fetch it with 'goinstall download VERSION -o DIR' (which writes the manifest), or pass "
                    "--sha256 HEX from a trusted source (https://go.dev/dl/)");
}

Result<Artifact> LocalArchiveRoute::resolve(const CancelToken* /*cancel*/) {
    const ArchiveInstallRequest& rq = m_request;
    std::optional<VersionSpec> spec;
    if (!rq.spec.empty()) {
        auto s = parse_version_spec(rq.spec);
        if (!s) return std::unexpected(s.error());
        spec = *s;
    }
    struct stat st {};
    if (::stat(rq.archive.c_str(), &st) != 0) {
        return std::unexpected(errno_error(errno, "cannot read the archive", rq.archive.string()));
    }
    if (!S_ISREG(st.st_mode)) return fail(ErrorCode::filesystem, rq.archive.string() + " is not a regular file");
    auto expected = expected_for_archive(rq);
    if (!expected) return std::unexpected(expected.error());

    // The platform: what the manifest or index says the file is for; --os/--arch must agree.
    Platform platform = rq.platform.value_or(host_platform());
    if (expected->file && !expected->file->os.empty()) {
        const Platform of_file = platform_of(*expected->file);
        if (rq.platform && !built_for(*expected->file, *rq.platform)) {
            return fail(ErrorCode::usage, rq.archive.filename().string() + " is for " + of_file.os + "/" +
                                              of_file.arch + " (" + expected->source + "), not " + rq.platform->os +
                                              "/" + rq.platform->arch);
        }
        platform = of_file;
    }
    std::string version = expected->version;
    if (version.empty() && spec && spec->kind == VersionSpec::Kind::exact) version = spec->version.text;
    if (!version.empty() && spec) {
        auto v = parse_version(version);
        if (!v || !spec_allows(*spec, *v)) {
            return fail(ErrorCode::usage, rq.archive.filename().string() + " holds " + version + " (" +
                                              expected->source + "), not " + rq.spec);
        }
    }
    if (expected->file && expected->file->size != 0 && expected->file->size != static_cast<std::uint64_t>(st.st_size)) {
        return fail(ErrorCode::checksum, rq.archive.string() + " has " + std::to_string(st.st_size) + " bytes; " +
                                             expected->source + " says " + std::to_string(expected->file->size));
    }
    Artifact a;
    a.version = version;
    a.platform = platform;
    a.filename = rq.archive.filename().string();
    a.size = static_cast<std::uint64_t>(st.st_size);
    a.sha256 = expected->sha256;
    a.provenance.route = "archive";
    a.provenance.authority = expected->source;
    return a;
}

Result<Fetched> LocalArchiveRoute::fetch(const Artifact& /*artifact*/, const std::filesystem::path& /*dir*/,
                                         PartObserver* /*observer*/, const CancelToken* cancel) {
    auto actual = sha256_file(m_request.archive, cancel);
    if (!actual) return std::unexpected(actual.error());
    Fetched out;
    out.path = m_request.archive;
    out.sha256 = *actual;
    out.server = "local";
    out.owned = false; // the user's file stays where it is
    return out;
}

Result<InstallOutcome> install_archive(EventSink& events, const ArchiveInstallRequest& rq, const CancelToken* cancel,
                                       FileSystem& fs) {
    LocalArchiveRoute route(rq);
    return InstallPipeline(fs, events).run(route, rq, rq.spec, rq.platform.value_or(host_platform()), cancel);
}

} // namespace goinstall
