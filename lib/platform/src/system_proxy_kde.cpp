// KDE: the [Proxy Settings] group of kioslaverc (KConfig INI), as KIO's KProtocolManager reads it.

#include "goinstall/base/strings.hpp"
#include "goinstall/platform/system_proxy.hpp"
#include "system_proxy_internal.hpp"

namespace goinstall {
namespace {

constexpr std::uintmax_t k_max_file_bytes = 1024 * 1024; // kioslaverc is a few hundred bytes

// KConfig value escapes: \s (space), \t, \n, \r, \\ ; others are kept as written.
std::string unescape_kconfig(std::string_view v) {
    std::string out;
    for (std::size_t i = 0; i < v.size(); ++i) {
        if (v[i] != '\\' || i + 1 == v.size()) {
            out.push_back(v[i]);
            continue;
        }
        switch (v[++i]) {
        case 's': out.push_back(' '); break;
        case 't': out.push_back('\t'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case '\\': out.push_back('\\'); break;
        default:
            out.push_back('\\');
            out.push_back(v[i]);
            break;
        }
    }
    return out;
}

// The entries of [Proxy Settings]; keys lose KConfig's "[$e]"-style option suffixes. Later
// duplicates win, as in KConfig.
std::map<std::string, std::string> proxy_group(std::string_view text) {
    std::map<std::string, std::string> out;
    bool in_group = false;
    for (auto line : sysproxy::lines_of(text)) {
        line = trim(line);
        if (line.empty() || line.starts_with('#')) {
            continue;
        }
        if (line.starts_with('[') && line.ends_with(']')) {
            in_group = line == "[Proxy Settings]";
            continue;
        }
        auto eq = line.find('=');
        if (!in_group || eq == std::string_view::npos) {
            continue;
        }
        auto key = trim(line.substr(0, eq));
        if (auto bracket = key.find('['); bracket != std::string_view::npos) {
            key = trim(key.substr(0, bracket));
        }
        out[std::string(key)] = unescape_kconfig(trim(line.substr(eq + 1)));
    }
    return out;
}

std::string value_of(const std::map<std::string, std::string>& group, const std::string& key) {
    auto it = group.find(key);
    return it == group.end() ? std::string() : it->second;
}

// KIO's proxyFor(): "http://proxy.corp 8080" → "http://proxy.corp:8080". When the part after the
// last space is not all digits KIO discards the value, and so do we. "DIRECT" means none.
std::string manual_value(std::string value) {
    value = std::string(trim(value));
    if (value == "DIRECT") {
        return {};
    }
    auto space = value.find_last_of(" \t");
    if (space == std::string::npos) {
        return value;
    }
    auto port = sysproxy::parse_port(value.substr(space + 1));
    if (!port) {
        return {};
    }
    return std::string(trim(std::string_view(value).substr(0, space))) + ":" + std::to_string(*port);
}

SystemProxyAnswer explain_kioslaverc(std::string_view text) {
    const auto group = proxy_group(text);
    if (group.empty()) {
        return std::unexpected("no [Proxy Settings] group");
    }
    auto type_text = value_of(group, "ProxyType");
    if (type_text.empty()) {
        return std::unexpected("ProxyType is not set (no proxy)");
    }
    auto type = parse_u64(trim(type_text));
    SystemProxy proxy;
    proxy.source = "KDE (~/.config/kioslaverc)";
    if (!type || *type > 4) {
        return std::unexpected("unknown ProxyType " + sanitize_for_display(type_text, 20));
    }
    if (*type == 0) {
        return std::unexpected("ProxyType is 0 (no proxy)");
    }
    if (*type == 4) {
        return std::unexpected("ProxyType is 4 (use environment variables; consulted separately)");
    }
    proxy.ignore_hosts = sysproxy::split_list(value_of(group, "NoProxyFor"), ", \t");
    if (*type == 2 || *type == 3) {
        proxy.mode = SystemProxy::Mode::auto_pac;
        if (*type == 2) {
            proxy.pac_url = std::string(trim(value_of(group, "Proxy Config Script")));
            if (proxy.pac_url.empty()) {
                return std::unexpected("ProxyType is 2 (PAC) but Proxy Config Script is empty");
            }
        }
        return proxy;
    }
    if (iequals(trim(value_of(group, "ReversedException")), "true")) {
        return std::unexpected("ReversedException=true (only NoProxyFor hosts are proxied) is not supported");
    }
    proxy.mode = SystemProxy::Mode::manual;
    proxy.https_proxy = manual_value(value_of(group, "httpsProxy"));
    proxy.http_proxy = manual_value(value_of(group, "httpProxy"));
    proxy.socks_proxy = sysproxy::socks_url(manual_value(value_of(group, "socksProxy")));
    if (proxy.https_proxy.empty() && proxy.http_proxy.empty() && proxy.socks_proxy.empty()) {
        return std::unexpected("ProxyType is 1 (manual) but no httpsProxy, httpProxy or socksProxy is set");
    }
    return proxy;
}

} // namespace

std::optional<SystemProxy> parse_kioslaverc(std::string_view ini_text) {
    auto answer = explain_kioslaverc(ini_text);
    return answer ? std::optional<SystemProxy>(std::move(*answer)) : std::nullopt;
}

SystemProxyAnswer query_kde(const Env& env) {
    std::filesystem::path dir;
    auto xdg = env.get("XDG_CONFIG_HOME");
    auto home = env.get("HOME");
    if (xdg && std::filesystem::path(*xdg).is_absolute()) {
        dir = *xdg;
    } else if (home && !home->empty()) {
        dir = std::filesystem::path(*home) / ".config";
    } else {
        return std::unexpected("neither XDG_CONFIG_HOME nor HOME is set");
    }
    const auto path = dir / "kioslaverc";
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return std::unexpected("no kioslaverc at " + path.string());
    }
    auto text = sysproxy::read_small_file(path, k_max_file_bytes);
    if (!text) {
        return std::unexpected("cannot read " + path.string());
    }
    auto answer = explain_kioslaverc(*text);
    if (answer) {
        answer->source = "KDE (" + path.string() + ")";
    }
    return answer;
}

std::optional<SystemProxy> read_kde(const Env& env) {
    auto answer = query_kde(env);
    return answer ? std::optional<SystemProxy>(std::move(*answer)) : std::nullopt;
}

} // namespace goinstall
