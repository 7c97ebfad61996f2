// Windows: the WinINet settings under HKCU\Software\Microsoft\Windows\CurrentVersion\Internet Settings.
// The parser is compiled everywhere; the registry reader only on Windows.

#include "goinstall/base/strings.hpp"
#include "goinstall/platform/system_proxy.hpp"
#include "system_proxy_internal.hpp"

#if defined(_WIN32)
#include <cwchar>

#include <windows.h>
#endif

namespace goinstall {
namespace {

constexpr const char* k_source = "Windows (Internet Settings)";

// ProxyServer: "host:port" (every protocol), or "scheme=host:port" entries separated by ';'. A
// "socks=" entry without a scheme is SOCKS4: WinINet speaks no other (Chromium reads it the same way).
void apply_proxy_server(SystemProxy& proxy, std::string_view server) {
    if (server.find('=') == std::string_view::npos) {
        proxy.https_proxy = std::string(trim(server));
        proxy.http_proxy = proxy.https_proxy;
        return;
    }
    for (const auto& entry : sysproxy::split_list(server, "; \t")) {
        auto eq = entry.find('=');
        if (eq == std::string::npos) {
            continue;
        }
        const auto scheme = to_lower(trim(std::string_view(entry).substr(0, eq)));
        const auto value = std::string(trim(std::string_view(entry).substr(eq + 1)));
        if (scheme == "https") {
            proxy.https_proxy = value;
        } else if (scheme == "http") {
            proxy.http_proxy = value;
        } else if (scheme == "socks") {
            proxy.socks_proxy = sysproxy::socks_url(value, "socks4");
        }
    }
}

SystemProxyAnswer explain_windows(std::optional<std::uint32_t> proxy_enable, std::string_view proxy_server,
                                  std::string_view proxy_override, std::string_view auto_config_url) {
    SystemProxy proxy;
    proxy.source = k_source;
    const bool manual = proxy_enable.value_or(0) != 0;
    if (manual) {
        apply_proxy_server(proxy, proxy_server);
    }
    proxy.ignore_hosts = sysproxy::split_list(proxy_override, ";");
    proxy.pac_url = std::string(trim(auto_config_url));
    if (!proxy.pac_url.empty()) {
        proxy.mode = SystemProxy::Mode::auto_pac;
        return proxy;
    }
    if (!manual) {
        return std::unexpected("ProxyEnable is 0 and AutoConfigURL is empty");
    }
    if (proxy.https_proxy.empty() && proxy.http_proxy.empty() && proxy.socks_proxy.empty()) {
        return std::unexpected("ProxyEnable is 1 but ProxyServer names no http, https or socks proxy");
    }
    proxy.mode = SystemProxy::Mode::manual;
    return proxy;
}

#if defined(_WIN32)
std::string narrow(const std::wstring& wide) {
    if (wide.empty()) {
        return {};
    }
    const int wide_len = static_cast<int>(wide.size());
    const int n = WideCharToMultiByte(CP_UTF8, 0, wide.data(), wide_len, nullptr, 0, nullptr, nullptr);
    std::string out(static_cast<std::size_t>(n > 0 ? n : 0), '\0');
    if (n > 0) {
        WideCharToMultiByte(CP_UTF8, 0, wide.data(), wide_len, out.data(), n, nullptr, nullptr);
    }
    return out;
}

constexpr const wchar_t* k_key = L"Software\\Microsoft\\Windows\\CurrentVersion\\Internet Settings";

std::string registry_string(const wchar_t* name) {
    DWORD bytes = 0;
    if (RegGetValueW(HKEY_CURRENT_USER, k_key, name, RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ | RRF_NOEXPAND, nullptr,
                     nullptr, &bytes) != ERROR_SUCCESS ||
        bytes == 0 || bytes > 64 * 1024) {
        return {};
    }
    std::wstring value(bytes / sizeof(wchar_t) + 1, L'\0');
    if (RegGetValueW(HKEY_CURRENT_USER, k_key, name, RRF_RT_REG_SZ | RRF_RT_REG_EXPAND_SZ | RRF_NOEXPAND, nullptr,
                     value.data(), &bytes) != ERROR_SUCCESS) {
        return {};
    }
    value.resize(wcsnlen(value.c_str(), value.size()));
    return narrow(value);
}

std::optional<std::uint32_t> registry_dword(const wchar_t* name) {
    DWORD value = 0;
    DWORD bytes = sizeof(value);
    if (RegGetValueW(HKEY_CURRENT_USER, k_key, name, RRF_RT_REG_DWORD, nullptr, &value, &bytes) != ERROR_SUCCESS) {
        return std::nullopt;
    }
    return static_cast<std::uint32_t>(value);
}
#endif

} // namespace

std::optional<SystemProxy> parse_windows_internet_settings(std::optional<std::uint32_t> proxy_enable,
                                                           std::string_view proxy_server,
                                                           std::string_view proxy_override,
                                                           std::string_view auto_config_url) {
    auto answer = explain_windows(proxy_enable, proxy_server, proxy_override, auto_config_url);
    return answer ? std::optional<SystemProxy>(std::move(*answer)) : std::nullopt;
}

#if defined(_WIN32)
SystemProxyAnswer query_windows() {
    return explain_windows(registry_dword(L"ProxyEnable"), registry_string(L"ProxyServer"),
                           registry_string(L"ProxyOverride"), registry_string(L"AutoConfigURL"));
}

std::optional<SystemProxy> read_windows() {
    auto answer = query_windows();
    return answer ? std::optional<SystemProxy>(std::move(*answer)) : std::nullopt;
}
#endif

} // namespace goinstall
