#include "goinstall/net/proxy_resolver.hpp"

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "goinstall/net/pac.hpp"

namespace goinstall {

namespace {

// The first set variable among `names` (curl reads lowercase first), with its name.
std::optional<std::pair<std::string, std::string>> first_env(const Env& env, std::initializer_list<const char*> names) {
    for (const char* n : names) {
        if (auto v = env.get(n); v && !trim(*v).empty()) {
            return std::make_pair(std::string(n), std::string(trim(*v)));
        }
    }
    return std::nullopt;
}

// --proxy-user USER:PASSWORD overrides the credentials of whichever proxy was chosen.
void apply_proxy_user(ProxySpec& spec, const std::string& user_password) {
    if (user_password.empty()) return;
    auto colon = user_password.find(':');
    spec.user = user_password.substr(0, colon);
    spec.password = colon == std::string::npos ? "" : user_password.substr(colon + 1);
}

// The port a request really goes to, which NO_PROXY `host:port` entries compare with (as Go's
// httpproxy does): the URL's, else the scheme's (RFC 9110 §4.2.1, §4.2.2).
std::optional<unsigned> effective_port(const Url& u) {
    if (u.port) return u.port;
    if (u.scheme == "https") return 443;
    if (u.scheme == "http") return 80;
    return std::nullopt;
}

std::string join(const std::vector<std::string>& parts, const char* sep) {
    std::string out;
    for (const auto& p : parts) out += (out.empty() ? "" : sep) + p;
    return out;
}

} // namespace

ProxyResolver ProxyResolver::direct() {
    ProxyResolver r;
    r.m_settings.no_proxy = true;
    return r;
}

Result<ProxyResolver> ProxyResolver::create(const ProxySettings& settings, const Env& env,
                                            const SystemProxyLookup& system) {
    ProxyResolver r(settings);
    auto parse = [&](const std::string& text, const std::string& source) -> Result<ProxySpec> {
        auto spec = parse_proxy_url(text, source);
        if (!spec) return std::unexpected(spec.error());
        apply_proxy_user(*spec, settings.proxy_user);
        return spec;
    };
    // The bypass list from flags, else the environment.
    std::optional<std::pair<std::string, std::string>> no_proxy_env = first_env(env, {"no_proxy", "NO_PROXY"});
    NoProxyList bypass =
        parse_no_proxy(settings.noproxy_hosts ? *settings.noproxy_hosts : (no_proxy_env ? no_proxy_env->second : ""));

    // Tier 1: flags.
    {
        std::vector<Candidate> tier;
        if (settings.proxy && !settings.no_proxy) {
            auto spec = parse(*settings.proxy, "--proxy");
            if (!spec) return std::unexpected(spec.error());
            tier.push_back({"--proxy", *spec, true, true, bypass});
        }
        r.m_tiers.push_back(std::move(tier));
        r.m_tier_names.emplace_back("--proxy");
        r.m_tier_empty.emplace_back("not given");
    }
    // Tier 2: environment.
    {
        std::vector<Candidate> tier;
        if (auto v = first_env(env, {"https_proxy", "HTTPS_PROXY"})) {
            auto spec = parse(v->second, v->first);
            if (!spec) return std::unexpected(spec.error());
            tier.push_back({v->first, *spec, true, false, bypass});
        }
        if (auto v = first_env(env, {"http_proxy"})) {
            auto spec = parse(v->second, v->first);
            if (!spec) return std::unexpected(spec.error());
            tier.push_back({v->first, *spec, false, true, bypass});
        }
        if (auto v = first_env(env, {"all_proxy", "ALL_PROXY"})) {
            auto spec = parse(v->second, v->first);
            if (!spec) return std::unexpected(spec.error());
            tier.push_back({v->first, *spec, true, true, bypass});
        }
        if (env.get("HTTP_PROXY") && !env.get("http_proxy")) {
            r.m_notes.emplace_back("HTTP_PROXY (uppercase) is ignored, as curl does; set http_proxy");
        }
        r.m_tiers.push_back(std::move(tier));
        r.m_tier_names.emplace_back("environment");
        r.m_tier_empty.emplace_back("no https_proxy/http_proxy/all_proxy set");
    }
    // Tier 3: config file.
    {
        std::vector<Candidate> tier;
        if (settings.config_proxy && !trim(*settings.config_proxy).empty()) {
            auto spec = parse(*settings.config_proxy, "config file \"proxy\"");
            if (!spec) return std::unexpected(spec.error());
            tier.push_back({"config file", *spec, true, true, bypass});
        }
        r.m_tiers.push_back(std::move(tier));
        r.m_tier_names.emplace_back("config file");
        r.m_tier_empty.emplace_back("no \"proxy\" key");
    }
    // Tier 4: system settings.
    {
        std::vector<Candidate> tier;
        std::string empty_reason = settings.use_system ? join(system.skipped, "; ") : "not consulted";
        if (settings.use_system && system.found) {
            const auto& sp = *system.found;
            NoProxyList sys_bypass = settings.noproxy_hosts ? bypass : parse_no_proxy(join(sp.ignore_hosts, ","));
            if (sp.mode == SystemProxy::Mode::manual) {
                auto add = [&](const std::string& text, bool https, bool http) -> Status {
                    if (text.empty()) return {};
                    auto spec = parse(text, sp.source);
                    if (!spec) return std::unexpected(spec.error());
                    tier.push_back({sp.source, *spec, https, http, sys_bypass});
                    return {};
                };
                if (auto st = add(sp.https_proxy, true, false); !st) return std::unexpected(st.error());
                if (auto st = add(sp.http_proxy, false, true); !st) return std::unexpected(st.error());
                if (auto st = add(sp.socks_proxy, true, true); !st) return std::unexpected(st.error());
            } else if (sp.mode == SystemProxy::Mode::auto_pac) {
                const std::string what = sp.pac_url.empty() ? std::string(" uses WPAD auto-discovery")
                                                            : " uses a PAC file (" + redact_url(sp.pac_url) + ")";
                if (settings.pac) {
                    empty_reason = sp.source + what + ": see the PAC step";
                } else if (!settings.pac_unavailable.empty()) {
                    empty_reason = sp.source + what + "; " + settings.pac_unavailable;
                    r.m_notes.push_back(settings.pac_unavailable);
                } else {
                    empty_reason = sp.source + what + ", which was not evaluated; pass --proxy or --pac-url";
                    r.m_notes.push_back(empty_reason);
                }
            }
        }
        if (empty_reason.empty()) empty_reason = "nothing configured";
        r.m_tiers.push_back(std::move(tier));
        r.m_tier_names.emplace_back("system settings");
        r.m_tier_empty.push_back(empty_reason);
    }
    if (no_proxy_env && !bypass.entries.empty()) {
        if (!covers_loopback(bypass)) {
            r.m_notes.push_back(no_proxy_env->first + " does not list localhost: goinstall never proxies loopback, "
                                                      "but other tools may");
        }
    }
    for (const auto& ig : bypass.ignored) {
        r.m_notes.push_back("NO_PROXY entry '" + ig + "' was not understood and is ignored");
    }
    return r;
}

ProxyChoice ProxyResolver::choose(const std::string& url) const {
    ProxyChoice c;
    if (m_settings.no_proxy) {
        c.reason = "--no-proxy";
        return c;
    }
    auto u = parse_url(url);
    if (!u || u->scheme == "file") {
        c.reason = "local file";
        return c;
    }
    if (is_loopback_host(u->host)) {
        c.reason = "loopback is never proxied";
        return c;
    }
    const bool https = u->scheme == "https";
    for (std::size_t t = 0; t < m_tiers.size(); ++t) {
        const Candidate* pick = nullptr;
        for (const auto& cand : m_tiers[t]) {
            if ((https && cand.for_https) || (!https && cand.for_http)) {
                pick = &cand;
                break;
            }
        }
        if (pick == nullptr) {
            c.skipped.push_back(m_tier_names[t] + ": " +
                                (m_tiers[t].empty()
                                     ? m_tier_empty[t]
                                     : std::string("nothing for ") + (https ? "https" : "http") + " URLs"));
            continue;
        }
        if (auto why = bypass_reason(pick->bypass, u->host, effective_port(*u))) {
            c.source = pick->source;
            c.reason = *why;
            return c; // the deciding source says: go direct for this host
        }
        c.proxy = pick->spec;
        c.source = pick->source;
        c.reason = "from " + pick->source;
        return c;
    }
    if (m_settings.pac) {
        return choose_by_pac(url, u->host, std::move(c));
    }
    c.reason = m_settings.pac_unavailable.empty() ? std::string("no proxy configured")
                                                  : m_settings.pac_unavailable + "; going direct";
    return c;
}

ProxyChoice ProxyResolver::choose_by_pac(const std::string& url, const std::string& host, ProxyChoice c) const {
    auto answer = m_settings.pac->find_proxy(pac_url(url), host);
    c.source = "PAC " + m_settings.pac_source;
    if (!answer || answer->empty()) {
        c.reason = "PAC " + m_settings.pac_source + " gave no usable answer (" +
                   (answer ? std::string("empty") : answer.error().message()) + "); going direct";
        return c;
    }
    std::vector<std::optional<ProxySpec>> list;
    std::string said;
    for (const auto& e : *answer) {
        said += (said.empty() ? "" : "; ") +
                (e.kind == PacEntry::Kind::direct ? std::string("DIRECT") : e.scheme + " " + e.host_port);
        if (e.kind == PacEntry::Kind::direct) {
            list.emplace_back(std::nullopt);
            continue;
        }
        auto spec = parse_proxy_url(e.scheme + "://" + e.host_port, "PAC");
        if (!spec) continue; // an entry we cannot use is skipped, as browsers do
        apply_proxy_user(*spec, m_settings.proxy_user);
        list.emplace_back(std::move(*spec));
    }
    if (list.empty()) {
        c.reason = "PAC answered '" + said + "', nothing usable; going direct";
        return c;
    }
    c.proxy = list.front();
    c.alternatives.assign(list.begin() + 1, list.end());
    c.reason = "PAC " + m_settings.pac_source + " answered '" + said + "'";
    return c;
}

} // namespace goinstall
