#include "goinstall/release/index_source.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/fs/files.hpp"
#include "goinstall/verify/sha256.hpp"

namespace goinstall {

namespace {

struct CacheFiles {
    std::filesystem::path body, meta;
};

// The cache names a copy "index-<first 16 hex of SHA-256(url)>.json", its metadata ".meta".
CacheFiles cache_files(const std::filesystem::path& dir, const std::string& url) {
    Sha256 h;
    h.update(std::string_view(url));
    auto key = h.hex_digest().substr(0, 16);
    return {dir / ("index-" + key + ".json"), dir / ("index-" + key + ".meta")};
}

struct CacheMeta {
    std::string etag, last_modified;
    std::int64_t fetched_at = 0; // unix seconds
};

CacheMeta read_meta(const std::filesystem::path& p) {
    CacheMeta m;
    auto text = read_file(p, 16 * 1024);
    if (!text) return m;
    for (const auto& line : split(*text, '\n')) {
        auto eq = line.find('=');
        if (eq == std::string::npos) continue;
        auto k = line.substr(0, eq), v = line.substr(eq + 1);
        if (k == "etag")
            m.etag = v;
        else if (k == "last_modified")
            m.last_modified = v;
        else if (k == "fetched_at")
            m.fetched_at = static_cast<std::int64_t>(parse_u64(v).value_or(0));
    }
    return m;
}

Status write_meta(const std::filesystem::path& p, const CacheMeta& m) {
    auto clean = [](std::string s) {
        std::erase_if(s, [](char c) { return c == '\n' || c == '\r'; });
        return s;
    };
    return write_file_atomic(p, "etag=" + clean(m.etag) + "\nlast_modified=" + clean(m.last_modified) +
                                    "\nfetched_at=" + std::to_string(m.fetched_at) + "\n");
}

std::int64_t unix_now(Clock& clock) {
    return std::chrono::duration_cast<std::chrono::seconds>(clock.wall_now().time_since_epoch()).count();
}

bool is_local(const std::string& url) { return url.find("://") == std::string::npos || url.starts_with("file://"); }

Result<IndexResult> from_cache(const CacheFiles& files, const IndexOptions& o, Clock& clock) {
    auto parsed = read_index_file(files.body, o.url);
    if (!parsed) {
        return std::unexpected(parsed.error());
    }
    auto meta = read_meta(files.meta);
    IndexResult r{std::move(*parsed), redact_url(o.url), true,
                  std::chrono::seconds(std::max<std::int64_t>(0, unix_now(clock) - meta.fetched_at))};
    return r;
}

} // namespace

Result<ReleaseIndex> read_index_file(const std::filesystem::path& path, std::string_view source) {
    auto text = read_file(path, k_max_index_bytes);
    if (!text) return std::unexpected(text.error());
    return parse_index(*text, source);
}

std::vector<std::filesystem::path> cached_index_files(const std::filesystem::path& cache_dir,
                                                      const std::string& preferred_url) {
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
    if (!preferred_url.empty()) out.push_back(cache_files(cache_dir, preferred_url).body);
    for (auto& [t, p] : found) {
        if (out.empty() || p != out.front()) out.push_back(p);
    }
    return out;
}

std::string describe_age(std::chrono::seconds age) {
    auto s = age.count();
    if (s < 120) return std::to_string(s) + " s";
    if (s < 7200) return std::to_string(s / 60) + " min";
    if (s < 2 * 86400) return std::to_string(s / 3600) + " h";
    return std::to_string(s / 86400) + " days";
}

Result<IndexResult> load_index(Transport& transport, Clock& clock, EventSink& events, const IndexOptions& o,
                               const CancelToken* cancel) {
    const std::string shown = redact_url(o.url);
    if (is_local(o.url)) {
        std::string path = o.url.starts_with("file://") ? o.url.substr(7) : o.url;
        auto body = read_file(path, k_max_index_bytes);
        if (!body) {
            return std::unexpected(std::move(body.error()).with_context("reading the release index"));
        }
        auto parsed = parse_index(*body, o.url);
        if (!parsed) {
            return std::unexpected(parsed.error());
        }
        events.emit(
            Event{EventKind::index_source, "release index: " + path}.with("source", path).with("cached", false));
        return IndexResult{std::move(*parsed), path, false, {}};
    }
    auto url = parse_url(o.url);
    if (!url) {
        return std::unexpected(std::move(url.error()).with_context("--index-url"));
    }
    if (url->scheme == "http" && !o.allow_insecure) {
        return fail(ErrorCode::usage, "refusing to fetch the release index over plain HTTP (" + shown +
                                          "): it is the root of trust for every checksum; use https, a file, "
                                          "or pass --allow-insecure-index");
    }
    if (url->scheme != "http" && url->scheme != "https") {
        return fail(ErrorCode::usage, "unsupported index URL scheme '" + url->scheme + "' in " + shown);
    }
    if (url->scheme == "http") {
        events.emit(Event{EventKind::warning, "fetching the release index over plain HTTP (--allow-insecure-index): "
                                              "checksums are only as trustworthy as this connection"});
    }

    const bool use_cache = !o.cache_dir.empty();
    CacheFiles files;
    CacheMeta meta;
    bool have_cache = false;
    if (use_cache) {
        remove_orphaned_temps(o.cache_dir); // a cache write cut short by a kill
        files = cache_files(o.cache_dir, o.url);
        meta = read_meta(files.meta);
        struct stat st {};
        have_cache = ::stat(files.body.c_str(), &st) == 0;
    }
    auto use_cached = [&](const std::optional<Error>& why) -> Result<IndexResult> {
        auto r = from_cache(files, o, clock);
        if (!r) {
            return why ? std::unexpected(*why) : std::unexpected(r.error());
        }
        std::string msg = "using the cached release index from " + describe_age(r->cache_age) + " ago";
        if (why) {
            msg += " (" + why->describe() + ")";
        }
        events.emit(Event{why ? EventKind::warning : EventKind::index_source, msg}
                        .with("source", shown)
                        .with("cached", true)
                        .with("age_seconds", static_cast<std::int64_t>(r->cache_age.count())));
        return r;
    };
    if (o.offline) {
        if (!have_cache) {
            return fail(ErrorCode::network, "--offline: no cached release index for " + shown);
        }
        return use_cached(std::nullopt);
    }

    // The primary source, then each fallback (go.dev → golang.google.cn); the first good answer wins.
    std::vector<std::string> sources{o.url};
    sources.insert(sources.end(), o.fallback_urls.begin(), o.fallback_urls.end());
    std::optional<Error> failure;
    std::vector<TriedSource> tried; // the attempt log, carried by the error
    for (std::size_t si = 0; si < sources.size(); ++si) {
        const std::string& src = sources[si];
        const std::string src_shown = redact_url(src);
        if (si > 0) {
            auto u = parse_url(src);
            if (!u || u->scheme != "https") continue; // fallbacks must be https
            events.emit(Event{EventKind::warning,
                              "release index from " + redact_url(sources[si - 1]) + " failed; trying " + src_shown}
                            .with("source", src_shown));
        }
        Request req{.url = src, .allow_compression = true, .secure_only = !o.allow_insecure, .limits = o.limits};
        if (req.limits.total_timeout.count() == 0) {
            req.limits.total_timeout = std::chrono::seconds(120);
        }
        req.limits.max_body_bytes = k_max_index_bytes;
        if (have_cache) {
            if (!meta.etag.empty()) req.headers.emplace_back("If-None-Match", meta.etag);
            if (!meta.last_modified.empty()) req.headers.emplace_back("If-Modified-Since", meta.last_modified);
        }
        StringSink sink;
        auto resp = transport.fetch(req, sink, cancel);
        std::optional<Error> this_failure;
        if (!resp) {
            this_failure = resp.error();
            if (this_failure->code() == ErrorCode::cancelled) {
                return std::unexpected(*this_failure);
            }
        } else if (resp->status == 304 && have_cache) {
            meta.fetched_at = unix_now(clock);
            (void)write_meta(files.meta, meta);
            auto r = from_cache(files, o, clock);
            if (r) {
                events.emit(
                    Event{EventKind::index_source, "release index: " + src_shown + " (not modified; cached copy)"}
                        .with("source", src_shown)
                        .with("cached", true)
                        .with("age_seconds", std::int64_t{0}));
                r->cache_age = std::chrono::seconds(0);
                r->source = src_shown;
                return r;
            }
            this_failure = r.error();
        } else if (!resp->ok()) {
            this_failure =
                Error(ErrorCode::network, src_shown + " answered HTTP " + std::to_string(resp->status))
                    .with_net(NetDetail{.phase = NetPhase::http, .http_status = resp->status, .url = src_shown});
        } else {
            auto parsed = parse_index(sink.body(), src);
            if (parsed) {
                if (use_cache) {
                    // The cache only saves a later fetch: failing to write it is worth a warning, not
                    // the install (an unwritable or full cache directory).
                    Status st = ensure_dir(o.cache_dir);
                    if (st) st = write_file_atomic(files.body, sink.body());
                    if (st)
                        st = write_meta(files.meta, CacheMeta{resp->header("etag"), resp->header("last-modified"),
                                                              unix_now(clock)});
                    if (!st) {
                        events.emit(Event{EventKind::warning, "cannot cache the release index (" +
                                                                  st.error().message() +
                                                                  "); continuing without the cache"}
                                        .with("cache_dir", o.cache_dir.string()));
                    }
                }
                events.emit(Event{EventKind::index_source, "release index: " + src_shown}
                                .with("source", src_shown)
                                .with("cached", false));
                return IndexResult{std::move(*parsed), src_shown, false, {}};
            }
            this_failure = parsed.error();
        }
        tried.push_back(TriedSource{"index", si == 0 ? "index" : "index (fallback)", src_shown,
                                    this_failure ? this_failure->message() : ""});
        if (!failure) {
            failure = this_failure; // the primary source's failure is the one to report
        }
    }
    if (have_cache) {
        return use_cached(failure);
    }
    return std::unexpected(std::move(*failure).with_context("fetching the release index").with_tried(std::move(tried)));
}

} // namespace goinstall
