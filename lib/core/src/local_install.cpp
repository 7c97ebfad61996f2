// `goinstall install --archive FILE`: the install pipeline from a local archive, with no network.

#include <sys/stat.h>

#include <algorithm>

#include "goinstall/archive/extract.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/core/offline.hpp"
#include "goinstall/fs/file_lock.hpp"
#include "goinstall/fs/files.hpp"
#include "goinstall/install/toolchain.hpp"
#include "goinstall/release/manifest.hpp"
#include "goinstall/release/platform_match.hpp"
#include "goinstall/release/version_spec.hpp"
#include "goinstall/verify/sha256.hpp"

namespace goinstall {

namespace {

constexpr std::uint64_t k_max_manifest_bytes = 64 * 1024;
constexpr std::uint64_t k_max_index_bytes = 64ULL << 20; // as index_source.cpp

// Removes a directory tree when it goes out of scope.
class TreeGuard {
public:
    explicit TreeGuard(std::filesystem::path p) : m_path(std::move(p)) {}
    TreeGuard(const TreeGuard&) = delete;
    TreeGuard& operator=(const TreeGuard&) = delete;
    ~TreeGuard() { (void)remove_tree(m_path); }

private:
    std::filesystem::path m_path;
};

// Cached index files, the one for `preferred_url` first, then the others newest first. The cache
// names a copy "index-<first 16 hex of SHA-256(url)>.json" (index_source.cpp).
std::vector<std::filesystem::path> cached_indexes(const std::filesystem::path& cache_dir, const std::string& preferred_url) {
    std::vector<std::pair<std::filesystem::file_time_type, std::filesystem::path>> found;
    std::error_code ec;
    for (const auto& e : std::filesystem::directory_iterator(cache_dir, ec)) {
        auto name = e.path().filename().string();
        if (!name.starts_with("index-") || !name.ends_with(".json")) continue;
        std::error_code ec2;
        found.emplace_back(std::filesystem::last_write_time(e.path(), ec2), e.path());
    }
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<std::filesystem::path> out;
    if (!preferred_url.empty()) {
        Sha256 h;
        h.update(std::string_view(preferred_url));
        out.push_back(cache_dir / ("index-" + h.hex_digest().substr(0, 16) + ".json"));
    }
    for (auto& [t, p] : found) {
        if (out.empty() || p != out.front()) out.push_back(p);
    }
    return out;
}

std::optional<ExpectedArchive> from_cached_index(const ArchiveInstallRequest& rq, const std::string& filename) {
    if (rq.cache_dir.empty()) return std::nullopt;
    for (const auto& path : cached_indexes(rq.cache_dir, rq.index_url)) {
        auto text = read_file(path, k_max_index_bytes);
        if (!text) continue;
        auto index = parse_index(*text, path.string());
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

bool spec_allows(const VersionSpec& spec, const Version& v) {
    switch (spec.kind) {
    case VersionSpec::Kind::latest: return true;
    case VersionSpec::Kind::exact: return spec.version == v;
    case VersionSpec::Kind::line: return same_line(spec.version, v);
    }
    return false;
}

bool installed_as(const Layout& layout, const std::string& name, const std::string& version) {
    auto dir = layout.prefix_mode() ? layout.toolchain_dir(name) : layout.root() / name;
    auto v = read_version_file(dir);
    std::error_code ec;
    return v && *v == version && std::filesystem::exists(dir / "bin", ec);
}

} // namespace

Result<ExpectedArchive> expected_for_archive(const ArchiveInstallRequest& rq) {
    const std::string filename = rq.archive.filename().string();
    const auto manifest_path = manifest_path_for(rq.archive);
    std::optional<ExpectedArchive> found;
    std::error_code ec;
    if (std::filesystem::exists(manifest_path, ec)) {
        auto text = read_file(manifest_path, k_max_manifest_bytes);
        if (!text) return std::unexpected(text.error());
        auto m = parse_manifest(*text, manifest_path.string());
        if (!m) {
            return std::unexpected(std::move(m.error()).with_context(
                "remove it or pass --sha256 HEX to install " + filename + " without it"));
        }
        found = ExpectedArchive{"the manifest " + manifest_path.string(), m->version, m->file, m->file.sha256};
    } else {
        found = from_cached_index(rq, filename);
    }
    const std::string given = to_lower(rq.sha256_override);
    if (found) {
        if (!given.empty() && given != found->sha256) {
            return fail(ErrorCode::checksum, "--sha256 " + given + " does not match " + found->source + ", which gives " +
                                                 found->sha256 + " for " + filename);
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

Result<InstallOutcome> install_archive(EventSink& events, const ArchiveInstallRequest& rq, const CancelToken* cancel) {
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
        Platform of_file{normalize_os(expected->file->os), goarch_of_index_arch(expected->file->arch)};
        if (rq.platform && !(normalize_os(rq.platform->os) == of_file.os && normalize_arch(rq.platform->arch) == of_file.arch)) {
            return fail(ErrorCode::usage, rq.archive.filename().string() + " is for " + of_file.os + "/" + of_file.arch +
                                              " (" + expected->source + "), not " + rq.platform->os + "/" + rq.platform->arch);
        }
        platform = of_file;
    }
    std::string version = expected->version;
    if (version.empty() && spec && spec->kind == VersionSpec::Kind::exact) version = spec->version.text;
    if (!version.empty() && spec) {
        auto v = parse_version(version);
        if (!v || !spec_allows(*spec, *v)) {
            return fail(ErrorCode::usage, rq.archive.filename().string() + " holds " + version + " (" + expected->source +
                                              "), not " + rq.spec);
        }
    }
    if (expected->file && expected->file->size != 0 && expected->file->size != static_cast<std::uint64_t>(st.st_size)) {
        return fail(ErrorCode::checksum, rq.archive.string() + " has " + std::to_string(st.st_size) + " bytes; " +
                                             expected->source + " says " + std::to_string(expected->file->size));
    }

    const Layout& layout = rq.layout;
    const bool host = platform == host_platform();
    const bool may_switch = rq.switch_current && host && !layout.prefix_mode();
    auto finish_existing = [&](const std::string& v) -> Result<InstallOutcome> {
        InstallOutcome out;
        out.version = v;
        out.already_installed = true;
        auto name = toolchain_name(v, platform);
        out.path = layout.prefix_mode() ? layout.toolchain_dir(name) : layout.root() / name;
        if (may_switch && current_version(layout) != v) {
            if (auto s = use_version(layout, v); !s) return std::unexpected(s.error());
            out.switched = true;
        }
        events.emit(Event{EventKind::already_installed, v + " is already installed in " + out.path.string()}
                        .with("version", v)
                        .with("path", out.path.string()));
        return out;
    };

    if (auto s = ensure_dir(layout.root()); !s) return std::unexpected(s.error());
    if (layout.prefix_mode()) {
        if (auto s = ensure_dir(layout.staging_parent()); !s) return std::unexpected(s.error());
    }
    auto lock = FileLock::acquire(layout.lock_path(), rq.lock_timeout, cancel, [&] {
        events.emit(Event{EventKind::info, "waiting for another goinstall to finish (" + layout.lock_path().string() + ")"});
    });
    if (!lock) return std::unexpected(lock.error());
    if (!version.empty() && !rq.reinstall && installed_as(layout, toolchain_name(version, platform), version)) {
        return finish_existing(version);
    }
    clean_leftovers(layout);

    auto actual = sha256_file(rq.archive, cancel);
    if (!actual) return std::unexpected(actual.error());
    if (auto s = check_sha256(rq.archive.filename().string(), expected->sha256, *actual); !s) {
        return std::unexpected(std::move(s.error()).with_context("verifying " + rq.archive.string() + " against " +
                                                                 expected->source));
    }
    events.emit(Event{EventKind::verified, "verified " + rq.archive.filename().string() + " against " + expected->source}
                    .with("sha256", *actual)
                    .with("source", expected->source));

    auto staging = make_unique_dir(layout.staging_parent(), ".goinstall-staging-");
    if (!staging) return std::unexpected(staging.error());
    TreeGuard staging_guard(*staging);
    ExtractOptions xo;
    xo.cancel = cancel;
    auto stats = extract_archive(rq.archive, *staging, xo);
    if (!stats) return std::unexpected(std::move(stats.error()).with_context("extracting " + rq.archive.string()));
    events.emit(Event{EventKind::extracted, "extracted " + std::to_string(stats->files) + " files (" +
                                                human_bytes(stats->bytes) + ")"}
                    .with("files", static_cast<std::int64_t>(stats->files))
                    .with("bytes", static_cast<std::int64_t>(stats->bytes)));
    auto staged_go = *staging / "go";
    if (version.empty()) {
        // Only --sha256 vouched for the file: the toolchain names its own version.
        auto v = read_version_file(staged_go);
        auto parsed = v ? parse_version(*v) : std::nullopt;
        if (!parsed) return fail(ErrorCode::toolchain_check, rq.archive.string() + " has no readable go/VERSION");
        if (spec && !spec_allows(*spec, *parsed)) {
            return fail(ErrorCode::usage, rq.archive.filename().string() + " holds " + *v + ", not " + rq.spec);
        }
        version = parsed->text;
        if (!rq.reinstall && installed_as(layout, toolchain_name(version, platform), version)) {
            return finish_existing(version);
        }
    }
    if (auto s = check_toolchain(staged_go, version, host); !s) return std::unexpected(s.error());
    if (cancel != nullptr && cancel->cancelled()) return fail(ErrorCode::cancelled, "cancelled before installing " + version);
    const std::string name = toolchain_name(version, platform);
    if (auto s = commit_toolchain(layout, staged_go, name); !s) return std::unexpected(s.error());

    InstallOutcome out;
    out.version = version;
    out.path = layout.toolchain_dir(name);
    out.sha256 = *actual;
    out.mirror = "local";
    events.emit(Event{EventKind::installed, "installed " + version + " in " + out.path.string()}
                    .with("version", version)
                    .with("path", out.path.string())
                    .with("sha256", out.sha256));
    if (may_switch) {
        if (auto s = use_version(layout, version); !s) return std::unexpected(s.error());
        out.switched = true;
        events.emit(Event{EventKind::switched, layout.current_link().string() + " → " + version}.with("version", version));
    }
    return out;
}

} // namespace goinstall
