#include "settings.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/core/index_source.hpp"
#include "goinstall/core/installer.hpp"
#include "goinstall/fs/files.hpp"
#include "goinstall/platform/paths.hpp"

namespace goinstall::cli {

namespace {

bool has(const cxxopts::ParseResult& a, const char* name) { return a.count(name) > 0; }

// Flag value, else environment variable, else nullopt.
std::optional<std::string> flag_or_env(const cxxopts::ParseResult& a, const char* flag, const Env& env,
                                       const char* var) {
    if (has(a, flag)) {
        return a[flag].as<std::string>();
    }
    if (auto v = env.get(var); v && !v->empty()) {
        return v;
    }
    return std::nullopt;
}

Result<double> parse_seconds(const std::string& text, const std::string& what) {
    try {
        std::size_t used = 0;
        double v = std::stod(text, &used);
        if (used != text.size() || !(v > 0) || v > 86400.0 * 7) {
            throw std::invalid_argument("range");
        }
        return v;
    } catch (const std::exception&) {
        return fail(ErrorCode::usage, what + ": '" + sanitize_for_display(text, 40) +
                                          "' is not a number of seconds (e.g. 10 or 2.5)");
    }
}

std::chrono::milliseconds ms(double seconds) {
    return std::chrono::milliseconds(static_cast<std::int64_t>(seconds * 1000.0));
}

// The config file's keys (flat JSON object of strings).
Result<std::map<std::string, std::string>> parse_config(const std::string& text, const std::string& source) {
    auto doc = nlohmann::json::parse(text, nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
        return fail(ErrorCode::usage, source + ": not a JSON object");
    }
    std::map<std::string, std::string> out;
    for (const auto& [key, value] : doc.items()) {
        if (key != "proxy" && key != "cacert") {
            return fail(ErrorCode::usage, source + ": unknown key '" + sanitize_for_display(key, 40) +
                                              "' (known: proxy, cacert)");
        }
        if (!value.is_string()) {
            return fail(ErrorCode::usage, source + ": '" + key + "' must be a string");
        }
        out[key] = value.get<std::string>();
    }
    return out;
}

} // namespace

void add_common_options(cxxopts::Options& opts) {
    opts.add_options("Output")
        ("json", "One JSON object per line on stdout (events and the result)")
        ("q,quiet", "Print only errors")
        ("h,help", "Show this help");
    opts.add_options("Paths")
        ("root", "Toolchain root (env GOINSTALL_ROOT; default $XDG_DATA_HOME/goinstall)", cxxopts::value<std::string>(), "DIR")
        ("cache-dir", "Cache directory (env GOINSTALL_CACHE_DIR; default $XDG_CACHE_HOME/goinstall)", cxxopts::value<std::string>(), "DIR");
}

void add_network_options(cxxopts::Options& opts) {
    opts.add_options("Network")
        ("index-url", "Release index URL, file:// URL or path (env GOINSTALL_INDEX_URL)", cxxopts::value<std::string>(), "URL")
        ("mirror", "Mirror name (see 'goinstall mirrors') or base URL to try first; repeatable or comma-separated (env GOINSTALL_MIRROR)", cxxopts::value<std::vector<std::string>>(), "NAME|URL")
        ("no-fallback", "Use only the mirrors given with --mirror, not the rest of the catalogue")
        ("cacert", "Extra CA certificate(s) to trust, PEM (env GOINSTALL_CACERT)", cxxopts::value<std::string>(), "FILE")
        ("connect-timeout", "Seconds to wait for a connection (env GOINSTALL_CONNECT_TIMEOUT; default 10)", cxxopts::value<std::string>(), "SECS")
        ("stall-timeout", "Seconds below 1 KiB/s before a transfer counts as stalled (env GOINSTALL_STALL_TIMEOUT; default 30)", cxxopts::value<std::string>(), "SECS")
        ("max-retries", "Attempts per mirror (env GOINSTALL_MAX_RETRIES; default 3)", cxxopts::value<std::string>(), "N")
        ("deadline", "Seconds the whole download may take across all mirrors (env GOINSTALL_DEADLINE; default 1800)", cxxopts::value<std::string>(), "SECS")
        ("offline", "Use only the cached release index")
        ("proxy", "Proxy for every request: [http|https|socks4|socks4a|socks5|socks5h]://[user:pass@]host:port", cxxopts::value<std::string>(), "URL")
        ("no-proxy", "Connect directly, ignoring every proxy setting")
        ("noproxy-hosts", "Hosts that bypass the proxy (replaces NO_PROXY; see README for the syntax)", cxxopts::value<std::string>(), "LIST")
        ("proxy-user", "Proxy credentials (overrides those in the proxy URL)", cxxopts::value<std::string>(), "USER:PASS")
        ("proxy-auth", "Proxy authentication: basic, digest, ntlm, negotiate or any (default any)", cxxopts::value<std::string>(), "METHOD")
        ("no-system-proxy", "Do not read the desktop's or system's proxy settings")
        ("pac-url", "Proxy auto-config script to evaluate for each URL (http(s)://, file:// or a path)", cxxopts::value<std::string>(), "URL")
        ("config", "Config file (default $XDG_CONFIG_HOME/goinstall/config.json)", cxxopts::value<std::string>(), "FILE")
        ("allow-insecure-index", "Accept a plain-http index URL (checksums are then only as safe as that link)");
}

void add_platform_options(cxxopts::Options& opts) {
    opts.add_options("Platform")
        ("os", "Target OS in Go's names (default: this host)", cxxopts::value<std::string>(), "OS")
        ("arch", "Target architecture in Go's names (default: this host)", cxxopts::value<std::string>(), "ARCH");
}

OutputMode output_mode(const cxxopts::ParseResult& a) {
    if (has(a, "json")) return OutputMode::json;
    if (has(a, "quiet")) return OutputMode::quiet;
    return OutputMode::text;
}

Result<Settings> resolve_settings(const cxxopts::ParseResult& a, const Env& env) {
    Settings s;
    s.output = output_mode(a);

    if (auto root = flag_or_env(a, "root", env, "GOINSTALL_ROOT")) {
        s.root = std::filesystem::absolute(*root);
    } else {
        auto r = default_root(env);
        if (!r) return std::unexpected(r.error());
        s.root = *r;
    }
    if (has(a, "prefix")) {
        auto p = a["prefix"].as<std::string>();
        if (p.empty()) return fail(ErrorCode::usage, "--prefix needs a directory");
        s.prefix = std::filesystem::absolute(p).lexically_normal();
    }
    if (auto c = flag_or_env(a, "cache-dir", env, "GOINSTALL_CACHE_DIR")) {
        s.cache_dir = std::filesystem::absolute(*c);
    } else {
        auto c2 = default_cache_dir(env);
        if (!c2) return std::unexpected(c2.error());
        s.cache_dir = *c2;
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

    if (auto idx = flag_or_env(a, "index-url", env, "GOINSTALL_INDEX_URL")) {
        s.index_url = *idx;
    } else {
        // Empty when the catalogue has no index source; verbs that need one say so (require_index).
        auto sources = index_sources(s.catalog);
        if (!sources.empty()) {
            s.index_url = sources.front();
            s.index_fallbacks.assign(sources.begin() + 1, sources.end());
        }
    }
    std::vector<std::string> prefs;
    if (has(a, "mirror")) {
        for (const auto& m : a["mirror"].as<std::vector<std::string>>()) {
            for (auto& part : split(m, ',')) prefs.emplace_back(trim(part));
        }
    } else if (auto m = env.get("GOINSTALL_MIRROR"); m && !m->empty()) {
        for (auto& part : split(*m, ',')) prefs.emplace_back(trim(part));
    }
    auto plan = plan_mirrors(s.catalog, prefs, has(a, "no-fallback"));
    if (!plan && !prefs.empty()) return std::unexpected(plan.error());
    if (!plan) plan = MirrorPlan{}; // no usable catalogue entry: only verbs that download mind (require_mirrors)
    s.mirrors = std::move(plan->mirrors);
    s.mirror_notes = std::move(plan->notes);
    s.rank_mirrors = plan->auto_rank;
    // Config file: {"proxy": URL, "cacert": FILE}; unknown keys are errors naming the file.
    std::string config_cacert;
    {
        std::filesystem::path file;
        bool explicit_file = has(a, "config");
        if (explicit_file) {
            file = a["config"].as<std::string>();
        } else if (auto cfg = default_config_dir(env)) {
            file = *cfg / "config.json";
        }
        std::error_code ec;
        if (!file.empty() && (explicit_file || std::filesystem::exists(file, ec))) {
            auto text = read_file(file, 1 << 20);
            if (!text) return std::unexpected(text.error());
            auto values = parse_config(*text, file.string());
            if (!values) return std::unexpected(values.error());
            s.config_file = file;
            if (values->count("proxy")) s.proxy.config_proxy = values->at("proxy");
            if (values->count("cacert")) config_cacert = values->at("cacert");
        }
    }
    s.cacert = flag_or_env(a, "cacert", env, "GOINSTALL_CACERT").value_or(config_cacert);
    s.ca_file_override = env.get("SSL_CERT_FILE").value_or("");
    s.ca_dir_override = env.get("SSL_CERT_DIR").value_or("");
    if (has(a, "proxy")) s.proxy.proxy = a["proxy"].as<std::string>();
    s.proxy.no_proxy = has(a, "no-proxy");
    if (has(a, "noproxy-hosts")) s.proxy.noproxy_hosts = a["noproxy-hosts"].as<std::string>();
    if (has(a, "proxy-user")) s.proxy.proxy_user = a["proxy-user"].as<std::string>();
    if (has(a, "proxy-auth")) {
        s.proxy.proxy_auth = to_lower(a["proxy-auth"].as<std::string>());
        static const char* methods[] = {"basic", "digest", "ntlm", "negotiate", "any"};
        if (std::none_of(std::begin(methods), std::end(methods), [&](const char* m) { return s.proxy.proxy_auth == m; })) {
            return fail(ErrorCode::usage, "--proxy-auth: '" + sanitize_for_display(s.proxy.proxy_auth, 20) +
                                              "' is not one of basic, digest, ntlm, negotiate, any");
        }
    }
    s.proxy.use_system = !has(a, "no-system-proxy");
    if (has(a, "pac-url")) s.pac_url = a["pac-url"].as<std::string>();

    if (auto v = flag_or_env(a, "connect-timeout", env, "GOINSTALL_CONNECT_TIMEOUT")) {
        auto secs = parse_seconds(*v, "--connect-timeout");
        if (!secs) return std::unexpected(secs.error());
        s.limits.connect_timeout = ms(*secs);
    }
    if (auto v = flag_or_env(a, "stall-timeout", env, "GOINSTALL_STALL_TIMEOUT")) {
        auto secs = parse_seconds(*v, "--stall-timeout");
        if (!secs) return std::unexpected(secs.error());
        s.limits.stall_time = std::chrono::seconds(std::max<std::int64_t>(1, static_cast<std::int64_t>(*secs)));
    }
    if (auto v = flag_or_env(a, "max-retries", env, "GOINSTALL_MAX_RETRIES")) {
        auto n = parse_u64(*v);
        if (!n || *n < 1 || *n > 100) {
            return fail(ErrorCode::usage, "--max-retries: '" + sanitize_for_display(*v, 40) + "' is not a number from 1 to 100");
        }
        s.max_attempts = static_cast<int>(*n);
    }
    if (auto v = flag_or_env(a, "deadline", env, "GOINSTALL_DEADLINE")) {
        auto secs = parse_seconds(*v, "--deadline");
        if (!secs) return std::unexpected(secs.error());
        s.deadline = ms(*secs);
    }
    if (has(a, "lock-timeout")) {
        auto secs = parse_seconds(a["lock-timeout"].as<std::string>(), "--lock-timeout");
        if (!secs) return std::unexpected(secs.error());
        s.lock_timeout = ms(*secs);
    }
    s.offline = has(a, "offline");
    s.allow_insecure_index = has(a, "allow-insecure-index");

    s.platform = host_platform();
    if (has(a, "os")) s.platform.os = normalize_os(a["os"].as<std::string>());
    if (has(a, "arch")) s.platform.arch = normalize_arch(a["arch"].as<std::string>());
    for (const auto& part : {s.platform.os, s.platform.arch}) {
        if (part.empty() || part.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") != std::string::npos) {
            return fail(ErrorCode::usage, "--os/--arch: '" + sanitize_for_display(part, 40) + "' is not a Go OS or architecture name");
        }
    }
    return s;
}

Status require_mirrors(const Settings& s) {
    if (s.mirrors.empty()) {
        return fail(ErrorCode::usage, "no mirror to download from (every catalogue entry is disabled; pass --mirror URL)");
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
