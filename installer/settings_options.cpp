// The options the verbs share, as cxxopts declarations. Their values are resolved in settings.cpp;
// the config-file keys they map to are in settings_config.cpp.
#include "settings.hpp"

namespace goinstall::cli {

void add_common_options(cxxopts::Options& opts) {
    // clang-format off
    opts.add_options("Output")
        ("json", "One JSON object per line on stdout (events and the result; see docs/json.md)")
        ("q,quiet", "Print only errors")
        ("h,help", "Show this help");
    opts.add_options("Paths")
        ("root", "Toolchain root (env GOINSTALL_ROOT; default $XDG_DATA_HOME/goinstall)", cxxopts::value<std::string>(), "DIR")
        ("cache-dir", "Cache directory (env GOINSTALL_CACHE_DIR; default $XDG_CACHE_HOME/goinstall)", cxxopts::value<std::string>(), "DIR")
        ("config", "Config file (env GOINSTALL_CONFIG; default $XDG_CONFIG_HOME/goinstall/config.json; see 'goinstall config')", cxxopts::value<std::string>(), "FILE");
    // clang-format on
}

void add_network_options(cxxopts::Options& opts) {
    // clang-format off
    opts.add_options("Network")
        ("index-url", "Release index URL, file:// URL or path (env GOINSTALL_INDEX_URL)", cxxopts::value<std::string>(), "URL")
        ("mirror", "Mirror name (see 'goinstall mirrors'), base URL, or 'auto' (probe and try the fastest first) to try first; repeatable or comma-separated (env GOINSTALL_MIRROR)", cxxopts::value<std::vector<std::string>>(), "NAME|URL")
        ("no-fallback", "Use only the mirrors given with --mirror, not the rest of the catalogue (env GOINSTALL_NO_FALLBACK)")
        ("cacert", "Extra CA certificate(s) to trust, PEM; repeat to trust several files (env GOINSTALL_CACERT)", cxxopts::value<std::string>(), "FILE")
        ("connect-timeout", "Seconds to wait for a connection (env GOINSTALL_CONNECT_TIMEOUT; default 10)", cxxopts::value<std::string>(), "SECS")
        ("stall-timeout", "Seconds below 1 KiB/s before a transfer counts as stalled (env GOINSTALL_STALL_TIMEOUT; default 30)", cxxopts::value<std::string>(), "SECS")
        ("attempts-per-mirror", "Attempts at each mirror before the next one, counting the first (env GOINSTALL_ATTEMPTS_PER_MIRROR; default 3)", cxxopts::value<std::string>(), "N")
        ("max-retries", "Old name of --attempts-per-mirror (env GOINSTALL_MAX_RETRIES)", cxxopts::value<std::string>(), "N")
        ("connections", "Large archives: fetch byte ranges from up to N mirrors at once; 1 = one transfer at a time plus at most a brief scout (env GOINSTALL_CONNECTIONS; default 8)", cxxopts::value<std::string>(), "N")
        ("race-after", "Seconds a mirror may take to answer before the next one is raced against it, as curl's happy eyeballs do for addresses (env GOINSTALL_RACE_AFTER; default 0.4)", cxxopts::value<std::string>(), "SECS")
        ("deadline", "Seconds the whole download may take across all mirrors (env GOINSTALL_DEADLINE; default 1800)", cxxopts::value<std::string>(), "SECS")
        ("offline", "Use only the cached release index (env GOINSTALL_OFFLINE)")
        ("proxy", "Proxy for every request: [http|https|socks4|socks4a|socks5|socks5h]://[user:pass@]host:port", cxxopts::value<std::string>(), "URL")
        ("no-proxy", "Connect directly, ignoring every proxy setting")
        ("noproxy-hosts", "Hosts that bypass the proxy (replaces NO_PROXY; see README for the syntax)", cxxopts::value<std::string>(), "LIST")
        ("proxy-user", "Proxy credentials (overrides those in the proxy URL)", cxxopts::value<std::string>(), "USER:PASS")
        ("proxy-auth", "Proxy authentication: basic, digest, ntlm, negotiate or any (default any)", cxxopts::value<std::string>(), "METHOD")
        ("no-system-proxy", "Do not read the desktop's or system's proxy settings")
        ("pac-url", "Proxy auto-config script to evaluate for each URL (http(s)://, file:// or a path)", cxxopts::value<std::string>(), "URL")
        ("resolve", "Connect to ADDR (IPv4, or IPv6 in brackets; comma-separated for several) for HOST:PORT instead of asking DNS, for downloads and triage alike (curl's --resolve); repeatable", cxxopts::value<std::string>(), "HOST:PORT:ADDR")
        ("allow-insecure-index", "Accept a plain-http index URL (checksums are then only as safe as that link)");
    opts.add_options("Module proxy route")
        ("goproxy", "Go module proxies for toolchain modules, in GOPROXY syntax (env GOPROXY, then 'go env -w'; default https://proxy.golang.org,direct)", cxxopts::value<std::string>(), "LIST")
        ("gosumdb", "Checksum database that vouches for toolchain modules, in GOSUMDB syntax (env GOSUMDB; default sum.golang.org)", cxxopts::value<std::string>(), "DB")
        ("via", "Route to install by: auto (release index, then the module proxy when every index source fails), goproxy (module proxy first), index (never the module proxy) (env GOINSTALL_VIA)", cxxopts::value<std::string>(), "ROUTE");
    // clang-format on
}

void add_platform_options(cxxopts::Options& opts) {
    // clang-format off
    opts.add_options("Platform")
        ("os", "Target OS in Go's names (default: this host)", cxxopts::value<std::string>(), "OS")
        ("arch", "Target architecture in Go's names (default: this host)", cxxopts::value<std::string>(), "ARCH");
    // clang-format on
}

void add_triage_options(cxxopts::Options& opts) {
    // clang-format off
    opts.add_options("Triage")
        ("no-triage", "Do not diagnose the network after a network failure (env GOINSTALL_NO_TRIAGE=1)")
        ("triage-timeout", "Seconds the network diagnosis may take, at most 600 (env GOINSTALL_TRIAGE_TIMEOUT; default 10)", cxxopts::value<std::string>(), "SECS")
        ("captive-probe-url", "URL that answers 204 when no captive portal intercepts (env GOINSTALL_CAPTIVE_PROBE_URL; 'none' disables)", cxxopts::value<std::string>(), "URL");
    // clang-format on
}

OutputMode output_mode(const cxxopts::ParseResult& a) {
    if (a.count("json") > 0) return OutputMode::json;
    if (a.count("quiet") > 0) return OutputMode::quiet;
    return OutputMode::text;
}

} // namespace goinstall::cli
