// GNOME: the org.gnome.system.proxy schema as printed by gsettings (GVariant text format).

#include <cstdint>

#include "goinstall/base/strings.hpp"
#include "goinstall/platform/system_proxy.hpp"
#include "system_proxy_internal.hpp"

namespace goinstall {
namespace {

constexpr std::string_view k_schema = "org.gnome.system.proxy";
constexpr const char* k_source = "GNOME (gsettings org.gnome.system.proxy)";

void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
}

// Reads a GVariant string literal ('...' or "...", backslash escapes incl. \uXXXX and \UXXXXXXXX)
// at the start of `s`, advancing it past the closing quote. nullopt when `s` is not one.
std::optional<std::string> take_string(std::string_view& s) {
    if (s.empty() || (s.front() != '\'' && s.front() != '"')) {
        return std::nullopt;
    }
    const char quote = s.front();
    std::string out;
    std::size_t i = 1;
    for (; i < s.size() && s[i] != quote; ++i) {
        if (s[i] != '\\') {
            out.push_back(s[i]);
            continue;
        }
        if (++i >= s.size()) {
            return std::nullopt;
        }
        const char c = s[i];
        if (c == 'u' || c == 'U') {
            const std::size_t digits = c == 'u' ? 4 : 8;
            if (i + digits >= s.size()) {
                return std::nullopt;
            }
            std::uint32_t cp = 0;
            for (std::size_t k = 1; k <= digits; ++k) {
                const char h = s[i + k];
                const int v = h >= '0' && h <= '9'   ? h - '0'
                              : h >= 'a' && h <= 'f' ? h - 'a' + 10
                              : h >= 'A' && h <= 'F' ? h - 'A' + 10
                                                     : -1;
                if (v < 0) {
                    return std::nullopt;
                }
                cp = cp * 16 + static_cast<std::uint32_t>(v);
            }
            if (cp > 0x10FFFF) {
                return std::nullopt;
            }
            append_utf8(out, cp);
            i += digits;
            continue;
        }
        switch (c) {
        case 'n': out.push_back('\n'); break;
        case 't': out.push_back('\t'); break;
        case 'r': out.push_back('\r'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'v': out.push_back('\v'); break;
        default: out.push_back(c); break; // \\ \' \" and anything else stand for themselves
        }
    }
    if (i >= s.size()) {
        return std::nullopt;
    }
    s.remove_prefix(i + 1);
    return out;
}

std::optional<std::string> gvariant_string(std::string_view text) {
    text = trim(text);
    auto value = take_string(text);
    if (!value || !trim(text).empty()) {
        return std::nullopt;
    }
    return value;
}

// 8080, or with an explicit type annotation ("int32 8080").
std::optional<std::uint64_t> gvariant_port(std::string_view text) {
    text = trim(text);
    if (text.starts_with("int32 ")) {
        text.remove_prefix(6);
    }
    return sysproxy::parse_port(text);
}

// ['a', 'b'], [], @as [] → the strings; nullopt when it is not an array of strings.
std::optional<std::vector<std::string>> gvariant_string_array(std::string_view text) {
    text = trim(text);
    if (text.starts_with("@as")) {
        text = trim(text.substr(3));
    }
    if (!text.starts_with('[')) {
        return std::nullopt;
    }
    text = trim(text.substr(1));
    std::vector<std::string> out;
    while (!text.starts_with(']')) {
        auto item = take_string(text);
        if (!item) {
            return std::nullopt;
        }
        out.push_back(std::move(*item));
        text = trim(text);
        if (text.starts_with(',')) {
            text = trim(text.substr(1));
        } else if (!text.starts_with(']')) {
            return std::nullopt;
        }
    }
    if (!trim(text.substr(1)).empty()) {
        return std::nullopt;
    }
    return out;
}

const std::string* find(const std::map<std::string, std::string>& values, const std::string& key) {
    auto it = values.find(key);
    return it == values.end() ? nullptr : &it->second;
}

// "host:port" for one protocol's child schema when it is configured (host non-empty, port non-0).
std::string configured(const std::map<std::string, std::string>& values, const std::string& protocol) {
    const auto* host_text = find(values, protocol + ".host");
    const auto* port_text = find(values, protocol + ".port");
    if (host_text == nullptr || port_text == nullptr) {
        return {};
    }
    auto host = gvariant_string(*host_text);
    auto port = gvariant_port(*port_text);
    if (!host || host->empty() || !port) {
        return {};
    }
    return sysproxy::host_port(trim(*host), *port);
}

SystemProxyAnswer explain_gnome(const std::map<std::string, std::string>& values) {
    const auto* mode_text = find(values, "mode");
    if (mode_text == nullptr) {
        return std::unexpected("no mode key");
    }
    auto mode = gvariant_string(*mode_text);
    if (!mode) {
        return std::unexpected("mode is not a string: " + sanitize_for_display(*mode_text, 60));
    }
    SystemProxy proxy;
    proxy.source = k_source;
    if (const auto* ignore = find(values, "ignore-hosts")) {
        proxy.ignore_hosts = gvariant_string_array(*ignore).value_or(std::vector<std::string>{});
    }
    if (*mode == "none") {
        return std::unexpected("mode is none");
    }
    if (*mode == "auto") {
        proxy.mode = SystemProxy::Mode::auto_pac;
        if (const auto* url = find(values, "autoconfig-url")) {
            proxy.pac_url = std::string(trim(gvariant_string(*url).value_or("")));
        }
        return proxy;
    }
    if (*mode != "manual") {
        return std::unexpected("unknown mode " + sanitize_for_display(*mode, 40));
    }
    proxy.mode = SystemProxy::Mode::manual;
    proxy.http_proxy = configured(values, "http");
    proxy.https_proxy = configured(values, "https");
    if (proxy.https_proxy.empty()) {
        proxy.https_proxy = proxy.http_proxy; // documented in the schema's description of "mode"
    }
    auto socks = configured(values, "socks");
    proxy.socks_proxy = socks.empty() ? "" : sysproxy::socks_url(socks);
    if (proxy.https_proxy.empty() && proxy.socks_proxy.empty()) {
        return std::unexpected("mode is manual but no proxy host and port are set");
    }
    return proxy;
}

} // namespace

std::map<std::string, std::string> parse_gsettings_listing(std::string_view text) {
    std::map<std::string, std::string> out;
    for (auto line : sysproxy::lines_of(text)) {
        line = trim(line);
        auto first = line.find(' ');
        if (first == std::string_view::npos) {
            continue;
        }
        auto schema = line.substr(0, first);
        auto rest = trim(line.substr(first + 1));
        auto second = rest.find(' ');
        if (!schema.starts_with(k_schema) || second == std::string_view::npos) {
            continue;
        }
        auto child = schema.substr(k_schema.size());
        if (!child.empty() && !child.starts_with('.')) {
            continue; // another schema sharing the prefix
        }
        std::string key = child.empty() ? "" : std::string(child.substr(1)) + ".";
        key.append(rest.substr(0, second));
        out[key] = std::string(trim(rest.substr(second + 1)));
    }
    return out;
}

std::optional<SystemProxy> parse_gnome(const std::map<std::string, std::string>& gsettings_values) {
    auto answer = explain_gnome(gsettings_values);
    return answer ? std::optional<SystemProxy>(std::move(*answer)) : std::nullopt;
}

SystemProxyAnswer query_gnome(const CommandRunner& run) {
    auto listing = run({"gsettings", "list-recursively", std::string(k_schema)});
    if (!listing) {
        if (!run({"gsettings", "--version"})) {
            return std::unexpected("gsettings not installed");
        }
        return std::unexpected("schema org.gnome.system.proxy not installed");
    }
    return explain_gnome(parse_gsettings_listing(*listing));
}

std::optional<SystemProxy> read_gnome(const CommandRunner& run) {
    auto answer = query_gnome(run);
    return answer ? std::optional<SystemProxy>(std::move(*answer)) : std::nullopt;
}

} // namespace goinstall
