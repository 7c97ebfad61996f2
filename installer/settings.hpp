#pragma once
// Command-line, environment and config file → one Settings value, in one place: flags win over
// GOINSTALL_* variables, which win over the config file, which wins over defaults. Where each
// setting came from is recorded for `goinstall config`.

#include <chrono>
#include <cxxopts.hpp>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "goinstall/base/error.hpp"
#include "goinstall/download/catalog.hpp"
#include "goinstall/core/goproxy_route.hpp"
#include "goinstall/download/downloader.hpp"
#include "goinstall/install/layout.hpp"
#include "goinstall/net/proxy_resolver.hpp"
#include "goinstall/net/resolve_pin.hpp"
#include "goinstall/platform/env.hpp"
#include "goinstall/platform/host.hpp"
#include "goinstall/sumdb/go_env.hpp"
#include "reporter.hpp"

namespace goinstall {
struct IndexOptions; // goinstall/release/index_source.hpp
}

namespace goinstall::cli {

// Where one setting's value came from.
struct SettingOrigin {
    enum class Source { default_value, flag, env, file };
    Source source = Source::default_value;
    std::string from; // "--root", "GOINSTALL_ROOT", the config file's path; for defaults a hint or ""
};
const char* to_string(SettingOrigin::Source source); // "default", "flag", "env", "file"

// A SHA-256 digest as 64 lowercase hex digits. Only parse() makes one, so holding one means the
// text was checked.
class Sha256Hex {
public:
    // nullopt unless `text` is exactly 64 hex digits (either case).
    static std::optional<Sha256Hex> parse(std::string_view text);
    const std::string& str() const { return m_hex; }

private:
    explicit Sha256Hex(std::string hex) : m_hex(std::move(hex)) {}
    std::string m_hex;
};

// The network diagnosis after a failure (and `goinstall doctor`): config keys no_triage,
// triage_timeout, captive_probe_url.
struct TriageSettings {
    bool enabled = true;                     // --no-triage / GOINSTALL_NO_TRIAGE / no_triage turn it off
    std::chrono::milliseconds budget{10000}; // --triage-timeout, at most 600 s
    std::string captive_probe_url;           // "" = disabled ("none" or "off" given)
    bool captive_explicit = false;           // given by a flag, variable or the file, not the default
};

// The toolchain-module route (README "Without go.dev"): GOPROXY and GOSUMDB as the go command reads
// them, and when the route is used.
struct ModuleRouteSettings {
    enum class Via { automatic, goproxy, index };
    Via via = Via::automatic;               // automatic: after every index source failed; goproxy: first; index: never
    std::string goproxy;                    // GOPROXY syntax as given ("" = the go command's default)
    std::string gosumdb;                    // GOSUMDB syntax as given ("" = sum.golang.org)
    std::vector<sumdb::ProxyEntry> proxies; // goproxy parsed
    sumdb::SumdbSetting sumdb;              // gosumdb parsed
};
const char* to_string(ModuleRouteSettings::Via via); // "auto", "goproxy", "index"

// The config file: which one, and why that one.
struct ConfigFileInfo {
    std::filesystem::path path; // empty when there is no default config dir
    std::string chosen_by;      // "--config", "GOINSTALL_CONFIG" or "default"
    bool loaded = false;        // false: the default path does not exist
};

struct Settings {
    std::filesystem::path root;
    std::optional<std::filesystem::path> prefix;
    std::filesystem::path cache_dir;
    std::string index_url;
    std::vector<std::string> index_fallbacks; // only when --index-url was not given
    Catalog catalog;                          // built-in + $XDG_CONFIG_HOME/goinstall/mirrors.json
    std::vector<Mirror> mirrors;              // in the order to try
    std::vector<std::string> mirror_notes;    // e.g. why a preferred mirror is likely to fail
    bool rank_mirrors = false;                // --mirror auto
    std::vector<std::string> cacerts;         // --cacert (repeatable), GOINSTALL_CACERT or the file's cacert, as given
    std::string cacert;                       // the one PEM file they make (make_ca_bundle), "" for none
    std::string ca_file_override, ca_dir_override; // SSL_CERT_FILE / SSL_CERT_DIR
    ProxySettings proxy;
    std::string pac_url;             // --pac-url
    std::vector<ResolvePin> resolve; // --resolve, in the order given
    ConfigFileInfo config;
    std::map<std::string, SettingOrigin> origins; // by config-file key ("root", "connect_timeout")
    bool no_fallback = false;
    std::vector<std::string> mirror_prefs; // --mirror / GOINSTALL_MIRROR / "mirrors", as given
    Platform platform;
    TransferLimits limits;
    std::chrono::milliseconds lock_timeout{std::chrono::minutes(10)};
    // The deadline of the installed tree's `bin/go version` check, the whole child included.
    std::chrono::milliseconds check_timeout{std::chrono::seconds(30)};
    int attempts_per_mirror = 3; // --attempts-per-mirror (old name --max-retries)
    int connections = 0;         // --connections: 0 = the default (k_default_connections), 1 = no segmenting
    // --race-after: how long a mirror may take to answer before the next one is raced too.
    std::chrono::milliseconds race_after{400};
    std::chrono::milliseconds deadline{std::chrono::minutes(30)};
    bool offline = false;
    bool allow_insecure_index = false;
    OutputMode output = OutputMode::text;
    std::optional<Sha256Hex> sha256; // --sha256 HEX, for the verbs that take it
    std::string sha256_h1;           // --sha256 h1:BASE64 (a module zip's hash)
    TriageSettings triage;
    ModuleRouteSettings modules;

    Layout layout() const { return Layout(root, prefix); }
    // The release index source: URL and fallbacks, cache, offline, plain-http permission, limits.
    IndexOptions index_options() const;
    // Mirrors in order, limits, attempts per mirror, deadline, connections and --mirror auto
    // (rank_mirrors), the same for every verb that downloads. No observer.
    DownloadOptions download_options() const;
    // The module proxy route's options (spec, platform and digest are the request's), or nullopt
    // when the route is not to be used: --via index, or GOPROXY=off without --via goproxy.
    std::optional<GoproxyRouteOptions> module_route_options() const;
    // The --sha256 text for a request's sha256_override: "" when not given; lowercase hex, or "h1:..."
    // (which only the module proxy route accepts).
    std::string sha256_text() const { return sha256 ? sha256->str() : sha256_h1; }
};

// Adds the options every verb shares (output, paths) or that network verbs share
// (settings_options.cpp).
void add_common_options(cxxopts::Options& opts);
void add_network_options(cxxopts::Options& opts);
void add_platform_options(cxxopts::Options& opts);
// --no-triage, --triage-timeout SECS, --captive-probe-url URL|none.
void add_triage_options(cxxopts::Options& opts);

// Resolves settings from parsed options, the environment and the config file. Errors are usage
// errors naming the flag, variable or file and key, and the bad value (credentials redacted);
// a bad --sha256 is one too, for the verbs that define it.
Result<Settings> resolve_settings(const cxxopts::ParseResult& args, const Env& env);

// Fails (usage) when there is no release index to fetch: no --index-url and no catalogue source.
Status require_index(const Settings& s);
// Fails (usage) when there is no mirror to download from.
Status require_mirrors(const Settings& s);

// The version a project in the current directory (or a parent) asks for: .go-version, else the
// nearest go.mod's toolchain line, else its go line (README "Version from the project").
struct ProjectSpec {
    std::string spec;    // for InstallRequest::spec: "1.22", "go1.22.5"
    std::string message; // "1.22 (newest 1.22.x) from ./go.mod go line"
    std::filesystem::path file;
    std::string origin; // "go_version_file", "toolchain_line", "go_line"
};
// nullopt when there is no project file; an error (usage, naming the file) for a file without a
// usable version, or (filesystem/permission) for one that cannot be read.
Result<std::optional<ProjectSpec>> project_version_spec(const Env& env);

// The output mode alone (so that even a settings error can be reported in JSON when asked).
OutputMode output_mode(const cxxopts::ParseResult& args);

} // namespace goinstall::cli
