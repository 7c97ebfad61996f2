// The module proxy route (contract in goproxy_route.hpp).

#include "goinstall/core/goproxy_route.hpp"

#include <ranges>

#include <system_error>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/core/module_zip.hpp"
#include "goinstall/download/downloader.hpp"
#include "goinstall/fs/file_lock.hpp"
#include "goinstall/fs/files.hpp"
#include "goinstall/release/resolve.hpp"
#include "goinstall/release/version_spec.hpp"
#include "goinstall/sumdb/module_zip.hpp"
#include "goinstall/sumdb/remote.hpp"
#include "goinstall/sumdb/toolchain_version.hpp"
#include "goinstall/verify/sha256.hpp"

namespace goinstall {

namespace {

const std::string k_module{sumdb::k_toolchain_module};

std::string platform_text(const Platform& p) { return p.os + "/" + p.arch; }

} // namespace

std::string toolchain_go_name(const Version& v) {
    Version canonical = v;
    canonical.text.clear();
    return to_string(canonical);
}

GoproxyRoute::GoproxyRoute(Transport& transport, Clock& clock, EventSink& events, GoproxyRouteOptions options)
    : m_transport(transport), m_clock(clock), m_events(events), m_options(std::move(options)) {
    m_options.platform = Platform{normalize_os(m_options.platform.os), normalize_arch(m_options.platform.arch)};
    if (m_options.goproxy.empty()) {
        if (auto d = sumdb::parse_goproxy(""); d) m_options.goproxy = std::move(*d);
    }
    if (!m_options.gosumdb.off && m_options.gosumdb.key.name.empty()) {
        if (auto d = sumdb::parse_gosumdb(""); d) m_options.gosumdb = std::move(*d);
    }
}

// The Go version the spec means for this platform: exact as given, else from @v/list.
Result<std::string> GoproxyRoute::resolve_version(const CancelToken* cancel) {
    auto spec = parse_version_spec(m_options.spec.empty() ? "latest" : m_options.spec);
    if (!spec) return std::unexpected(spec.error());
    if (spec->kind == VersionSpec::Kind::exact) return toolchain_go_name(spec->version);

    sumdb::GoproxyOptions po = m_options.proxy;
    po.cancel = cancel;
    sumdb::GoproxyClient client(m_transport, m_options.goproxy, po);
    auto listed = client.list(k_module);
    if (!listed) return std::unexpected(listed.error());
    m_tried.insert(m_tried.end(), listed->tried.begin(), listed->tried.end());
    const Platform& p = m_options.platform;
    auto versions = sumdb::toolchain_versions_from_list(listed->body, p.os, p.arch);
    const std::string where = "the " + k_module + " versions " + listed->proxy + " lists for " + platform_text(p);
    if (versions.empty()) return fail(ErrorCode::not_found, "no toolchain for " + platform_text(p) + " in " + where);
    ReleaseIndex index;
    for (const auto& v : std::ranges::reverse_view(versions)) index.releases.push_back(Release{v, v.is_stable(), {}});
    auto release = goinstall::resolve(index, *spec, false);
    if (!release)
        return std::unexpected(std::move(release.error()).with_context("resolving " + spec->text + " from " + where));
    // The checksum database proves a version's bytes, not that it is the newest: a proxy could
    // leave newer versions out of its list (security review). Say where the choice came from.
    m_events.emit(Event{EventKind::info, spec->text + " resolved to " + toolchain_go_name((*release)->version) +
                                             " from " + where +
                                             " (a list the checksum database does not vouch for; give an exact "
                                             "version to pin it)"}
                      .with("proxy", listed->proxy));
    return toolchain_go_name((*release)->version);
}

Result<sumdb::SumdbLookup> GoproxyRoute::look_up(const CancelToken* cancel) {
    const auto& setting = m_options.gosumdb;
    const std::string& name = setting.key.name;
    if (m_options.sumdb_cache_dir.empty()) {
        return fail(ErrorCode::usage, "no cache directory for the checksum database " + name);
    }
    sumdb::GoproxyOptions po = m_options.proxy;
    po.cancel = cancel;
    auto base = sumdb::select_sumdb_base(m_transport, m_options.goproxy, setting, po);
    if (!base) return std::unexpected(base.error());
    m_tried.insert(m_tried.end(), base->tried.begin(), base->tried.end());
    m_sumdb_url = base->url;
    if (!base->via.empty()) {
        m_events.emit(Event{EventKind::info, "checksum database " + name + " through " + base->via}
                          .with("sumdb", name)
                          .with("proxy", base->via));
    }
    if (auto st = ensure_dir(m_options.sumdb_cache_dir); !st) return std::unexpected(st.error());
    std::string lock_name = name; // "host/path" names: one flat lock file beside the cache
    for (char& c : lock_name) c = c == '/' ? '_' : c;
    auto lock =
        FileLock::acquire(m_options.sumdb_cache_dir / (lock_name + ".lock"), m_options.sumdb_lock_timeout, cancel, [&] {
            m_events.emit(Event{EventKind::info, "waiting for another goinstall using the "
                                                 "checksum database cache"});
        });
    if (!lock) return std::unexpected(lock.error());
    sumdb::TransportSumdbFetcher fetcher(m_transport, base->url, po.limits, cancel);
    sumdb::SumdbClient client(fetcher, sumdb::SumdbClientOptions{setting.key, m_options.sumdb_cache_dir / name});
    auto found = client.lookup_toolchain(m_module_version);
    if (!found) {
        TriedSource t{"sumdb", name, redact_url(base->url), found.error().describe()};
        if (found.error().code() == ErrorCode::not_found) {
            return std::unexpected(Error(ErrorCode::not_found, k_module + "@" + m_module_version +
                                                                   " is not in the checksum database " + name +
                                                                   " (no such toolchain for " +
                                                                   platform_text(m_options.platform) + ")")
                                       .with_tried({t}));
        }
        return std::unexpected(std::move(found.error()).with_tried({t}));
    }
    return *found;
}

Result<Artifact> GoproxyRoute::resolve(const CancelToken* cancel) {
    m_tried.clear();
    m_lookup.reset();
    m_sumdb_url.clear();
    if (m_options.goproxy.empty() || m_options.goproxy.front().kind == sumdb::ProxyEntry::Kind::off) {
        return fail(ErrorCode::usage, "module lookup disabled by GOPROXY=off: no proxy to fetch " + k_module + " from");
    }
    auto go_name = resolve_version(cancel);
    if (!go_name) return std::unexpected(go_name.error());
    auto go = parse_version(*go_name);
    if (!go) return fail(ErrorCode::internal, "unparsable Go version " + *go_name);
    go->text = *go_name;
    const Platform& p = m_options.platform;
    m_module_version = sumdb::toolchain_module_version(*go, p.os, p.arch);
    const std::string spec_text = m_options.spec.empty() ? "latest" : m_options.spec;
    m_events.emit(Event{EventKind::resolved, "resolved " + spec_text + " to " + *go_name}
                      .with("spec", spec_text)
                      .with("version", *go_name)
                      .with("module", k_module + "@" + m_module_version));

    std::string db_h1, authority;
    if (!m_options.gosumdb.off) {
        auto found = look_up(cancel);
        if (!found) return std::unexpected(std::move(found.error()).with_tried(m_tried));
        m_lookup = std::move(*found);
        db_h1 = m_lookup->hashes.zip;
        authority = "the checksum database " + m_options.gosumdb.key.name + " (tree " +
                    std::to_string(m_lookup->tree.size) + ")";
    }
    const std::string what = k_module + "@" + m_module_version;
    auto digest = module_zip_digest(db_h1, authority, m_options.sha256_override, what);
    if (!digest) return std::unexpected(digest.error());

    Artifact a;
    a.version = *go_name;
    a.platform = p;
    a.filename = m_module_version + ".zip";
    a.sha256 = digest->sha256;
    a.h1 = digest->h1;
    a.module_prefix = what;
    a.provenance.route = "goproxy";
    a.provenance.authority = digest->authority;
    return a;
}

// One proxy's zip: in place from a file:// tree, else downloaded (resumable) into `dir`.
Result<Fetched> GoproxyRoute::fetch_from(const sumdb::ProxyEntry& proxy, const std::filesystem::path& dir,
                                         const CancelToken* cancel) {
    const std::string base = sumdb::proxy_base(proxy, m_options.proxy);
    const std::string shown = sumdb::proxy_display(proxy, m_options.proxy);
    auto url = sumdb::module_file_url(base, k_module, m_module_version, ".zip");
    if (!url) return std::unexpected(url.error());
    Fetched out;
    out.server = shown;
    if (auto path = sumdb::file_url_path(*url)) {
        std::error_code ec;
        if (!std::filesystem::is_regular_file(*path, ec)) {
            return std::unexpected(Error(ErrorCode::not_found, redact_url(*url) + " does not exist")
                                       .with_net(NetDetail{.http_status = 404, .url = redact_url(*url)}));
        }
        auto sha = sha256_file(*path, cancel);
        if (!sha) return std::unexpected(sha.error());
        out.path = *path;
        out.sha256 = *sha;
        out.owned = false; // the proxy tree's own file
        return out;
    }
    DownloadOptions options = m_options.download;
    const auto slash = url->rfind('/');
    const std::string filename = url->substr(slash + 1); // the escaped "<version>.zip"
    options.mirrors = {Mirror{shown, url->substr(0, slash + 1)}};
    options.observer = nullptr;
    options.rank_mirrors = false;
    options.connections = 1;
    options.head_start = std::chrono::milliseconds(0);
    if (options.limits.max_body_bytes == 0 || options.limits.max_body_bytes > sumdb::k_max_module_zip) {
        options.limits.max_body_bytes = sumdb::k_max_module_zip;
    }
    Downloader downloader(m_transport, m_clock, m_events);
    std::vector<Attempt> attempts;
    DownloadTarget target{filename, "", 0};
    target.compute_only = true;
    auto got = downloader.download(target, dir, options, cancel, &attempts);
    if (!got) return std::unexpected(got.error());
    out.path = got->path;
    out.sha256 = got->sha256;
    out.bytes_transferred = got->bytes_transferred;
    out.attempts = std::move(attempts);
    return out;
}

Result<Fetched> GoproxyRoute::fetch(const Artifact& artifact, const std::filesystem::path& dir,
                                    PartObserver* /*observer*/, const CancelToken* cancel) {
    auto mod = split_module_prefix(artifact.module_prefix);
    if (!mod) return std::unexpected(mod.error());
    if (m_module_version.empty()) m_module_version = mod->second;
    sumdb::GoproxyOptions po = m_options.proxy;
    po.cancel = cancel;
    Fetched fetched;
    std::vector<Attempt> all_attempts;
    const sumdb::ProxyEntry* served = nullptr;
    auto tried = sumdb::try_proxies(m_options.goproxy, po, [&](const sumdb::ProxyEntry& p) -> Status {
        auto got = fetch_from(p, dir, cancel);
        if (!got) return std::unexpected(got.error());
        fetched = std::move(*got);
        served = &p;
        return {};
    });
    if (!served) {
        return std::unexpected(std::move(*tried.error)
                                   .with_context("fetching " + artifact.module_prefix + ".zip (GOPROXY)")
                                   .with_tried(tried.tried));
    }
    // A file this route downloaded and will not hand over is removed (a resumed .part is already gone).
    auto drop = [&](const Fetched& f) {
        std::error_code ec;
        if (f.owned && !f.path.empty()) std::filesystem::remove(f.path, ec);
    };
    auto hash = [&](Fetched& f) -> Status {
        auto h1 = module_zip_h1(f.path, mod->first, mod->second, cancel);
        if (!h1) {
            drop(f);
            return std::unexpected(std::move(h1.error()).with_context(f.server + " served " + artifact.filename));
        }
        f.h1 = *h1;
        return {};
    };
    auto hashed = hash(fetched);
    bool resumed = false;
    for (const auto& a : fetched.attempts) resumed = resumed || a.resumed_from > 0;
    if (resumed && (!hashed || (!artifact.h1.empty() && fetched.h1 != artifact.h1))) {
        // The kept bytes of an earlier run may be the bad ones: once more from zero, same proxy.
        m_events.emit(Event{EventKind::retry, "the resumed " + artifact.filename + " does not verify (" +
                                                  (hashed ? "checksum mismatch" : hashed.error().message()) +
                                                  "); downloading it again from the start"}
                          .with("mirror", fetched.server));
        drop(fetched);
        auto again = fetch_from(*served, dir, cancel);
        if (!again) return std::unexpected(std::move(again.error()).with_tried(tried.tried));
        again->attempts.insert(again->attempts.begin(), fetched.attempts.begin(), fetched.attempts.end());
        fetched = std::move(*again);
        hashed = hash(fetched);
    }
    if (!hashed) return std::unexpected(std::move(hashed.error()).with_tried(tried.tried));
    return fetched;
}

} // namespace goinstall
