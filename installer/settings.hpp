#pragma once
// Command-line and environment → one Settings value, in one place (flags win over GOINSTALL_*
// variables, which win over defaults).

#include <cxxopts.hpp>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "goinstall/base/error.hpp"
#include "goinstall/download/catalog.hpp"
#include "goinstall/download/downloader.hpp"
#include "goinstall/install/layout.hpp"
#include "goinstall/net/proxy_resolver.hpp"
#include "goinstall/platform/env.hpp"
#include "goinstall/platform/host.hpp"
#include "reporter.hpp"

namespace goinstall::cli {

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
    std::string cacert;
    std::string ca_file_override, ca_dir_override; // SSL_CERT_FILE / SSL_CERT_DIR
    ProxySettings proxy;
    std::string pac_url;                           // --pac-url
    std::filesystem::path config_file;             // the one read, if any
    Platform platform;
    TransferLimits limits;
    std::chrono::milliseconds lock_timeout{std::chrono::minutes(10)};
    int max_attempts = 3;
    std::chrono::milliseconds deadline{std::chrono::minutes(30)};
    bool offline = false;
    bool allow_insecure_index = false;
    OutputMode output = OutputMode::text;

    Layout layout() const { return Layout(root, prefix); }
};

// Adds the options every verb shares (output, paths) or that network verbs share.
void add_common_options(cxxopts::Options& opts);
void add_network_options(cxxopts::Options& opts);
void add_platform_options(cxxopts::Options& opts);

// Resolves settings from parsed options and the environment. Errors are usage errors naming the
// flag or variable and the bad value.
Result<Settings> resolve_settings(const cxxopts::ParseResult& args, const Env& env);

// Fails (usage) when there is no release index to fetch: no --index-url and no catalogue source.
Status require_index(const Settings& s);
// Fails (usage) when there is no mirror to download from.
Status require_mirrors(const Settings& s);

// The output mode alone (so that even a settings error can be reported in JSON when asked).
OutputMode output_mode(const cxxopts::ParseResult& args);

} // namespace goinstall::cli
