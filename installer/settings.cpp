#include "settings.hpp"

#include <algorithm>
#include <map>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/release/index_source.hpp"
#include "goinstall/core/installer.hpp"
#include "goinstall/core/module_zip.hpp"
#include "goinstall/fs/files.hpp"
#include "goinstall/net/ca_bundle.hpp"
#include "goinstall/platform/paths.hpp"
#include "goinstall/triage/triage.hpp"
#include "settings_config.hpp"
#include "settings_sources.hpp"

namespace goinstall::cli {

using settings_detail::first_env;
using settings_detail::has;
using settings_detail::resolve_module_route;
using settings_detail::Sources;

namespace {

constexpr double k_week_seconds = 86400.0 * 7;

// A number of seconds in (0, max]; a usage error naming `what` otherwise.
Result<double> parse_seconds(const std::string& text, const std::string& what, double max = k_week_seconds) {
    try {
        std::size_t used = 0;
        double v = std::stod(text, &used);
        if (used != text.size() || !(v > 0) || v > max) {
            throw std::invalid_argument("range");
        }
        return v;
    } catch (const std::exception&) {
        std::string range = max < k_week_seconds ? " up to " + std::to_string(static_cast<int>(max)) : "";
        return fail(ErrorCode::usage, what + ": '" + sanitize_for_display(text, 40) + "' is not a number of seconds" +
                                          range + " (e.g. 10 or 2.5)");
    }
}

std::chrono::milliseconds ms(double seconds) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000.0));
}

Result<std::chrono::milliseconds> seconds_setting(Sources& src, const char* key, std::chrono::milliseconds fallback,
                                                  double max = k_week_seconds) {
    auto p = src.pick(key);
    if (!p) return fallback;
    auto secs = parse_seconds(p->text, p->name, max);
    if (!secs) return std::unexpected(secs.error());
    return ms(*secs);
}

std::filesystem::path absolute_path(const std::string& text) {
    return std::filesystem::absolute(text).lexically_normal();
}

} // namespace

const char* to_string(SettingOrigin::Source source) {
    switch (source) {
    case SettingOrigin::Source::flag: return "flag";
    case SettingOrigin::Source::env: return "env";
    case SettingOrigin::Source::file: return "file";
    case SettingOrigin::Source::default_value: break;
    }
    return "default";
}

namespace {

// Proxy-related settings: flags, then (for proxy and no_proxy_hosts) the environment the proxy
// resolver reads itself, then the config file.
Status resolve_proxy_settings(const cxxopts::ParseResult& a, const Env& env, Sources& src, Settings& s) {
    if (auto p = src.pick("proxy")) {
        if (p->source == SettingOrigin::Source::flag) {
            s.proxy.proxy = p->text;
        } else {
            s.proxy.config_proxy = p->text;
        }
    }
    if (s.origins["proxy"].source != SettingOrigin::Source::flag) {
        if (auto v = first_env(env, {"https_proxy", "HTTPS_PROXY", "http_proxy", "all_proxy", "ALL_PROXY"})) {
            s.origins["proxy"] = SettingOrigin{SettingOrigin::Source::env, v->first};
        }
    }
    if (auto p = src.pick("no_proxy_hosts")) {
        auto nv = first_env(env, {"no_proxy", "NO_PROXY"});
        if (p->source == SettingOrigin::Source::flag || !nv) {
            s.proxy.noproxy_hosts = p->text;
        } else {
            s.origins["no_proxy_hosts"] = SettingOrigin{SettingOrigin::Source::env, nv->first};
        }
    } else if (auto nv = first_env(env, {"no_proxy", "NO_PROXY"})) {
        s.origins["no_proxy_hosts"] = SettingOrigin{SettingOrigin::Source::env, nv->first};
    }
    s.proxy.no_proxy = has(a, "no-proxy");
    if (has(a, "proxy-user")) s.proxy.proxy_user = a["proxy-user"].as<std::string>();
    if (auto p = src.pick("proxy_auth")) {
        s.proxy.proxy_auth = to_lower(p->text);
        static const char* methods[] = {"basic", "digest", "ntlm", "negotiate", "any"};
        if (std::none_of(std::begin(methods), std::end(methods),
                         [&](const char* m) { return s.proxy.proxy_auth == m; })) {
            return fail(ErrorCode::usage, p->name + ": '" + sanitize_for_display(s.proxy.proxy_auth, 20) +
                                              "' is not one of basic, digest, ntlm, negotiate, any");
        }
    }
    auto no_system = src.flag_value("no_system_proxy");
    if (!no_system) return std::unexpected(no_system.error());
    s.proxy.use_system = !*no_system;
    if (auto p = src.pick("pac_url")) s.pac_url = p->text;
    return {};
}

// Timeouts and retry counts.
Status resolve_limits(Sources& src, Settings& s) {
    auto connect = seconds_setting(src, "connect_timeout", s.limits.connect_timeout);
    if (!connect) return std::unexpected(connect.error());
    s.limits.connect_timeout = *connect;
    auto stall = seconds_setting(src, "stall_timeout", s.limits.stall_time);
    if (!stall) return std::unexpected(stall.error());
    s.limits.stall_time = std::chrono::seconds(
        std::max<std::int64_t>(1, std::chrono::duration_cast<std::chrono::seconds>(*stall).count()));
    if (auto p = src.pick("attempts_per_mirror")) {
        auto n = parse_u64(p->text);
        if (!n || *n < 1 || *n > 100) {
            return fail(ErrorCode::usage,
                        p->name + ": '" + sanitize_for_display(p->text, 40) + "' is not a number from 1 to 100");
        }
        s.attempts_per_mirror = static_cast<int>(*n);
    }
    if (auto p = src.pick("connections")) {
        auto n = parse_u64(p->text);
        if (!n || *n < 1 || *n > 16) {
            return fail(ErrorCode::usage,
                        p->name + ": '" + sanitize_for_display(p->text, 40) + "' is not a number from 1 to 16");
        }
        s.connections = static_cast<int>(*n);
    }
    constexpr double k_max_race_after_seconds = 600;
    auto race_after = seconds_setting(src, "race_after", s.race_after, k_max_race_after_seconds);
    if (!race_after) return std::unexpected(race_after.error());
    s.race_after = *race_after;
    auto deadline = seconds_setting(src, "deadline", s.deadline);
    if (!deadline) return std::unexpected(deadline.error());
    s.deadline = *deadline;
    auto lock = seconds_setting(src, "lock_timeout", s.lock_timeout);
    if (!lock) return std::unexpected(lock.error());
    s.lock_timeout = *lock;
    constexpr double k_max_check_seconds = 3600;
    auto check = seconds_setting(src, "check_timeout", s.check_timeout, k_max_check_seconds);
    if (!check) return std::unexpected(check.error());
    s.check_timeout = *check;
    return {};
}

// The user's mirror preferences, checked here so that an error names where they came from
// (--mirror, GOINSTALL_MIRROR or the file's "mirrors"): each is "auto", an http(s):// or file://
// URL, or a catalogue name.
Status check_mirror_preferences(const Catalog& catalog, const std::vector<std::string>& prefs,
                                const std::string& from) {
    for (const auto& p : prefs) {
        if (p == "auto") continue;
        if (p.find("://") != std::string::npos) {
            auto u = parse_url(p);
            if (!u || (u->scheme != "http" && u->scheme != "https" && u->scheme != "file")) {
                return fail(ErrorCode::usage, from + ": '" + redact_url(p) + "' is not an http(s):// or file:// URL");
            }
        } else if (catalog.find(p) == nullptr) {
            std::string known;
            for (const auto& c : catalog.entries) known += (known.empty() ? "" : ", ") + c.name;
            return fail(ErrorCode::usage, from + ": unknown mirror '" + sanitize_for_display(p, 40) +
                                              "' (known: " + known + "; or give a URL, or auto)");
        }
    }
    return {};
}

// Mirrors: the preferences (mirrors, no_fallback) planned against the catalogue.
Status resolve_mirrors(Sources& src, Settings& s) {
    auto mirrors = src.pick("mirrors", "the catalogue's order");
    if (mirrors) {
        for (auto& part : split(mirrors->text, ',')) s.mirror_prefs.emplace_back(trim(part));
        if (auto st = check_mirror_preferences(s.catalog, s.mirror_prefs, mirrors->name); !st) return st;
    }
    auto no_fallback = src.flag_value("no_fallback");
    if (!no_fallback) return std::unexpected(no_fallback.error());
    s.no_fallback = *no_fallback;
    auto plan = plan_mirrors(s.catalog, s.mirror_prefs, s.no_fallback);
    if (!plan && mirrors) return std::unexpected(plan.error());
    if (!plan) plan = MirrorPlan{}; // no usable catalogue entry: only verbs that download mind (require_mirrors)
    s.mirrors = std::move(plan->mirrors);
    s.mirror_notes = std::move(plan->notes);
    s.rank_mirrors = plan->auto_rank;
    return {};
}

// Triage: no_triage, triage_timeout (at most 600 s), captive_probe_url (http(s), or none/off).
Status resolve_triage(Sources& src, TriageSettings& t) {
    auto no_triage = src.flag_value("no_triage");
    if (!no_triage) return std::unexpected(no_triage.error());
    t.enabled = !*no_triage;
    constexpr double k_max_triage_seconds = 600;
    auto budget = seconds_setting(src, "triage_timeout", t.budget, k_max_triage_seconds);
    if (!budget) return std::unexpected(budget.error());
    t.budget = *budget;
    t.captive_probe_url = triage::k_default_captive_probe_url;
    if (auto p = src.pick("captive_probe_url", "the built-in probe URL")) {
        t.captive_explicit = true;
        const auto v = to_lower(trim(p->text));
        if (v.empty() || v == "none" || v == "off") {
            t.captive_probe_url.clear();
        } else if (auto u = parse_url(p->text); !u || (u->scheme != "http" && u->scheme != "https")) {
            return fail(ErrorCode::usage, p->name + ": '" + redact_url(p->text) + "' is not an http(s) URL or 'none'");
        } else {
            t.captive_probe_url = p->text;
        }
    }
    return {};
}

} // namespace

std::optional<Sha256Hex> Sha256Hex::parse(std::string_view text) {
    if (!is_hex(text, 64)) return std::nullopt;
    return Sha256Hex(to_lower(text));
}

IndexOptions Settings::index_options() const {
    IndexOptions o;
    o.url = index_url;
    o.fallback_urls = index_fallbacks;
    o.cache_dir = cache_dir;
    o.offline = offline;
    o.allow_insecure = allow_insecure_index;
    o.limits = limits;
    return o;
}

DownloadOptions Settings::download_options() const {
    DownloadOptions o;
    o.mirrors = mirrors;
    o.limits = limits;
    o.max_attempts_per_mirror = attempts_per_mirror;
    o.deadline = deadline;
    o.connections = connections;
    o.head_start = race_after;
    o.rank_mirrors = rank_mirrors;
    return o;
}

Result<Settings> resolve_settings(const cxxopts::ParseResult& a, const Env& env) {
    Settings s;
    s.output = output_mode(a);
    auto config = load_config(a, env);
    if (!config) return std::unexpected(config.error());
    s.config = config->first;
    Sources src(a, env, s.config, config->second, s);

    if (auto root = src.pick("root", "$XDG_DATA_HOME/goinstall")) {
        s.root = absolute_path(root->text);
    } else {
        auto r = default_root(env);
        if (!r) return std::unexpected(r.error());
        s.root = *r;
    }
    if (has(a, "prefix")) {
        auto p = a["prefix"].as<std::string>();
        if (p.empty()) return fail(ErrorCode::usage, "--prefix needs a directory");
        s.prefix = absolute_path(p);
    }
    if (auto c = src.pick("cache_dir", "$XDG_CACHE_HOME/goinstall")) {
        s.cache_dir = absolute_path(c->text);
    } else if (auto c2 = default_cache_dir(env)) {
        s.cache_dir = *c2;
    } else {
        // No HOME and no XDG_CACHE_HOME (a bare service account, `env -i`): the cache only saves
        // a later fetch, so go on without one rather than refuse a --root the user did give.
        s.cache_dir.clear();
    }

    // The mirror catalogue: built in, then the user's file (adds, overrides or disables entries).
    s.catalog = builtin_catalog();
    if (auto cfg = default_config_dir(env)) {
        auto file = *cfg / "mirrors.json";
        std::error_code ec;
        if (std::filesystem::exists(file, ec)) {
            auto text = read_file(file, 1 << 20);
            if (!text) return std::unexpected(text.error());
            auto merged = apply_user_catalog(std::move(s.catalog), *text, file.string());
            if (!merged) return std::unexpected(merged.error());
            s.catalog = std::move(*merged);
        }
    }

    if (auto idx = src.pick("index_url", "the mirror catalogue's index sources")) {
        s.index_url = idx->text;
    } else {
        // Empty when the catalogue has no index source; verbs that need one say so (require_index).
        auto sources = index_sources(s.catalog);
        if (!sources.empty()) {
            s.index_url = sources.front();
            s.index_fallbacks.assign(sources.begin() + 1, sources.end());
        }
    }
    if (auto st = resolve_mirrors(src, s); !st) return std::unexpected(st.error());

    if (auto c = src.pick("cacert")) s.cacerts.push_back(c->text);
    if (has(a, "cacert")) {
        // --cacert may be repeated (a machine behind two inspecting proxies): every occurrence is
        // trusted, none dropped; cxxopts keeps each in order.
        s.cacerts.clear();
        for (const auto& kv : a.arguments()) {
            if (kv.key() == "cacert") s.cacerts.push_back(kv.value());
        }
    }
    auto bundle = make_ca_bundle(s.cacerts);
    if (!bundle) return std::unexpected(bundle.error());
    s.cacert = std::move(*bundle);
    s.ca_file_override = env.get("SSL_CERT_FILE").value_or("");
    s.ca_dir_override = env.get("SSL_CERT_DIR").value_or("");
    if (auto st = resolve_proxy_settings(a, env, src, s); !st) return std::unexpected(st.error());
    // Every --resolve, unsplit (a value holds commas): cxxopts keeps each occurrence in order.
    for (const auto& kv : a.arguments()) {
        if (kv.key() != "resolve") continue;
        auto pin = parse_resolve_pin(kv.value());
        if (!pin) return std::unexpected(pin.error());
        s.resolve.push_back(std::move(*pin));
    }
    if (auto st = resolve_limits(src, s); !st) return std::unexpected(st.error());
    auto offline = src.flag_value("offline");
    if (!offline) return std::unexpected(offline.error());
    s.offline = *offline;
    s.allow_insecure_index = has(a, "allow-insecure-index");
    if (auto st = resolve_triage(src, s.triage); !st) return std::unexpected(st.error());
    if (auto st = resolve_module_route(src, env, s); !st) return std::unexpected(st.error());
    if (has(a, "sha256")) {
        const auto text = a["sha256"].as<std::string>();
        s.sha256 = Sha256Hex::parse(text);
        if (!s.sha256 && is_h1_hash(text)) {
            s.sha256_h1 = text;
        } else if (!s.sha256) {
            return fail(ErrorCode::usage, "--sha256: '" + sanitize_for_display(text, 80) +
                                              "' is not 64 hex digits (or a module zip's h1:BASE64 hash)");
        }
    }

    s.platform = host_platform();
    if (has(a, "os")) s.platform.os = normalize_os(a["os"].as<std::string>());
    if (has(a, "arch")) s.platform.arch = normalize_arch(a["arch"].as<std::string>());
    for (const auto& part : {s.platform.os, s.platform.arch}) {
        if (part.empty() || part.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") != std::string::npos) {
            return fail(ErrorCode::usage,
                        "--os/--arch: '" + sanitize_for_display(part, 40) + "' is not a Go OS or architecture name");
        }
    }
    return s;
}

Status require_mirrors(const Settings& s) {
    if (s.mirrors.empty()) {
        return fail(ErrorCode::usage,
                    "no mirror to download from (every catalogue entry is disabled; pass --mirror URL)");
    }
    return {};
}

Status require_index(const Settings& s) {
    if (s.index_url.empty()) {
        return fail(ErrorCode::usage, "no release index source: every catalogue entry that serves one is disabled; "
                                      "pass --index-url URL");
    }
    return {};
}

} // namespace goinstall::cli
