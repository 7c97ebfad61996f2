// Shared helpers and the per-host choice of sources (read_system_proxy).

#include "goinstall/platform/system_proxy.hpp"

#include <fstream>
#include <system_error>

#include "goinstall/base/strings.hpp"
#include "goinstall/platform/host.hpp"
#include "system_proxy_internal.hpp"

namespace goinstall {
namespace sysproxy {

std::string host_port(std::string_view host, std::uint64_t port) {
    std::string out;
    const bool bare_ipv6 = host.find(':') != std::string_view::npos && host.find("://") == std::string_view::npos &&
                           !host.starts_with('[');
    if (bare_ipv6) {
        out.append("[").append(host).append("]");
    } else {
        out.append(host);
    }
    return out + ":" + std::to_string(port);
}

std::optional<std::uint64_t> parse_port(std::string_view text) {
    auto port = parse_u64(trim(text));
    if (!port || *port == 0 || *port > 65535) {
        return std::nullopt;
    }
    return port;
}

std::string socks_url(std::string_view value, std::string_view default_scheme) {
    value = trim(value);
    if (value.empty()) {
        return {};
    }
    auto sep = value.find("://");
    if (sep == std::string_view::npos) {
        return std::string(default_scheme) + "://" + std::string(value);
    }
    std::string scheme = to_lower(value.substr(0, sep));
    if (scheme == "socks4" || scheme == "socks4a" || scheme == "socks5" || scheme == "socks5h") {
        return scheme + std::string(value.substr(sep));
    }
    return std::string(default_scheme) + std::string(value.substr(sep));
}

std::vector<std::string> split_list(std::string_view text, std::string_view separators) {
    std::vector<std::string> out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto pos = text.find_first_of(separators, start);
        auto piece = trim(text.substr(start, pos == std::string_view::npos ? std::string_view::npos : pos - start));
        if (!piece.empty()) {
            out.emplace_back(piece);
        }
        if (pos == std::string_view::npos) {
            break;
        }
        start = pos + 1;
    }
    return out;
}

std::optional<std::string> read_small_file(const std::filesystem::path& path, std::uintmax_t max_bytes) {
    std::error_code ec;
    auto size = std::filesystem::file_size(path, ec);
    if (ec || size > max_bytes) {
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        return std::nullopt;
    }
    std::string text(static_cast<std::size_t>(size), '\0');
    in.read(text.data(), static_cast<std::streamsize>(text.size()));
    text.resize(static_cast<std::size_t>(in.gcount()));
    if (in.bad()) {
        return std::nullopt;
    }
    return text;
}

std::vector<std::string_view> lines_of(std::string_view text) {
    std::vector<std::string_view> out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto nl = text.find('\n', start);
        auto line = text.substr(start, nl == std::string_view::npos ? std::string_view::npos : nl - start);
        if (line.ends_with('\r')) {
            line.remove_suffix(1);
        }
        out.push_back(line);
        if (nl == std::string_view::npos) {
            break;
        }
        start = nl + 1;
    }
    return out;
}

} // namespace sysproxy

namespace {

enum class Desktop { unknown, gnome_like, kde };

bool is_gnome_like(const std::string& name) {
    return name == "gnome" || name.starts_with("gnome-") || name == "unity" || name == "ubuntu" || name == "budgie" ||
           name == "budgie-desktop" || name == "pantheon" || name == "x-cinnamon" || name == "cinnamon";
}

bool is_kde(const std::string& name) { return name == "kde" || name.starts_with("plasma") || name == "kde-plasma"; }

// The session's desktop family: XDG_CURRENT_DESKTOP (a ':'-separated list, most specific first),
// else DESKTOP_SESSION (sometimes a path to a .desktop session file), else KDE_FULL_SESSION.
Desktop detect_desktop(const Env& env) {
    if (auto current = env.get("XDG_CURRENT_DESKTOP")) {
        for (const auto& part : split(*current, ':')) {
            auto name = to_lower(trim(part));
            if (is_kde(name)) {
                return Desktop::kde;
            }
            if (is_gnome_like(name)) {
                return Desktop::gnome_like;
            }
        }
    }
    if (auto session = env.get("DESKTOP_SESSION")) {
        auto name = to_lower(std::filesystem::path(std::string(trim(*session))).filename().string());
        if (name.ends_with(".desktop")) {
            name.resize(name.size() - 8);
        }
        if (is_kde(name) || name.starts_with("plasma")) {
            return Desktop::kde;
        }
        if (is_gnome_like(name)) {
            return Desktop::gnome_like;
        }
    }
    if (env.get("KDE_FULL_SESSION").value_or("") == "true") {
        return Desktop::kde;
    }
    return Desktop::unknown;
}

// Consults one source; records the reason when it says nothing. True when it said something.
bool consult(SystemProxyLookup& lookup, std::string_view name, const SystemProxyAnswer& answer) {
    if (answer) {
        lookup.found = *answer;
        return true;
    }
    lookup.skipped.push_back(std::string(name) + ": " + answer.error());
    return false;
}

void read_unix_desktops(SystemProxyLookup& lookup, const Env& env, const CommandRunner& run,
                        const SystemProxyOptions& options) {
    const Desktop desktop = detect_desktop(env);
    if (desktop == Desktop::kde) {
        lookup.skipped.emplace_back("GNOME: not consulted in a KDE session");
    } else if (consult(lookup, "GNOME", query_gnome(run))) {
        return;
    }
    if (desktop == Desktop::gnome_like) {
        lookup.skipped.emplace_back("KDE: not consulted in a GNOME-like session");
    } else if (consult(lookup, "KDE", query_kde(env))) {
        return;
    }
    consult(lookup, "sysconfig", query_sysconfig(options.sysconfig_path));
}

} // namespace

SystemProxyLookup read_system_proxy(const Env& env, const CommandRunner& run, const SystemProxyOptions& options) {
    SystemProxyLookup lookup;
    const std::string os = options.os.empty() ? host_platform().os : options.os;
    if (os == "darwin") {
        consult(lookup, "macOS", query_macos(run));
    } else if (os == "windows") {
#if defined(_WIN32)
        consult(lookup, "Windows", query_windows());
#else
        lookup.skipped.emplace_back("Windows: registry reader not compiled into this build");
#endif
    } else {
        read_unix_desktops(lookup, env, run, options);
    }
    return lookup;
}

} // namespace goinstall
