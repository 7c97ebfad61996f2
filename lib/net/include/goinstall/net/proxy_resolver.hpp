#pragma once
// Which proxy a request uses, decided once per URL from one ordered chain of sources, so that every
// request (index, archive, probe, triage) follows the same rule and the choice can be explained.
//   1. --no-proxy / --proxy URL (and --noproxy-hosts)
//   2. environment: https_proxy/HTTPS_PROXY for https URLs, http_proxy (lowercase only, as curl:
//      an uppercase HTTP_PROXY can be injected by CGI's "Proxy:" request header, httpoxy), then
//      all_proxy/ALL_PROXY; bypass list from no_proxy/NO_PROXY
//   3. goinstall's config file ("proxy" key)
//   4. the system's settings (GNOME, KDE, /etc/sysconfig/proxy, macOS), with their bypass lists
//   5. a PAC script (--pac-url, the system's autoconfig URL, or one found by WPAD when the system
//      asks for auto-detection; see wpad.hpp): FindProxyForURL per request
// Loopback and file:// are never proxied. The first source that names a proxy decides.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "goinstall/base/error.hpp"
#include "goinstall/net/no_proxy.hpp"
#include "goinstall/net/proxy_url.hpp"
#include "goinstall/platform/env.hpp"
#include "goinstall/platform/system_proxy.hpp"

namespace goinstall {

class PacScript; // goinstall/net/pac.hpp

struct ProxySettings {
    std::optional<std::string> proxy;         // --proxy URL
    bool no_proxy = false;                    // --no-proxy: always direct
    std::optional<std::string> noproxy_hosts; // --noproxy-hosts LIST (replaces NO_PROXY)
    std::optional<std::string> config_proxy;  // config file "proxy"
    std::string proxy_user;                   // --proxy-user USER:PASSWORD (overrides URL credentials)
    std::string proxy_auth = "any";           // basic, digest, ntlm, negotiate, any
    bool use_system = true;                   // consult desktop/system settings
    // A compiled PAC script (from --pac-url or the system's autoconfig URL) and where it came from.
    std::shared_ptr<const PacScript> pac;
    std::string pac_source;
    // Why the PAC step the system's settings ask for has no script ("WPAD: no wpad.dat at ...", "WPAD
    // not run: HTTPS_PROXY names a proxy", "PAC file not loaded: <why>"): requests that reach that
    // step go direct with this as the reason; it is also a note.
    std::string pac_unavailable;
};

struct ProxyChoice {
    std::optional<ProxySpec> proxy; // nullopt: direct
    // A PAC answer's later entries ("PROXY a; SOCKS5 b; DIRECT"), tried in order when the proxy
    // before them cannot be reached; nullopt entries mean DIRECT.
    std::vector<std::optional<ProxySpec>> alternatives;
    std::string source;               // "--proxy", "HTTPS_PROXY", "config file", "GNOME ...", or "" when direct
    std::string reason;               // one line: why this proxy, or why direct
    std::vector<std::string> skipped; // sources consulted before the deciding one, each with why
};

class ProxyResolver {
public:
    // Parses every proxy value up front: a bad one is a usage error naming where it came from.
    static Result<ProxyResolver> create(const ProxySettings& settings, const Env& env, const SystemProxyLookup& system);
    // A resolver that always goes direct.
    static ProxyResolver direct();

    ProxyChoice choose(const std::string& url) const;
    const std::string& proxy_auth() const { return m_settings.proxy_auth; }
    // Warnings about the configuration itself (e.g. NO_PROXY set without loopback), for triage.
    const std::vector<std::string>& notes() const { return m_notes; }

private:
    ProxyChoice choose_by_pac(const std::string& url, const std::string& host, ProxyChoice c) const;
    ProxyResolver() = default;
    explicit ProxyResolver(ProxySettings settings) : m_settings(std::move(settings)) {}
    struct Candidate {
        std::string source;
        ProxySpec spec;
        bool for_https = true, for_http = true;
        NoProxyList bypass;
    };
    ProxySettings m_settings;
    std::vector<std::vector<Candidate>> m_tiers; // in order; within a tier, scheme-specific first
    std::vector<std::string> m_tier_names;
    std::vector<std::string> m_tier_empty; // why a tier said nothing
    std::vector<std::string> m_notes;
};

} // namespace goinstall
