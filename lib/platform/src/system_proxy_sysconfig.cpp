// SUSE: /etc/sysconfig/proxy, shell variable assignments sourced by /etc/profile.d and read by YaST.

#include "goinstall/base/strings.hpp"
#include "goinstall/platform/system_proxy.hpp"
#include "system_proxy_internal.hpp"

namespace goinstall {
namespace {

constexpr std::uintmax_t k_max_file_bytes = 1024 * 1024; // the stock file is about 2 KB
constexpr const char* k_default_path = "/etc/sysconfig/proxy";

bool is_name(std::string_view s) {
    if (s.empty() || (s.front() >= '0' && s.front() <= '9')) {
        return false;
    }
    for (char c : s) {
        if (!(c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) {
            return false;
        }
    }
    return true;
}

// The value of one shell word: 'single' literal, "double" with \" \\ \$ \` escapes, unquoted with
// backslash escapes; it ends at unquoted whitespace or ';', and what follows (a comment, another
// command) is ignored. nullopt for an unterminated quote.
std::optional<std::string> shell_word(std::string_view s) {
    std::string out;
    std::size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (c == ' ' || c == '\t' || c == ';') {
            break;
        }
        if (c == '\'') {
            auto end = s.find('\'', i + 1);
            if (end == std::string_view::npos) {
                return std::nullopt;
            }
            out.append(s.substr(i + 1, end - i - 1));
            i = end + 1;
        } else if (c == '"') {
            ++i;
            while (i < s.size() && s[i] != '"') {
                const bool escape = s[i] == '\\' && i + 1 < s.size() && std::string_view("\"\\$`").contains(s[i + 1]);
                if (escape) {
                    ++i;
                }
                out.push_back(s[i++]);
            }
            if (i >= s.size()) {
                return std::nullopt;
            }
            ++i;
        } else if (c == '\\' && i + 1 < s.size()) {
            out.push_back(s[i + 1]);
            i += 2;
        } else {
            out.push_back(c);
            ++i;
        }
    }
    return out;
}

// NAME=value assignments, one per line ("export NAME=value" too). Lines that are not simple
// assignments, and assignments with an unterminated quote, are ignored.
std::map<std::string, std::string> assignments(std::string_view text) {
    std::map<std::string, std::string> out;
    for (auto line : sysproxy::lines_of(text)) {
        line = trim(line);
        if (line.starts_with("export ")) {
            line = trim(line.substr(7));
        }
        auto eq = line.find('=');
        if (line.empty() || line.starts_with('#') || eq == std::string_view::npos || !is_name(line.substr(0, eq))) {
            continue;
        }
        if (auto value = shell_word(line.substr(eq + 1))) {
            out[std::string(line.substr(0, eq))] = std::move(*value);
        }
    }
    return out;
}

std::string value_of(const std::map<std::string, std::string>& vars, const std::string& key) {
    auto it = vars.find(key);
    return it == vars.end() ? std::string() : std::string(trim(it->second));
}

SystemProxyAnswer explain_sysconfig(std::string_view text) {
    const auto vars = assignments(text);
    if (!iequals(value_of(vars, "PROXY_ENABLED"), "yes")) {
        return std::unexpected("PROXY_ENABLED is not \"yes\"");
    }
    SystemProxy proxy;
    proxy.source = k_default_path;
    proxy.mode = SystemProxy::Mode::manual;
    proxy.https_proxy = value_of(vars, "HTTPS_PROXY");
    proxy.http_proxy = value_of(vars, "HTTP_PROXY");
    auto socks = value_of(vars, "SOCKS_PROXY");
    proxy.socks_proxy = sysproxy::socks_url(socks.empty() ? value_of(vars, "SOCKS5_SERVER") : socks);
    proxy.ignore_hosts = sysproxy::split_list(value_of(vars, "NO_PROXY"), ", \t");
    if (proxy.https_proxy.empty() && proxy.http_proxy.empty() && proxy.socks_proxy.empty()) {
        return std::unexpected("PROXY_ENABLED is \"yes\" but no HTTPS_PROXY, HTTP_PROXY or SOCKS_PROXY is set");
    }
    return proxy;
}

} // namespace

std::optional<SystemProxy> parse_sysconfig_proxy(std::string_view text) {
    auto answer = explain_sysconfig(text);
    return answer ? std::optional<SystemProxy>(std::move(*answer)) : std::nullopt;
}

SystemProxyAnswer query_sysconfig(const std::filesystem::path& path) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) {
        return std::unexpected("no " + path.string());
    }
    auto text = sysproxy::read_small_file(path, k_max_file_bytes);
    if (!text) {
        return std::unexpected("cannot read " + path.string());
    }
    auto answer = explain_sysconfig(*text);
    if (answer) {
        answer->source = path.string();
    }
    return answer;
}

std::optional<SystemProxy> read_sysconfig(const std::filesystem::path& path) {
    auto answer = query_sysconfig(path);
    return answer ? std::optional<SystemProxy>(std::move(*answer)) : std::nullopt;
}

} // namespace goinstall
