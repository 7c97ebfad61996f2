// macOS: `scutil --proxy`, the SCDynamicStoreCopyProxies dictionary printed by SystemConfiguration.

#include "goinstall/base/strings.hpp"
#include "goinstall/platform/system_proxy.hpp"
#include "system_proxy_internal.hpp"

namespace goinstall {
namespace {

constexpr const char* k_source = "macOS (scutil --proxy)";

struct ScutilDictionary {
    std::map<std::string, std::string> scalars; // top-level "Key : value"
    std::vector<std::string> exceptions;        // ExceptionsList entries, in order
};

// Parses the printed dictionary. Only the top level is kept, plus the ExceptionsList array; nested
// containers (__SCOPED__, per-interface copies) are skipped. nullopt when the text is not a single
// balanced "<dictionary> { ... }".
std::optional<ScutilDictionary> parse_dictionary(std::string_view text) {
    ScutilDictionary dict;
    int depth = 0;
    bool closed = false;
    bool in_exceptions = false;
    for (auto raw : sysproxy::lines_of(text)) {
        auto line = trim(raw);
        if (line.empty()) {
            continue;
        }
        if (closed) {
            return std::nullopt; // text after the closing brace
        }
        if (depth == 0) {
            if (line != "<dictionary> {") {
                return std::nullopt;
            }
            depth = 1;
            continue;
        }
        if (line == "}") {
            in_exceptions = false;
            closed = --depth == 0;
            continue;
        }
        auto sep = line.find(" : ");
        if (sep == std::string_view::npos) {
            return std::nullopt;
        }
        auto key = trim(line.substr(0, sep));
        auto value = trim(line.substr(sep + 3));
        if (value == "<dictionary> {" || value == "<array> {") {
            in_exceptions = depth == 1 && key == "ExceptionsList";
            ++depth;
            continue;
        }
        if (depth == 1) {
            dict.scalars[std::string(key)] = std::string(value);
        } else if (in_exceptions && depth == 2) {
            dict.exceptions.emplace_back(value);
        }
    }
    if (!closed) {
        return std::nullopt;
    }
    return dict;
}

std::string scalar(const ScutilDictionary& dict, const std::string& key) {
    auto it = dict.scalars.find(key);
    return it == dict.scalars.end() ? std::string() : it->second;
}

// "host:port" when <prefix>Enable is 1 and <prefix>Proxy/<prefix>Port are a host and a valid port.
std::string enabled_proxy(const ScutilDictionary& dict, const std::string& prefix) {
    if (scalar(dict, prefix + "Enable") != "1") {
        return {};
    }
    auto host = scalar(dict, prefix + "Proxy");
    auto port = sysproxy::parse_port(scalar(dict, prefix + "Port"));
    if (host.empty() || !port) {
        return {};
    }
    return sysproxy::host_port(host, *port);
}

SystemProxyAnswer explain_scutil(std::string_view text) {
    auto dict = parse_dictionary(text);
    if (!dict) {
        return std::unexpected("unrecognised scutil --proxy output");
    }
    SystemProxy proxy;
    proxy.source = k_source;
    proxy.https_proxy = enabled_proxy(*dict, "HTTPS");
    proxy.http_proxy = enabled_proxy(*dict, "HTTP");
    auto socks = enabled_proxy(*dict, "SOCKS");
    proxy.socks_proxy = socks.empty() ? "" : sysproxy::socks_url(socks);
    proxy.ignore_hosts = dict->exceptions;
    if (scalar(*dict, "ProxyAutoConfigEnable") == "1" && !scalar(*dict, "ProxyAutoConfigURLString").empty()) {
        proxy.mode = SystemProxy::Mode::auto_pac;
        proxy.pac_url = scalar(*dict, "ProxyAutoConfigURLString");
    } else if (scalar(*dict, "ProxyAutoDiscoveryEnable") == "1") {
        proxy.mode = SystemProxy::Mode::auto_pac;
    } else if (!proxy.https_proxy.empty() || !proxy.http_proxy.empty() || !proxy.socks_proxy.empty()) {
        proxy.mode = SystemProxy::Mode::manual;
    } else {
        return std::unexpected("no proxy is enabled");
    }
    return proxy;
}

} // namespace

std::optional<SystemProxy> parse_scutil_proxy(std::string_view text) {
    auto answer = explain_scutil(text);
    return answer ? std::optional<SystemProxy>(std::move(*answer)) : std::nullopt;
}

SystemProxyAnswer query_macos(const CommandRunner& run) {
    auto output = run({"scutil", "--proxy"});
    if (!output) {
        return std::unexpected("scutil --proxy failed or is not installed");
    }
    return explain_scutil(*output);
}

std::optional<SystemProxy> read_macos(const CommandRunner& run) {
    auto answer = query_macos(run);
    return answer ? std::optional<SystemProxy>(std::move(*answer)) : std::nullopt;
}

} // namespace goinstall
