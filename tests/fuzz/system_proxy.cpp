// Fuzzes the system proxy settings parsers (lib/platform system_proxy.hpp): KDE kioslaverc, SUSE
// /etc/sysconfig/proxy, macOS `scutil --proxy`, GNOME `gsettings list-recursively`, Windows
// Internet Settings values.
// Input: a first line naming the parser ("kde", "sysconfig", "scutil", "gsettings", "windows"),
// then its text; with any other first line, every text parser gets the whole input. For
// "windows" the text is "ProxyEnable\nProxyServer\nProxyOverride\nAutoConfigURL".
// Properties: a returned setting has a mode (none means nullopt) and a source; manual mode has at
// least one proxy; no bypass entry is empty.
#include "fuzz_check.hpp"

#include "goinstall/base/strings.hpp"
#include "goinstall/platform/system_proxy.hpp"

using namespace goinstall;

namespace {

void check(const std::optional<SystemProxy>& p, std::string_view input) {
    if (!p) return;
    const std::string shown(input);
    FUZZ_CHECK(p->mode != SystemProxy::Mode::none, shown);
    FUZZ_CHECK(!p->source.empty(), shown);
    if (p->mode == SystemProxy::Mode::manual) {
        FUZZ_CHECK(!p->https_proxy.empty() || !p->http_proxy.empty() || !p->socks_proxy.empty(), shown);
    }
    for (const auto& h : p->ignore_hosts) FUZZ_CHECK(!h.empty(), shown);
}

void windows(std::string_view text) {
    auto parts = fuzz::split_parts(text, '\n', 4);
    auto enable = parse_u64(parts[0]);
    std::optional<std::uint32_t> proxy_enable;
    if (enable && *enable <= 0xFFFFFFFFu) proxy_enable = static_cast<std::uint32_t>(*enable);
    check(parse_windows_internet_settings(proxy_enable, parts[1], parts[2], parts[3]), text);
}

void gsettings(std::string_view text) {
    const auto values = parse_gsettings_listing(text);
    check(parse_gnome(values), text);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto input = fuzz::as_text(data, size);
    auto parts = fuzz::split_parts(input, '\n', 2);
    const auto kind = parts[0];
    const auto text = parts[1];
    if (kind == "kde") {
        check(parse_kioslaverc(text), input);
    } else if (kind == "sysconfig") {
        check(parse_sysconfig_proxy(text), input);
    } else if (kind == "scutil") {
        check(parse_scutil_proxy(text), input);
    } else if (kind == "gsettings") {
        gsettings(text);
    } else if (kind == "windows") {
        windows(text);
    } else {
        check(parse_kioslaverc(input), input);
        check(parse_sysconfig_proxy(input), input);
        check(parse_scutil_proxy(input), input);
        gsettings(input);
    }
    return 0;
}
