// The index + mirror route (contract in index_route.hpp).

#include "goinstall/core/index_route.hpp"

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/download/probe.hpp"
#include "goinstall/release/platform_match.hpp"
#include "goinstall/release/resolve.hpp"
#include "goinstall/release/version_spec.hpp"
#include "goinstall/verify/sha256.hpp"

namespace goinstall {

namespace {

std::vector<TriedSource> tried_of(const std::vector<Attempt>& attempts, const DownloadOptions& options) {
    std::vector<TriedSource> out;
    for (const auto& a : attempts) {
        out.push_back(TriedSource{"mirror", a.mirror, a.url, a.error});
    }
    if (out.empty()) { // failed before any attempt (e.g. no mirror answered a probe): every mirror counts
        for (const auto& m : options.mirrors) out.push_back(TriedSource{"mirror", m.name, redact_url(m.base_url), ""});
    }
    return out;
}

} // namespace

Result<Fetched> fetch_from_mirrors(Transport& transport, Clock& clock, EventSink& events, const DownloadTarget& target,
                                   const std::filesystem::path& dir, DownloadOptions options,
                                   const CancelToken* cancel) {
    if (options.rank_mirrors && options.mirrors.size() > 1) {
        ProbeOptions po;
        po.limits = options.limits;
        auto ranked = rank_probes(probe_mirrors(transport, options.mirrors, target.filename, po, cancel));
        options.mirrors.clear();
        options.expected_rates.clear(); // what each showed: single-stream mode hands over to a much faster one
        std::string order;
        for (const auto& r : ranked) {
            options.mirrors.push_back(r.mirror);
            options.expected_rates.push_back(r.ok ? r.bytes_per_second : 0.0);
            order += (order.empty() ? "" : ", ") + r.mirror.name +
                     (r.ok ? " " + human_bytes(static_cast<std::uint64_t>(r.bytes_per_second)) + "/s" : " (failed)");
        }
        events.emit(Event{EventKind::info, "mirrors ranked by probe: " + order}.with("order", order));
    }
    Downloader downloader(transport, clock, events);
    std::vector<Attempt> attempts;
    auto got = downloader.download(target, dir, options, cancel, &attempts);
    if (!got) return std::unexpected(std::move(got.error()).with_tried(tried_of(attempts, options)));
    Fetched out;
    out.path = got->path;
    out.sha256 = got->sha256;
    out.server = got->mirror;
    out.bytes_transferred = got->bytes_transferred;
    out.verification_announced = true; // the Downloader emits `verified`, naming the mirror
    out.attempts = std::move(attempts);
    return out;
}

Result<Artifact> artifact_in_index(const IndexResult& index, const std::string& spec_text, const Platform& platform,
                                   const std::string& sha256_override, EventSink& events, ReleaseFile* file_out) {
    auto spec = parse_version_spec(spec_text);
    if (!spec) return std::unexpected(spec.error());
    auto release = resolve(index.index, *spec, false);
    if (!release) return std::unexpected(release.error());
    const std::string version = (*release)->version.text;
    events.emit(Event{EventKind::resolved, "resolved " + spec_text + " to " + version}
                    .with("spec", spec_text)
                    .with("version", version));
    const ReleaseFile* file = find_archive(**release, platform);
    if (file == nullptr) {
        auto have = platform_list(**release);
        return fail(ErrorCode::not_found, version + " has no archive for " + platform.os + "/" + platform.arch +
                                              (have.empty() ? std::string() : " (available: " + have + ")"));
    }
    Artifact a;
    a.version = version;
    a.platform = platform;
    a.filename = file->filename;
    a.size = file->size;
    a.provenance.route = "index";
    a.provenance.authority = "the release index " + index.source;
    auto sha = expected_sha256(file->sha256, a.provenance.authority, sha256_override, file->filename);
    if (!sha) return std::unexpected(sha.error());
    a.sha256 = *sha;
    if (file_out != nullptr) {
        *file_out = *file;
        file_out->sha256 = *sha;
    }
    return a;
}

Result<Artifact> IndexMirrorRoute::resolve(const CancelToken* cancel) {
    auto index = load_index(m_transport, m_clock, m_events, m_options.index, cancel);
    if (!index) return std::unexpected(index.error());
    m_index = std::move(*index);
    m_file.emplace();
    return artifact_in_index(*m_index, m_options.spec, m_options.platform, m_options.sha256_override, m_events,
                             &*m_file);
}

Result<Fetched> IndexMirrorRoute::fetch(const Artifact& artifact, const std::filesystem::path& dir,
                                        PartObserver* observer, const CancelToken* cancel) {
    DownloadOptions options = m_options.download;
    options.observer = observer;
    return fetch_from_mirrors(m_transport, m_clock, m_events,
                              DownloadTarget{artifact.filename, artifact.sha256, artifact.size}, dir,
                              std::move(options), cancel);
}

} // namespace goinstall
