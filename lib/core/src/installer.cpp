#include "goinstall/core/installer.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "goinstall/archive/extract.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/download/probe.hpp"
#include "goinstall/fs/file_lock.hpp"
#include "goinstall/fs/files.hpp"
#include "goinstall/install/toolchain.hpp"
#include "goinstall/release/platform_match.hpp"
#include "goinstall/release/resolve.hpp"
#include "goinstall/release/version_spec.hpp"
#include "streaming_extract.hpp"

namespace goinstall {

namespace {

// Removes a directory tree when it goes out of scope unless released.
class TreeGuard {
public:
    explicit TreeGuard(std::filesystem::path p) : m_path(std::move(p)) {}
    TreeGuard(const TreeGuard&) = delete;
    TreeGuard& operator=(const TreeGuard&) = delete;
    ~TreeGuard() {
        if (!m_path.empty()) (void)remove_tree(m_path);
    }

private:
    std::filesystem::path m_path;
};

// syncfs(2) of the file system holding `dir` (sync(2) where syncfs does not exist).
Status sync_filesystem(const std::filesystem::path& dir) {
#ifdef __linux__
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return std::unexpected(errno_error(errno, "opening", dir.string()));
    }
    const int rc = ::syncfs(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) {
        return std::unexpected(errno_error(err, "syncing the file system of", dir.string()));
    }
#else
    (void)dir;
    ::sync();
#endif
    return {};
}

// Removes a file when it goes out of scope.
class FileGuard {
public:
    explicit FileGuard(std::filesystem::path p) : m_path(std::move(p)) {}
    FileGuard(const FileGuard&) = delete;
    FileGuard& operator=(const FileGuard&) = delete;
    ~FileGuard() { ::unlink(m_path.c_str()); }

private:
    std::filesystem::path m_path;
};

// The uncompressed size a gzip file records in its trailer (ISIZE, RFC 1952 §2.3.1: the size
// modulo 2^32), or 0 when `path` is not a complete gzip file.
std::uint64_t gzip_isize(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    unsigned char head[2] = {0, 0}, tail[4] = {0, 0, 0, 0};
    struct stat st {};
    bool ok = ::fstat(fd, &st) == 0 && st.st_size >= 18 && ::pread(fd, head, 2, 0) == 2 &&
              ::pread(fd, tail, 4, st.st_size - 4) == 4 && head[0] == 0x1f && head[1] == 0x8b;
    ::close(fd);
    return ok ? (std::uint64_t{tail[0]} | std::uint64_t{tail[1]} << 8 | std::uint64_t{tail[2]} << 16 |
                 std::uint64_t{tail[3]} << 24)
              : 0;
}

// A disk-full failure says how much room the install needs, and gives back the space the attempt
// took: the partial or whole download (the staging tree goes with its guard). The contents' size
// comes from the archive's gzip trailer when it is complete, else 4× the archive (Go archives
// unpack to ~3.8×, RESEARCH §8). Other errors pass through unchanged.
Error explain_disk_full(Error e, const Layout& layout, const ReleaseFile& file) {
    if (e.code() != ErrorCode::disk_full) {
        return e;
    }
    const auto archive = layout.downloads_dir() / file.filename;
    std::uint64_t unpacked = gzip_isize(archive);
    if (unpacked < file.size) {
        unpacked = file.size * 4;
    }
    for (const auto& p : {archive, layout.downloads_dir() / (file.filename + ".part"),
                          layout.downloads_dir() / (file.filename + ".part.meta")}) {
        ::unlink(p.c_str());
    }
    if (unpacked == 0) {
        return e;
    }
    return Error(ErrorCode::disk_full, e.describe() + " (installing " + file.filename + " needs about " +
                                           human_bytes(file.size + unpacked) + " free in " +
                                           layout.staging_parent().string() + ": the archive, " +
                                           human_bytes(file.size) + ", and its contents, about " +
                                           human_bytes(unpacked) + ")");
}

bool installed_as(const Layout& layout, const std::string& name, const std::string& version) {
    auto dir = layout.prefix_mode() ? layout.toolchain_dir(name) : layout.root() / name;
    auto v = read_version_file(dir);
    std::error_code ec;
    return v && *v == version && std::filesystem::exists(dir / "bin", ec);
}

std::string platform_list(const Release& r) {
    std::string out;
    for (const auto& p : archive_platforms(r)) {
        out += (out.empty() ? "" : ", ") + p.os + "/" + p.arch;
    }
    return out;
}

} // namespace

std::string toolchain_name(const std::string& version, const Platform& platform) {
    return platform == host_platform() ? version : version + "." + platform.os + "-" + platform.arch;
}

Result<InstallOutcome> Installer::install(const InstallRequest& rq, const CancelToken* cancel) {
    auto spec = parse_version_spec(rq.spec);
    if (!spec) {
        return std::unexpected(spec.error());
    }
    const Layout& layout = rq.layout;
    const bool host = rq.platform == host_platform();
    const bool may_switch = rq.switch_current && host && !layout.prefix_mode();

    auto finish_existing = [&](const std::string& version) -> Result<InstallOutcome> {
        InstallOutcome out;
        out.version = version;
        out.already_installed = true;
        auto name = toolchain_name(version, rq.platform);
        out.path = layout.prefix_mode() ? layout.toolchain_dir(name) : layout.root() / name;
        if (may_switch && current_version(layout) != version) {
            if (auto st = use_version(layout, version); !st) {
                return std::unexpected(st.error());
            }
            out.switched = true;
        }
        m_events.emit(Event{EventKind::already_installed, version + " is already installed in " + out.path.string()}
                          .with("version", version)
                          .with("path", out.path.string()));
        return out;
    };

    // Fast path: an exact version already in place needs no network at all.
    if (spec->kind == VersionSpec::Kind::exact && !rq.reinstall) {
        auto name = toolchain_name(spec->version.text, rq.platform);
        if (installed_as(layout, name, spec->version.text)) {
            if (!may_switch || current_version(layout) == spec->version.text) {
                // A run killed after its commit left its staging tree or archive: tidy them when no
                // other goinstall is at work (a live run's files are not leftovers), never wait.
                if (has_leftovers(layout)) {
                    if (auto lock = FileLock::acquire(layout.lock_path(), std::chrono::milliseconds(0), cancel)) {
                        clean_leftovers(layout);
                    }
                }
                return finish_existing(spec->version.text);
            }
            if (auto st = ensure_dir(layout.root()); !st) return std::unexpected(st.error());
            auto lock = FileLock::acquire(layout.lock_path(), rq.lock_timeout, cancel);
            if (!lock) return std::unexpected(lock.error());
            clean_leftovers(layout); // e.g. of a run killed between its commit and its switch
            return finish_existing(spec->version.text);
        }
    }

    auto index = load_index(m_transport, m_clock, m_events, rq.index, cancel);
    if (!index) {
        return std::unexpected(index.error());
    }
    auto release = resolve(index->index, *spec, false);
    if (!release) {
        return std::unexpected(release.error());
    }
    const std::string version = (*release)->version.text;
    m_events.emit(Event{EventKind::resolved, "resolved " + rq.spec + " to " + version}
                      .with("spec", rq.spec)
                      .with("version", version));
    const ReleaseFile* file = find_archive(**release, rq.platform);
    if (file == nullptr) {
        auto have = platform_list(**release);
        return fail(ErrorCode::not_found, version + " has no archive for " + rq.platform.os + "/" + rq.platform.arch +
                                              (have.empty() ? std::string() : " (available: " + have + ")"));
    }
    std::string sha = to_lower(file->sha256);
    if (!rq.sha256_override.empty()) {
        auto given = to_lower(rq.sha256_override);
        if (!sha.empty() && given != sha) {
            return fail(ErrorCode::checksum, "--sha256 " + given + " does not match the index's " + sha + " for " +
                                                 file->filename);
        }
        sha = given;
    }
    if (!is_hex(sha, 64)) {
        return fail(ErrorCode::no_checksum, "the release index has no SHA-256 for " + file->filename +
                                                "; refusing to install unverified bytes (pass --sha256 HEX if you "
                                                "have the checksum from a trusted source)");
    }

    const std::string name = toolchain_name(version, rq.platform);
    if (auto st = ensure_dir(layout.root()); !st) return std::unexpected(st.error());
    if (layout.prefix_mode()) {
        if (auto st = ensure_dir(layout.staging_parent()); !st) return std::unexpected(st.error());
    }
    auto lock = FileLock::acquire(layout.lock_path(), rq.lock_timeout, cancel, [&] {
        m_events.emit(Event{EventKind::info, "waiting for another goinstall to finish (" +
                                                 layout.lock_path().string() + ")"});
    });
    if (!lock) {
        return std::unexpected(lock.error());
    }
    clean_leftovers(layout);
    // Another process may have installed it while we waited.
    if (!rq.reinstall && installed_as(layout, name, version)) {
        return finish_existing(version);
    }

    InstallOutcome out;
    out.version = version;
    DownloadOptions download = rq.download;
    if (download.rank_mirrors && download.mirrors.size() > 1) {
        ProbeOptions po;
        po.limits = download.limits;
        auto ranked = rank_probes(probe_mirrors(m_transport, download.mirrors, file->filename, po, cancel));
        download.mirrors.clear();
        std::string order;
        for (const auto& r : ranked) {
            download.mirrors.push_back(r.mirror);
            order += (order.empty() ? "" : ", ") + r.mirror.name +
                     (r.ok ? " " + human_bytes(static_cast<std::uint64_t>(r.bytes_per_second)) + "/s" : " (failed)");
        }
        m_events.emit(Event{EventKind::info, "mirrors ranked by probe: " + order}.with("order", order));
    }
    // Download and extraction run together: the archive is extracted into staging from the
    // growing .part while it downloads (streaming_extract.hpp); nothing is committed before the
    // SHA-256 verifies, and a stream that cannot be trusted is re-extracted from the verified file.
    auto staging = make_unique_dir(layout.staging_parent(), ".goinstall-staging-");
    if (!staging) {
        return std::unexpected(staging.error());
    }
    TreeGuard staging_guard(*staging);
    ExtractOptions xo;
    xo.cancel = cancel;
    std::optional<StreamingExtract> streaming; // after staging_guard: stopped before it is removed
    if (file->filename.ends_with(".tar.gz")) {
        streaming.emplace(*staging, xo);
        download.observer = &*streaming;
    }
    Downloader downloader(m_transport, m_clock, m_events);
    DownloadTarget target{file->filename, sha, file->size};
    auto downloaded = downloader.download(target, layout.downloads_dir(), download, cancel, &out.attempts);
    if (!downloaded) {
        return std::unexpected(
            explain_disk_full(std::move(downloaded.error()).with_context("downloading " + file->filename), layout, *file));
    }
    FileGuard archive_guard(downloaded->path); // installed or not, the archive is not read again
    out.mirror = downloaded->mirror;
    out.sha256 = downloaded->sha256;
    out.bytes_downloaded = downloaded->bytes_transferred;

    std::optional<ExtractStats> stats;
    if (streaming) {
        auto streamed = streaming->finish();
        if (!streamed) {
            return std::unexpected(
                explain_disk_full(std::move(streamed.error()).with_context("extracting " + file->filename), layout, *file));
        }
        stats = *streamed;
        if (!stats) {
            m_events.emit(Event{EventKind::info, "extracting " + file->filename + " again from the verified file (" +
                                                     streaming->why_unusable() + ")"});
            if (auto st = remove_tree(*staging); !st) return std::unexpected(st.error());
            if (auto st = ensure_dir(*staging); !st) return std::unexpected(st.error());
        }
    }
    if (!stats) {
        auto extracted = extract_archive(downloaded->path, *staging, xo);
        if (!extracted) {
            return std::unexpected(
                explain_disk_full(std::move(extracted.error()).with_context("extracting " + file->filename), layout, *file));
        }
        stats = *extracted;
    }
    m_events.emit(Event{EventKind::extracted, "extracted " + std::to_string(stats->files) + " files (" +
                                                  human_bytes(stats->bytes) + ")"}
                      .with("files", static_cast<std::int64_t>(stats->files))
                      .with("bytes", static_cast<std::int64_t>(stats->bytes)));
    auto staged_go = *staging / "go";
    if (auto st = check_toolchain(staged_go, version, host, std::chrono::seconds(30), cancel); !st) {
        return std::unexpected(st.error());
    }
    if (cancel != nullptr && cancel->cancelled()) {
        return fail(ErrorCode::cancelled, "cancelled before installing " + version);
    }
    // Durability: the extractor does not fsync file by file (12,000 fsyncs); one syncfs() of the
    // staging file system before the commit rename makes every extracted byte durable first, so a
    // crash after the (fsynced) rename cannot leave a committed tree with empty files.
    if (auto st = sync_filesystem(*staging); !st) {
        return std::unexpected(st.error());
    }
    if (auto st = commit_toolchain(layout, staged_go, name); !st) {
        return std::unexpected(st.error());
    }
    out.path = layout.toolchain_dir(name);
    m_events.emit(Event{EventKind::installed, "installed " + version + " in " + out.path.string()}
                      .with("version", version)
                      .with("path", out.path.string())
                      .with("mirror", out.mirror)
                      .with("sha256", out.sha256));
    if (may_switch) {
        if (auto st = use_version(layout, version); !st) {
            return std::unexpected(st.error());
        }
        out.switched = true;
        m_events.emit(Event{EventKind::switched, layout.current_link().string() + " → " + version}
                          .with("version", version));
    }
    return out;
}

} // namespace goinstall
