// The install pipeline (contract in pipeline.hpp).

#include "goinstall/core/pipeline.hpp"

#include "goinstall/archive/extract.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/core/module_zip.hpp"
#include "goinstall/fs/file_lock.hpp"
#include "goinstall/install/toolchain.hpp"
#include "goinstall/verify/sha256.hpp"
#include "streaming_extract.hpp"

namespace goinstall {

namespace {

bool installed_as(const Layout& layout, const std::string& name, const std::string& version) {
    auto dir = layout.toolchain_dir(name);
    auto v = read_version_file(dir);
    std::error_code ec;
    return v && *v == version && std::filesystem::exists(dir / "bin", ec);
}

// One run of the pipeline: the request, the route and what has been learnt so far.
class Run {
public:
    Run(FileSystem& fs, EventSink& events, Route& route, const PipelineRequest& rq, const CancelToken* cancel)
        : m_fs(fs), m_events(events), m_route(route), m_rq(rq), m_cancel(cancel) {}

    Result<InstallOutcome> go();

private:
    bool may_switch(const Platform& p) const {
        return m_rq.place.switch_current && p == host_platform() && !m_rq.place.layout.prefix_mode();
    }
    Result<InstallOutcome> finish_existing(const std::string& version, const Platform& platform);
    Result<std::optional<InstallOutcome>> fast_path(const std::string& version, const Platform& platform);
    Status lock();
    Result<ExtractStats> acquire_and_extract(const std::filesystem::path& staging, Fetched& fetched);
    Status verify(Fetched& fetched);
    Status verify_h1(Fetched& fetched);
    Error explain_disk_full(Error e, const Fetched* fetched) const;
    Result<InstallOutcome> commit(const std::filesystem::path& staged_go, const Fetched& fetched);

    FileSystem& m_fs;
    EventSink& m_events;
    Route& m_route;
    const PipelineRequest& m_rq;
    const CancelToken* m_cancel;
    Artifact m_artifact;
    std::optional<FileLock> m_lock;
};

Result<InstallOutcome> Run::finish_existing(const std::string& version, const Platform& platform) {
    const Layout& layout = m_rq.place.layout;
    InstallOutcome out;
    out.version = version;
    out.already_installed = true;
    auto name = toolchain_name(version, platform);
    out.path = layout.toolchain_dir(name);
    if (may_switch(platform) && current_version(layout) != version) {
        if (!m_lock) {
            if (auto st = lock(); !st) return std::unexpected(st.error());
            clean_leftovers(layout); // e.g. of a run killed between its commit and its switch
        }
        if (auto st = use_version(layout, version); !st) return std::unexpected(st.error());
        out.switched = true;
    }
    m_events.emit(Event{EventKind::already_installed, version + " is already installed in " + out.path.string()}
                      .with("version", version)
                      .with("path", out.path.string()));
    return out;
}

// No network, no lock to wait for: a version already in place is done.
Result<std::optional<InstallOutcome>> Run::fast_path(const std::string& version, const Platform& platform) {
    const Layout& layout = m_rq.place.layout;
    if (m_rq.place.reinstall || version.empty() || !installed_as(layout, toolchain_name(version, platform), version)) {
        return std::nullopt;
    }
    if (!may_switch(platform) || current_version(layout) == version) {
        // A run killed after its commit left its staging tree or archive: tidy them when no other
        // goinstall is at work (a live run's files are not leftovers), never wait.
        if (has_leftovers(layout)) {
            if (auto held = FileLock::acquire(layout.lock_path(), std::chrono::milliseconds(0), m_cancel)) {
                clean_leftovers(layout);
            }
        }
    }
    return finish_existing(version, platform);
}

Status Run::lock() {
    const Layout& layout = m_rq.place.layout;
    if (auto st = m_fs.make_dirs(layout.root()); !st) return st;
    if (layout.prefix_mode()) {
        if (auto st = m_fs.make_dirs(layout.staging_parent()); !st) return st;
    }
    auto held = FileLock::acquire(layout.lock_path(), m_rq.place.lock_timeout, m_cancel, [&] {
        m_events.emit(
            Event{EventKind::info, "waiting for another goinstall to finish (" + layout.lock_path().string() + ")"});
    });
    if (!held) return std::unexpected(held.error());
    m_lock.emplace(std::move(*held));
    return {};
}

// A disk-full failure says how much room the install needs, and gives back the space the attempt
// took: the partial or whole download (the staging tree goes with its guard; a user's own archive
// is never removed). The contents' size comes from the archive's gzip trailer when it is complete,
// else 4× the archive (Go archives unpack to ~3.8×: go1.21.3.linux-amd64.tar.gz is 66 MB and
// unpacks to 250 MB). Other errors pass through unchanged.
Error Run::explain_disk_full(Error e, const Fetched* fetched) const {
    if (e.code() != ErrorCode::disk_full) return e;
    const Layout& layout = m_rq.place.layout;
    const auto& file = m_artifact;
    std::uint64_t unpacked = fetched != nullptr ? gzip_isize(fetched->path) : 0;
    if (unpacked < file.size) unpacked = file.size * 4;
    const auto part = layout.downloads_dir() / (file.filename + ".part");
    for (const auto& p : {part, layout.downloads_dir() / (file.filename + ".part.meta")}) {
        (void)m_fs.remove_file(p);
    }
    if (fetched != nullptr && fetched->owned) (void)m_fs.remove_file(fetched->path);
    if (unpacked == 0) return e;
    return Error(ErrorCode::disk_full,
                 e.describe() + " (installing " + file.filename + " needs about " + human_bytes(file.size + unpacked) +
                     " free in " + layout.staging_parent().string() + ": the archive, " + human_bytes(file.size) +
                     ", and its contents, about " + human_bytes(unpacked) + ")");
}

// A module zip's h1: against the artifact's (the route's computation, else the pipeline's own).
Status Run::verify_h1(Fetched& fetched) {
    if (m_artifact.module_prefix.empty()) {
        return fail(ErrorCode::internal, m_artifact.filename + " has an h1: hash but no module prefix");
    }
    if (fetched.h1.empty()) {
        auto mod = split_module_prefix(m_artifact.module_prefix);
        if (!mod) return std::unexpected(mod.error());
        auto h1 = module_zip_h1(fetched.path, mod->first, mod->second, m_cancel);
        if (!h1) return std::unexpected(h1.error());
        fetched.h1 = *h1;
    }
    if (fetched.h1 != m_artifact.h1) {
        return fail(ErrorCode::checksum, "checksum mismatch for " + m_artifact.filename + " from " + fetched.server +
                                             ": expected " + m_artifact.h1 + ", got " + fetched.h1);
    }
    return {};
}

Status Run::verify(Fetched& fetched) {
    if (m_artifact.sha256.empty() && m_artifact.h1.empty()) {
        return fail(ErrorCode::no_checksum,
                    "nothing vouches for " + m_artifact.filename + "; refusing unverified bytes");
    }
    const std::string context = "verifying " + fetched.path.string() + " against " + m_artifact.provenance.authority;
    if (!m_artifact.sha256.empty()) {
        if (auto st = check_sha256(m_artifact.filename, m_artifact.sha256, fetched.sha256); !st) {
            return std::unexpected(std::move(st.error()).with_context(context));
        }
    }
    if (!m_artifact.h1.empty()) {
        if (auto st = verify_h1(fetched); !st) return std::unexpected(std::move(st.error()).with_context(context));
    }
    if (!fetched.verification_announced) {
        Event e{EventKind::verified, "verified " + m_artifact.filename + " against " + m_artifact.provenance.authority};
        e.with("sha256", fetched.sha256).with("source", m_artifact.provenance.authority);
        if (!fetched.h1.empty()) e.with("h1", fetched.h1);
        m_events.emit(e);
    }
    return {};
}

// Fetches the bytes, verifies them and extracts them into `staging`. When the route streams a
// .tar.gz, extraction runs while the bytes arrive (streaming_extract.hpp); nothing extracted is
// used before the digest verifies, and a stream that cannot be trusted is extracted again from
// the verified file.
Result<ExtractStats> Run::acquire_and_extract(const std::filesystem::path& staging, Fetched& fetched) {
    ExtractOptions xo;
    xo.cancel = m_cancel;
    std::optional<ModuleZipHasher> extracted_h1; // what extraction wrote, hashed again
    if (!m_artifact.module_prefix.empty()) {
        xo.module_zip = true;
        xo.top_dir = m_artifact.module_prefix;
        auto mod = split_module_prefix(m_artifact.module_prefix);
        if (!mod) return std::unexpected(mod.error());
        extracted_h1.emplace(mod->first, mod->second);
        xo.module_visitor = &*extracted_h1;
    }
    std::optional<StreamingExtract> streaming; // stopped before the caller removes staging
    if (m_route.streams() && m_artifact.module_prefix.empty() && m_artifact.filename.ends_with(".tar.gz"))
        streaming.emplace(staging, xo);
    auto got =
        m_route.fetch(m_artifact, m_rq.place.layout.downloads_dir(), streaming ? &*streaming : nullptr, m_cancel);
    if (!got) {
        return std::unexpected(
            explain_disk_full(std::move(got.error()).with_context("downloading " + m_artifact.filename), nullptr));
    }
    fetched = std::move(*got);
    if (auto st = verify(fetched); !st) return std::unexpected(st.error());
    std::optional<ExtractStats> stats;
    if (streaming) {
        auto streamed = streaming->finish();
        if (!streamed) {
            return std::unexpected(explain_disk_full(
                std::move(streamed.error()).with_context("extracting " + m_artifact.filename), &fetched));
        }
        stats = *streamed;
        if (!stats) {
            m_events.emit(Event{EventKind::info, "extracting " + m_artifact.filename +
                                                     " again from the verified file (" + streaming->why_unusable() +
                                                     ")"});
            if (auto st = m_fs.remove_tree(staging); !st) return std::unexpected(st.error());
            if (auto st = m_fs.make_dirs(staging); !st) return std::unexpected(st.error());
        }
    }
    if (!stats) {
        auto extracted = extract_archive(fetched.path, staging, xo);
        if (!extracted) {
            return std::unexpected(explain_disk_full(
                std::move(extracted.error()).with_context("extracting " + fetched.path.string()), &fetched));
        }
        stats = *extracted;
    }
    if (extracted_h1 && !m_artifact.h1.empty()) {
        // The verified h1: was computed by another read of the file; the entries written to
        // staging must hash to it too (a file that reads differently twice, or changed since).
        auto h1 = extracted_h1->h1();
        if (!h1) return std::unexpected(std::move(h1.error()).with_context("extracting " + m_artifact.filename));
        if (*h1 != m_artifact.h1) {
            return fail(ErrorCode::checksum, "the files extracted from " + m_artifact.filename + " hash to " + *h1 +
                                                 ", not to the verified " + m_artifact.h1 + "; nothing installed");
        }
    }
    m_events.emit(Event{EventKind::extracted,
                        "extracted " + std::to_string(stats->files) + " files (" + human_bytes(stats->bytes) + ")"}
                      .with("files", static_cast<std::int64_t>(stats->files))
                      .with("bytes", static_cast<std::int64_t>(stats->bytes)));
    return *stats;
}

Result<InstallOutcome> Run::commit(const std::filesystem::path& staged_go, const Fetched& fetched) {
    const Layout& layout = m_rq.place.layout;
    const std::string& version = m_artifact.version;
    const bool host = m_artifact.platform == host_platform();
    ToolchainCheck check;
    check.run_go = host;
    check.target_os = m_artifact.platform.os;
    check.timeout = m_rq.place.check_timeout;
    check.cancel = m_cancel;
    if (auto st = check_toolchain(staged_go, version, check); !st) {
        return std::unexpected(st.error());
    }
    if (m_cancel != nullptr && m_cancel->cancelled()) {
        return fail(ErrorCode::cancelled, "cancelled before installing " + version);
    }
    // Durability: the extractor does not fsync file by file (12,000 fsyncs); one syncfs() of the
    // staging file system before the commit rename makes every extracted byte durable first, so a
    // crash after the (fsynced) rename cannot leave a committed tree with empty files.
    if (auto st = m_fs.sync_filesystem(staged_go); !st) {
        return std::unexpected(explain_disk_full(std::move(st.error()), &fetched));
    }
    const std::string name = toolchain_name(version, m_artifact.platform);
    if (auto st = commit_toolchain(layout, staged_go, name); !st) return std::unexpected(st.error());

    InstallOutcome out;
    out.version = version;
    out.path = layout.toolchain_dir(name);
    out.mirror = fetched.server;
    out.sha256 = fetched.sha256;
    out.h1 = fetched.h1;
    out.bytes_downloaded = fetched.bytes_transferred;
    out.provenance = m_artifact.provenance;
    out.provenance.server = fetched.server;
    out.attempts = fetched.attempts;
    m_events.emit(Event{EventKind::installed, "installed " + version + " in " + out.path.string()}
                      .with("version", version)
                      .with("path", out.path.string())
                      .with("mirror", out.mirror)
                      .with("sha256", out.sha256)
                      .with("route", out.provenance.route)
                      .with("authority", out.provenance.authority)
                      .with("server", out.provenance.server));
    if (may_switch(m_artifact.platform)) {
        if (auto st = use_version(layout, version); !st) return std::unexpected(st.error());
        out.switched = true;
        m_events.emit(
            Event{EventKind::switched, layout.current_link().string() + " → " + version}.with("version", version));
    }
    return out;
}

Result<InstallOutcome> Run::go() {
    const Layout& layout = m_rq.place.layout;
    const bool exact = m_rq.spec && m_rq.spec->kind == VersionSpec::Kind::exact;
    if (!m_route.resolves_offline() && exact) {
        auto done = fast_path(m_rq.spec->version.text, m_rq.platform);
        if (!done) return std::unexpected(done.error());
        if (*done) return std::move(**done);
    }
    auto artifact = m_route.resolve(m_cancel);
    if (!artifact) return std::unexpected(artifact.error());
    m_artifact = std::move(*artifact);
    if (m_route.resolves_offline()) {
        auto done = fast_path(m_artifact.version, m_artifact.platform);
        if (!done) return std::unexpected(done.error());
        if (*done) return std::move(**done);
    }
    if (auto st = lock(); !st) return std::unexpected(st.error());
    clean_leftovers(layout);
    // Another process may have installed it while we waited.
    const auto installed_now = [&] {
        return !m_rq.place.reinstall && !m_artifact.version.empty() &&
               installed_as(layout, toolchain_name(m_artifact.version, m_artifact.platform), m_artifact.version);
    };
    if (installed_now()) return finish_existing(m_artifact.version, m_artifact.platform);

    auto staging = m_fs.make_unique_dir(layout.staging_parent(), ".goinstall-staging-");
    if (!staging) return std::unexpected(staging.error());
    RemoveOnExit staging_guard(m_fs, *staging, true);
    Fetched fetched;
    auto stats = acquire_and_extract(*staging, fetched);
    // Installed or not, a downloaded archive is not read again.
    RemoveOnExit archive_guard(m_fs, fetched.owned ? fetched.path : std::filesystem::path(), false);
    if (!stats) return std::unexpected(stats.error());

    auto staged_go = *staging / "go";
    if (m_artifact.version.empty()) {
        // Only the digest vouched for the file: the toolchain names its own version.
        auto v = read_version_file(staged_go);
        auto parsed = v ? parse_version(*v) : std::nullopt;
        if (!parsed) return fail(ErrorCode::toolchain_check, fetched.path.string() + " has no readable go/VERSION");
        if (m_rq.spec && !spec_allows(*m_rq.spec, *parsed)) {
            return fail(ErrorCode::usage, m_artifact.filename + " holds " + *v + ", not " + m_rq.spec_text);
        }
        m_artifact.version = parsed->text;
        if (installed_now()) return finish_existing(m_artifact.version, m_artifact.platform);
    }
    return commit(staged_go, fetched);
}

} // namespace

Result<InstallOutcome> InstallPipeline::run(Route& route, const PipelineRequest& request, const CancelToken* cancel) {
    Run run(m_fs, m_events, route, request, cancel);
    return run.go();
}

Result<InstallOutcome> InstallPipeline::run(Route& route, const InstallPlace& place, const std::string& spec,
                                            const Platform& platform, const CancelToken* cancel) {
    PipelineRequest rq{place, std::nullopt, spec, platform};
    if (!spec.empty()) {
        auto parsed = parse_version_spec(spec);
        if (!parsed) return std::unexpected(parsed.error());
        rq.spec = *parsed;
    }
    return run(route, rq, cancel);
}

} // namespace goinstall
