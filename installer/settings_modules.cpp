// The module-proxy route's settings (GOPROXY, GOSUMDB, --via) and the options they make.
#include <filesystem>
#include <string_view>

#include "goinstall/base/strings.hpp"
#include "goinstall/fs/files.hpp"
#include "goinstall/platform/paths.hpp"
#include "settings.hpp"
#include "settings_sources.hpp"

namespace goinstall::cli {

namespace settings_detail {

namespace {

// The go command's own settings file, written by `go env -w` (golang/go src/cmd/go/internal/cfg:
// $GOENV, else os.UserConfigDir()/go/env; GOENV=off means none). Lines are KEY=VALUE.
std::optional<std::pair<std::string, std::filesystem::path>> go_env_file_value(const Env& env, std::string_view key) {
    std::filesystem::path file;
    if (auto g = env.get("GOENV"); g && !g->empty()) {
        if (*g == "off") return std::nullopt;
        file = *g;
    } else if (auto dir = default_config_dir(env)) {
        file = dir->parent_path() / "go" / "env"; // default_config_dir is <UserConfigDir>/goinstall
    } else {
        return std::nullopt;
    }
    auto text = read_file(file, 1 << 16);
    if (!text) return std::nullopt; // missing or unreadable: the go command ignores it too
    for (auto line : split(*text, '\n')) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        auto eq = line.find('=');
        if (eq != std::string::npos && line.substr(0, eq) == key) {
            return std::pair<std::string, std::filesystem::path>{line.substr(eq + 1), file};
        }
    }
    return std::nullopt;
}

} // namespace

Status resolve_module_route(Sources& src, const Env& env, Settings& s) {
    ModuleRouteSettings& m = s.modules;
    auto pick_go = [&](const char* key, const char* var, const char* hint) -> std::optional<Picked> {
        if (auto p = src.pick(key, hint)) return p;
        if (auto v = go_env_file_value(env, var)) {
            s.origins[key] = SettingOrigin{SettingOrigin::Source::file, v->second.string()};
            return Picked{v->first, v->second.string() + ": " + var, SettingOrigin::Source::file};
        }
        return std::nullopt;
    };
    auto proxy = pick_go("goproxy", "GOPROXY", "the go command's default");
    m.goproxy = proxy ? proxy->text : std::string();
    auto proxies = sumdb::parse_goproxy(m.goproxy);
    // The parser's messages name the variable; a flag or file that gave the value is named first.
    auto named = [](const std::optional<Picked>& p, const char* var, const Error& e) {
        return fail(ErrorCode::usage, (p && p->name != var ? p->name + ": " : std::string()) + e.message());
    };
    if (!proxies) return named(proxy, "GOPROXY", proxies.error());
    m.proxies = std::move(*proxies);
    auto db = pick_go("gosumdb", "GOSUMDB", "sum.golang.org");
    m.gosumdb = db ? db->text : std::string();
    auto parsed = sumdb::parse_gosumdb(m.gosumdb);
    if (!parsed) return named(db, "GOSUMDB", parsed.error());
    m.sumdb = std::move(*parsed);
    if (auto via = src.pick("via", "auto")) {
        const auto v = to_lower(trim(via->text));
        if (v == "auto") {
            m.via = ModuleRouteSettings::Via::automatic;
        } else if (v == "goproxy") {
            m.via = ModuleRouteSettings::Via::goproxy;
        } else if (v == "index") {
            m.via = ModuleRouteSettings::Via::index;
        } else {
            return fail(ErrorCode::usage, via->name + ": '" + sanitize_for_display(via->text, 20) +
                                              "' is not a route (auto, goproxy or index)");
        }
    }
    return {};
}

} // namespace settings_detail

const char* to_string(ModuleRouteSettings::Via via) {
    switch (via) {
    case ModuleRouteSettings::Via::goproxy: return "goproxy";
    case ModuleRouteSettings::Via::index: return "index";
    case ModuleRouteSettings::Via::automatic: break;
    }
    return "auto";
}

std::optional<GoproxyRouteOptions> Settings::module_route_options() const {
    using Via = ModuleRouteSettings::Via;
    const bool off = !modules.proxies.empty() && modules.proxies.front().kind == sumdb::ProxyEntry::Kind::off;
    if (modules.via == Via::index || (off && modules.via != Via::goproxy)) return std::nullopt;
    GoproxyRouteOptions o;
    o.goproxy = modules.proxies;
    o.gosumdb = modules.sumdb;
    // The newest verified tree head must outlive one run (it is what a fork is detected against).
    o.sumdb_cache_dir = cache_dir.empty() ? root / ".sumdb" : cache_dir / "sumdb";
    o.sumdb_lock_timeout = lock_timeout;
    o.proxy.limits.connect_timeout = limits.connect_timeout;
    o.download = download_options();
    o.download.mirrors.clear(); // the proxies are the mirrors
    o.download.rank_mirrors = false;
    return o;
}

} // namespace goinstall::cli
