// `goinstall mirror sync DIR --modules` (contract in mirror_modules.hpp, layout in mirror_sync.hpp).

#include "goinstall/core/mirror_modules.hpp"

#include <algorithm>
#include <optional>
#include <system_error>

#include "goinstall/base/strings.hpp"
#include "goinstall/core/module_zip.hpp"
#include "goinstall/fs/files.hpp"
#include "goinstall/sumdb/goproxy.hpp"
#include "goinstall/sumdb/toolchain_version.hpp"

namespace goinstall {

namespace fs = std::filesystem;

namespace {

const std::string k_module{sumdb::k_toolchain_module};
constexpr std::uint64_t k_max_state_bytes = 16ULL << 20;
constexpr std::uint64_t k_max_small_file = 1ULL << 20; // notes, lookups, tiles (a tile is at most 8 KiB)
// The .info Time when the proxy serves no .info (Go 1.21.0's release day, any valid time will do).
constexpr const char* k_fixed_time = "2023-08-08T00:00:00Z";
constexpr const char* k_gomod = "module golang.org/toolchain\n";

bool plain_name(std::string_view s) {
    if (s.empty() || s.front() == '.') return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' || c == '+' ||
               c == '~';
    });
}

std::optional<ModuleZipState> stat_zip(const fs::path& p) {
    auto st = regular_file_stat(p);
    if (!st) return std::nullopt;
    return ModuleZipState{"", st->size, st->mtime_ns};
}

// Copies src to dst through a temporary file beside dst and a rename.
Status copy_atomic(const fs::path& src, const fs::path& dst) {
    if (auto st = ensure_dir(dst.parent_path()); !st) return st;
    const fs::path tmp = dst.parent_path() / ("." + dst.filename().string() + ".tmp");
    std::error_code ec;
    fs::copy_file(src, tmp, fs::copy_options::overwrite_existing, ec);
    if (ec) return std::unexpected(errno_error(ec.value(), "copying to", tmp.string()));
    auto st = rename_path(tmp, dst, "renaming to");
    if (!st) fs::remove(tmp, ec);
    return st;
}

// Writes `content` unless dst already holds exactly it.
Status write_if_changed(const fs::path& dst, std::string_view content) {
    if (auto old = read_file(dst, k_max_small_file); old && *old == content) return {};
    if (auto st = ensure_dir(dst.parent_path()); !st) return st;
    return write_file_atomic(dst, content);
}

// The "Time" of an upstream .info, when it looks like an RFC 3339 time.
std::optional<std::string> info_time(std::string_view info) {
    auto key = info.find("\"Time\"");
    if (key == std::string_view::npos) return std::nullopt;
    auto open = info.find('"', info.find(':', key));
    if (open == std::string_view::npos) return std::nullopt;
    auto close = info.find('"', open + 1);
    if (close == std::string_view::npos) return std::nullopt;
    std::string t(info.substr(open + 1, close - open - 1));
    if (t.size() < 20 || t.size() > 40 || t.find_first_not_of("0123456789-:.TZ+") != std::string::npos)
        return std::nullopt;
    return t;
}

class ModuleTree {
public:
    ModuleTree(const fs::path& dir, EventSink& events, const CancelToken* cancel)
        : m_dir(dir), m_vdir(dir / "golang.org" / "toolchain" / "@v"), m_events(events), m_cancel(cancel) {
        if (auto text = read_file(m_dir / k_module_state_name, k_max_state_bytes)) m_state = parse_module_state(*text);
    }
    const fs::path& vdir() const { return m_vdir; }
    fs::path zip(const std::string& v) const { return m_vdir / (v + ".zip"); }

    // Whether the zip for v is there with hash h1 (the state when size and mtime are unchanged).
    Result<bool> has(const std::string& v, const std::string& h1) {
        auto now = stat_zip(zip(v));
        if (!now) return false;
        if (auto it = m_state.find(v);
            it != m_state.end() && it->second.size == now->size && it->second.mtime_ns == now->mtime_ns) {
            return it->second.h1 == h1;
        }
        m_events.emit(Event{EventKind::info, "verifying " + v + ".zip (" + human_bytes(now->size) + ")"});
        auto got = module_zip_h1(zip(v), k_module, v, m_cancel);
        if (!got) {
            if (got.error().code() == ErrorCode::cancelled) return std::unexpected(got.error());
            return false; // not a valid module zip: fetched again
        }
        if (*got != h1) return false;
        return record(v, h1);
    }

    Result<bool> record(const std::string& v, const std::string& h1) {
        auto now = stat_zip(zip(v));
        if (!now) return false;
        now->h1 = h1;
        m_state[v] = *now;
        if (auto st = write_file_atomic(m_dir / k_module_state_name, format_module_state(m_state)); !st) {
            return std::unexpected(st.error());
        }
        return true;
    }

    // @v/list: every version whose .zip, .mod and .info are present.
    Result<std::size_t> write_list() {
        std::vector<std::string> versions;
        std::error_code ec;
        for (fs::directory_iterator it(m_vdir, ec), end; !ec && it != end; it.increment(ec)) {
            const std::string name = it->path().filename().string();
            if (!name.ends_with(".zip") || name.starts_with(".")) continue;
            const std::string v = name.substr(0, name.size() - 4);
            if (fs::is_regular_file(m_vdir / (v + ".mod"), ec) && fs::is_regular_file(m_vdir / (v + ".info"), ec)) {
                versions.push_back(v);
            }
        }
        std::sort(versions.begin(), versions.end());
        std::string text;
        for (const auto& v : versions) text += v + "\n";
        if (auto st = write_if_changed(m_vdir / "list", text); !st) return std::unexpected(st.error());
        return versions.size();
    }

private:
    fs::path m_dir, m_vdir;
    EventSink& m_events;
    const CancelToken* m_cancel;
    ModuleState m_state;
};

// Fetches the zip through the route into the staging directory and moves it into place.
Result<std::uint64_t> fetch_zip(GoproxyRoute& route, const Artifact& artifact, ModuleTree& tree,
                                const fs::path& staging, const std::string& v, const CancelToken* cancel) {
    if (auto st = ensure_dir(staging); !st) return std::unexpected(st.error());
    auto got = route.fetch(artifact, staging, nullptr, cancel);
    if (!got) return std::unexpected(got.error());
    auto drop = [&] {
        std::error_code ec;
        if (got->owned) fs::remove(got->path, ec);
    };
    if (got->h1 != artifact.h1) { // the route computed it; the database's record is what counts
        drop();
        return fail(ErrorCode::checksum, got->server + " served " + v + ".zip with " + got->h1 +
                                             ", but the checksum "
                                             "database records " +
                                             artifact.h1);
    }
    if (auto st = ensure_dir(tree.vdir()); !st) return std::unexpected(st.error());
    fs::path ready = got->path;
    if (!got->owned) {
        // A file:// proxy's own zip: copied, and the copy checked (the original may change meanwhile).
        ready = staging / (v + ".zip");
        if (auto st = copy_atomic(got->path, ready); !st) return std::unexpected(st.error());
        auto h1 = module_zip_h1(ready, k_module, v, cancel);
        if (!h1 || *h1 != artifact.h1) {
            std::error_code ec;
            fs::remove(ready, ec);
            if (!h1) return std::unexpected(h1.error());
            return fail(ErrorCode::checksum, got->server + "'s " + v + ".zip changed while it was copied");
        }
    }
    if (auto st = rename_path(ready, tree.zip(v), "renaming to"); !st) {
        std::error_code ec;
        fs::remove(ready, ec);
        return std::unexpected(st.error());
    }
    return got->bytes_transferred;
}

// DIR/sumdb/<name>: supported, latest, the synced versions' lookups and every cached (verified) tile.
Result<std::size_t> mirror_sumdb(const fs::path& dir, const GoproxyRouteOptions& options,
                                 const std::vector<SyncedModule>& modules) {
    const std::string& name = options.gosumdb.key.name;
    const fs::path cache = options.sumdb_cache_dir / name;
    const fs::path out = dir / "sumdb" / name;
    if (auto st = write_if_changed(out / "supported", ""); !st) return std::unexpected(st.error());
    std::size_t count = 0;
    auto copy_small = [&](const fs::path& rel) -> Status {
        auto text = read_file(cache / rel, k_max_small_file);
        if (!text) return {}; // not cached (nothing to serve)
        ++count;
        return write_if_changed(out / rel, *text);
    };
    if (auto st = copy_small("latest"); !st) return std::unexpected(st.error());
    for (const auto& m : modules) {
        if (auto st = copy_small(fs::path("lookup") / (k_module + "@" + m.module_version)); !st) {
            return std::unexpected(st.error());
        }
    }
    std::error_code ec;
    const fs::path tiles = cache / "tile";
    if (!fs::is_directory(tiles, ec)) return count;
    for (fs::recursive_directory_iterator it(tiles, ec), end; !ec && it != end; it.increment(ec)) {
        if (!it->is_regular_file(ec)) continue;
        const fs::path rel = fs::relative(it->path(), cache, ec);
        if (ec || rel.empty()) continue;
        bool sane = true;
        for (const auto& part : rel) sane = sane && !part.string().starts_with(".");
        if (!sane) continue; // a temporary file of a concurrent write
        if (auto st = copy_small(rel); !st) return std::unexpected(st.error());
    }
    if (ec) return std::unexpected(errno_error(ec.value(), "reading", tiles.string()));
    return count;
}

} // namespace

ModuleState parse_module_state(std::string_view text) {
    ModuleState out;
    for (const auto& line : split(text, '\n')) {
        if (line.empty() || line.front() == '#') continue;
        auto parts = split(line, ' ');
        if (parts.size() != 4) continue;
        auto size = parse_u64(parts[1]);
        auto mtime = parse_u64(parts[2]);
        if (!is_h1_hash(parts[0]) || !size || !mtime || *mtime > static_cast<std::uint64_t>(INT64_MAX) ||
            !plain_name(parts[3])) {
            continue;
        }
        out[parts[3]] = ModuleZipState{parts[0], *size, static_cast<std::int64_t>(*mtime)};
    }
    return out;
}

std::string format_module_state(const ModuleState& state) {
    std::string out = "# goinstall module mirror state v1: h1 size mtime_ns version\n";
    for (const auto& [v, s] : state) {
        if (!plain_name(v) || !is_h1_hash(s.h1) || s.mtime_ns < 0) continue;
        out += s.h1 + " " + std::to_string(s.size) + " " + std::to_string(s.mtime_ns) + " " + v + "\n";
    }
    return out;
}

Result<ModuleSyncOutcome> sync_module_mirror(Transport& transport, Clock& clock, EventSink& events, const fs::path& dir,
                                             const std::vector<ModuleMirrorItem>& items,
                                             const GoproxyRouteOptions& options, const CancelToken* cancel) {
    if (options.gosumdb.off) {
        return fail(ErrorCode::usage, "--modules needs the checksum database (GOSUMDB=off): a module mirror serves "
                                      "only zips the database vouches for");
    }
    ModuleTree tree(dir, events, cancel);
    const fs::path staging = dir / ".goinstall-modules-tmp";
    ModuleSyncOutcome out;
    GoproxyRouteOptions base = options;
    base.sha256_override.clear();
    if (base.gosumdb.key.name.empty()) { // default-constructed: sum.golang.org, as the route does
        auto d = sumdb::parse_gosumdb("");
        if (!d) return std::unexpected(d.error());
        base.gosumdb = std::move(*d);
    }
    out.sumdb_name = base.gosumdb.key.name;
    for (const auto& item : items) {
        GoproxyRouteOptions o = base;
        o.spec = item.go_version;
        o.platform = item.platform;
        GoproxyRoute route(transport, clock, events, o);
        auto artifact = route.resolve(cancel);
        if (!artifact) return std::unexpected(artifact.error());
        const std::string v = route.module_version();
        SyncedModule sm{v, artifact->h1, false, 0};
        auto present = tree.has(v, artifact->h1);
        if (!present) return std::unexpected(present.error());
        if (!*present) {
            auto got = fetch_zip(route, *artifact, tree, staging, v, cancel);
            if (!got) return std::unexpected(std::move(got.error()).with_context("mirroring " + k_module + "@" + v));
            if (auto rec = tree.record(v, artifact->h1); !rec) return std::unexpected(rec.error());
            sm.downloaded = true;
            sm.bytes = *got;
        } else {
            events.emit(
                Event{EventKind::already_installed, k_module + "@" + v + " is already in the mirror (verified)"}.with(
                    "module", k_module + "@" + v));
        }
        if (auto st = write_if_changed(tree.vdir() / (v + ".mod"), k_gomod); !st) return std::unexpected(st.error());
        const fs::path info = tree.vdir() / (v + ".info");
        std::error_code ec;
        if (sm.downloaded || !fs::is_regular_file(info, ec)) {
            sumdb::GoproxyOptions po = o.proxy;
            po.cancel = cancel;
            sumdb::GoproxyClient client(transport, o.goproxy, po);
            std::string time = k_fixed_time;
            if (auto doc = client.info(k_module, v); doc) {
                if (auto t = info_time(doc->body)) time = *t;
            }
            if (auto st = write_if_changed(info, R"({"Version":")" + v + R"(","Time":")" + time + R"("})"); !st) {
                return std::unexpected(st.error());
            }
        }
        out.modules.push_back(sm);
    }
    auto listed = tree.write_list();
    if (!listed) return std::unexpected(listed.error());
    out.listed = *listed;
    if (!out.modules.empty()) {
        auto copied = mirror_sumdb(dir, base, out.modules);
        if (!copied) return std::unexpected(copied.error());
        out.sumdb_files = *copied;
    }
    return out;
}

} // namespace goinstall
