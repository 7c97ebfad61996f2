#pragma once
// The proxy the desktop or the operating system is configured for: GNOME (gsettings), KDE
// (kioslaverc), SUSE (/etc/sysconfig/proxy), macOS (scutil --proxy) and Windows (Internet Settings).
// Each source has a pure parser of the text the system stores or prints, and a thin reader that
// fetches that text through a seam (a CommandRunner, an Env, a path). Nothing here evaluates PAC
// scripts, resolves WPAD, or applies bypass lists: callers get the settings, not a decision per URL.

#include <chrono>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "goinstall/platform/env.hpp"

namespace goinstall {

// What one source configures. Proxy fields are "" when the source leaves them unset.
struct SystemProxy {
    // Where it came from: "GNOME (gsettings org.gnome.system.proxy)", "KDE (<path of kioslaverc>)",
    // "<path of sysconfig file>", "macOS (scutil --proxy)", "Windows (Internet Settings)".
    std::string source;
    // What the source prefers. auto_pac with an empty pac_url means WPAD discovery. macOS and
    // Windows enable PAC and manual proxies independently, so in auto_pac mode their manual fields
    // may be filled too (the system tries the PAC script first); GNOME and KDE fill only the fields
    // of the selected mode.
    enum class Mode { none, manual, auto_pac } mode = Mode::none;
    std::string https_proxy; // "host:port" or a URL, for HTTPS requests
    std::string http_proxy;  // for plain-HTTP requests
    // "socks5://host:port" (Windows: "socks4://", the only SOCKS WinINet speaks). Filled whenever the
    // source configures SOCKS; it applies to the schemes whose field above is empty.
    std::string socks_proxy;
    std::string pac_url;                   // auto_pac mode
    std::vector<std::string> ignore_hosts; // bypass list in the source's own syntax, one entry each

    bool operator==(const SystemProxy&) const = default;
};

// Runs a command (argv[0] is looked up in PATH) and returns its stdout; nullopt when it cannot be
// started, exits non-zero, is killed, or times out. Tests pass fakes.
using CommandRunner = std::function<std::optional<std::string>(const std::vector<std::string>& argv)>;

// The real runner: run_subprocess (subprocess.hpp) with PATH lookup, no shell, stdin and stderr on
// /dev/null. The child gets `env`'s variables (read when the runner is made) with `env_overrides`
// applied on top (so a test can point gsettings at a keyfile without touching the process
// environment). Output beyond 64 KiB, or a child (or a grandchild holding its stdout) still running
// `timeout` after the start, gets its process group SIGKILLed and nullopt returned. On Windows it
// always returns nullopt (no source there runs a command).
CommandRunner real_command_runner(const Env& env, std::chrono::milliseconds timeout = std::chrono::seconds(2),
                                  const std::map<std::string, std::string>& env_overrides = {});
// The same with the process environment (SystemEnv).
CommandRunner real_command_runner(std::chrono::milliseconds timeout = std::chrono::seconds(2),
                                  const std::map<std::string, std::string>& env_overrides = {});

// ---- pure parsers: nullopt = this source says nothing (not configured, mode none, disabled, or
// input that is not the expected format). They never throw on any input.

// `gsettings list-recursively org.gnome.system.proxy` output → the keys parse_gnome expects
// ("mode", "https.host", ...). Lines of other schemas and malformed lines are ignored.
std::map<std::string, std::string> parse_gsettings_listing(std::string_view text);

// Keys "mode", "autoconfig-url", "ignore-hosts", "{http,https,socks}.{host,port}" with values as
// `gsettings get` prints them: 'manual', 8080, ['localhost', '::1'], @as []. As the schema documents:
// a protocol is configured when its host is non-empty and its port is 1..65535; HTTPS falls back to
// the HTTP proxy. Mode 'auto' gives auto_pac (empty autoconfig-url: WPAD). HTTP credentials
// (use-authentication) are never read.
std::optional<SystemProxy> parse_gnome(const std::map<std::string, std::string>& gsettings_values);

// [Proxy Settings] of kioslaverc. ProxyType 0 none, 1 manual (httpsProxy/httpProxy/socksProxy, in
// KDE's "http://host 8080" form or "host:port"; a space form is rewritten to "host:8080"), 2 PAC
// ("Proxy Config Script"), 3 WPAD (auto_pac, empty pac_url). ProxyType 4 (read environment
// variables) gives nullopt: the environment is consulted separately. Manual mode with
// ReversedException=true (proxy only the NoProxyFor hosts) gives nullopt. NoProxyFor is split on
// commas and whitespace.
std::optional<SystemProxy> parse_kioslaverc(std::string_view ini_text);

// SUSE /etc/sysconfig/proxy: shell assignments with quotes and comments; only PROXY_ENABLED="yes"
// enables it. HTTPS_PROXY, HTTP_PROXY, SOCKS_PROXY (else SOCKS5_SERVER) and NO_PROXY (split on
// commas and whitespace). No variable expansion.
std::optional<SystemProxy> parse_sysconfig_proxy(std::string_view text);

// `scutil --proxy` output (a printed CFDictionary). HTTPEnable/HTTPSEnable/SOCKSEnable with their
// Proxy and Port (a proxy without a valid port counts as not configured), ProxyAutoConfigEnable with
// ProxyAutoConfigURLString, ProxyAutoDiscoveryEnable (WPAD), ExceptionsList. Nested dictionaries
// (__SCOPED__) are ignored. HTTPS does not fall back to HTTP (macOS has a separate setting).
std::optional<SystemProxy> parse_scutil_proxy(std::string_view text);

// HKCU\...\Internet Settings values. ProxyServer is "host:port" for every protocol, or per scheme
// "http=a:1;https=b:2;socks=c:3" (a missing "https=" leaves HTTPS direct or SOCKS). A non-empty
// AutoConfigURL gives auto_pac; manual fields are filled when ProxyEnable is non-zero. ProxyOverride
// is split on ';' ("<local>" kept verbatim).
std::optional<SystemProxy> parse_windows_internet_settings(std::optional<std::uint32_t> proxy_enable,
                                                           std::string_view proxy_server,
                                                           std::string_view proxy_override,
                                                           std::string_view auto_config_url);

// ---- readers. query_* returns the proxy or why the source says nothing ("gsettings not
// installed", "no kioslaverc at ...", "mode is none"); read_* is the same as an optional.
using SystemProxyAnswer = std::expected<SystemProxy, std::string>;

// One `gsettings list-recursively org.gnome.system.proxy`; when that fails, `gsettings --version`
// tells "gsettings not installed" from "schema org.gnome.system.proxy not installed".
SystemProxyAnswer query_gnome(const CommandRunner& run);
std::optional<SystemProxy> read_gnome(const CommandRunner& run);

// $XDG_CONFIG_HOME/kioslaverc (absolute values only, as XDG requires), else $HOME/.config/kioslaverc.
// Files over 1 MiB are refused.
SystemProxyAnswer query_kde(const Env& env);
std::optional<SystemProxy> read_kde(const Env& env);

SystemProxyAnswer query_sysconfig(const std::filesystem::path& path = "/etc/sysconfig/proxy");
std::optional<SystemProxy> read_sysconfig(const std::filesystem::path& path = "/etc/sysconfig/proxy");

// `scutil --proxy`; compiled everywhere, consulted on darwin.
SystemProxyAnswer query_macos(const CommandRunner& run);
std::optional<SystemProxy> read_macos(const CommandRunner& run);

#if defined(_WIN32)
// HKEY_CURRENT_USER\Software\Microsoft\Windows\CurrentVersion\Internet Settings.
SystemProxyAnswer query_windows();
std::optional<SystemProxy> read_windows();
#endif

// ---- which sources this host has, in order; the first that says something wins.
struct SystemProxyLookup {
    std::optional<SystemProxy> found;
    std::vector<std::string> skipped; // "<source>: <reason>" for each source consulted before `found` or ruled out
};

struct SystemProxyOptions {
    std::string os;                                                // Go's GOOS; "" = this host
    std::filesystem::path sysconfig_path = "/etc/sysconfig/proxy"; // the SUSE file
};

// darwin: scutil. windows: the registry (when compiled for Windows). Everything else (Linux, BSDs):
// GNOME, KDE, sysconfig, in that order, except that a desktop session identified from
// XDG_CURRENT_DESKTOP (else DESKTOP_SESSION, KDE_FULL_SESSION) rules out the other desktop's
// settings, which would be stale: a GNOME-like session (GNOME, Unity, Budgie, Pantheon, Cinnamon)
// skips KDE, a KDE/Plasma session skips GNOME and consults KDE first. With no recognised session (a
// server over SSH, XFCE, MATE) every source is consulted, so GNOME counts when gsettings has the
// schema and its mode is not none.
SystemProxyLookup read_system_proxy(const Env& env, const CommandRunner& run, const SystemProxyOptions& options = {});

} // namespace goinstall
