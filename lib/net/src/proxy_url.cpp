#include "goinstall/net/proxy_url.hpp"

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cctype>

namespace goinstall {

namespace {

struct SchemeName {
    std::string_view name;
    ProxyScheme scheme;
};

// "socks" is socks4, as in libcurl's parse_proxy (url.c).
constexpr std::array<SchemeName, 7> k_schemes = {{
    {"http", ProxyScheme::http},
    {"https", ProxyScheme::https},
    {"socks", ProxyScheme::socks4},
    {"socks4", ProxyScheme::socks4},
    {"socks4a", ProxyScheme::socks4a},
    {"socks5", ProxyScheme::socks5},
    {"socks5h", ProxyScheme::socks5h},
}};

constexpr std::string_view k_scheme_hint = " (expected http, https, socks4, socks4a, socks5 or socks5h)";

// Position of the "://" that ends a scheme, or npos. Only letters, digits, '+', '-' and '.' may
// precede it, so "user:pw@host/x://" has no scheme (and its password is still found and masked).
std::size_t scheme_end(std::string_view text) {
    auto sep = text.find("://");
    if (sep == std::string_view::npos) {
        return sep;
    }
    bool token = std::all_of(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(sep), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.';
    });
    return token ? sep : std::string_view::npos;
}

// The input as it may appear in an error message. Everything between "://" (or the start) and the
// LAST '@' is treated as credentials and masked, whatever the password contains ('/', '@', '#'),
// before redact_url masks secret query values and sanitize_for_display removes control characters.
// `hide`, when not empty, is a further piece of the input (a non-numeric "port" that may really be
// a password) replaced by "***".
std::string quote(std::string_view text, std::string_view hide = {}) {
    auto sep = scheme_end(text);
    auto start = sep == std::string_view::npos ? 0 : sep + 3;
    auto at = text.rfind('@');
    std::string masked(text);
    if (at != std::string_view::npos && at >= start) {
        auto userinfo = text.substr(start, at - start);
        auto colon = userinfo.find(':');
        masked = std::string(text.substr(0, start));
        masked += colon == std::string_view::npos ? "***" : std::string(userinfo.substr(0, colon)) + ":***";
        masked += text.substr(at);
    }
    if (!hide.empty()) {
        if (auto pos = masked.rfind(hide); pos != std::string::npos) {
            masked.replace(pos, hide.size(), "***");
        }
    }
    return "'" + sanitize_for_display(redact_url(masked)) + "'";
}

std::unexpected<Error> reject(std::string_view source, std::string_view what, std::string_view text,
                              std::string_view hide = {}, std::string_view hint = {}) {
    return fail(ErrorCode::usage, std::string(source) + ": bad proxy URL " + quote(text, hide) + ": " +
                                      std::string(what) + std::string(hint));
}

bool is_ipv6(std::string_view s) {
    if (s.empty() || s.size() >= INET6_ADDRSTRLEN) {
        return false;
    }
    std::array<unsigned char, 16> buf{};
    return inet_pton(AF_INET6, std::string(s).c_str(), buf.data()) == 1;
}

bool valid_host_name(std::string_view host) {
    return std::all_of(host.begin(), host.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_';
    });
}

bool all_digits(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string host_port(const ProxySpec& spec) {
    bool v6 = spec.host.find(':') != std::string::npos;
    return (v6 ? "[" + spec.host + "]" : spec.host) + ":" + std::to_string(spec.port);
}

} // namespace

const char* to_string(ProxyScheme scheme) {
    switch (scheme) {
    case ProxyScheme::http: return "http";
    case ProxyScheme::https: return "https";
    case ProxyScheme::socks4: return "socks4";
    case ProxyScheme::socks4a: return "socks4a";
    case ProxyScheme::socks5: return "socks5";
    case ProxyScheme::socks5h: return "socks5h";
    }
    return "http";
}

unsigned default_proxy_port(ProxyScheme scheme) {
    switch (scheme) {
    case ProxyScheme::http: return 80;   // RFC 9110 §4.2.1
    case ProxyScheme::https: return 443; // RFC 9110 §4.2.2; also libcurl's default for https proxies
    case ProxyScheme::socks4:
    case ProxyScheme::socks4a:
    case ProxyScheme::socks5:
    case ProxyScheme::socks5h: return 1080; // RFC 1928 §3
    }
    return 80;
}

std::string ProxySpec::curl_url() const { return std::string(to_string(scheme)) + "://" + host_port(*this); }

std::string ProxySpec::curl_url_with_credentials() const {
    if (user.empty()) return curl_url();
    // Every byte but the unreserved ones (RFC 3986 §2.3) percent-encoded, so ':' '@' '%' '/' in a
    // user name or password survive libcurl's one decoding unchanged.
    auto encode = [](const std::string& text) {
        static constexpr char k_hex[] = "0123456789ABCDEF";
        std::string out;
        for (char ch : text) {
            auto u = static_cast<unsigned char>(ch);
            if (std::isalnum(u) || ch == '-' || ch == '.' || ch == '_' || ch == '~') {
                out += ch;
            } else {
                out += '%';
                out += k_hex[u >> 4];
                out += k_hex[u & 0x0F];
            }
        }
        return out;
    };
    return std::string(to_string(scheme)) + "://" + encode(user) + ":" + encode(password) + "@" + host_port(*this);
}

std::string ProxySpec::display() const {
    std::string out = std::string(to_string(scheme)) + "://";
    if (has_credentials()) {
        out += sanitize_for_display(user, 64);
        out += password.empty() ? "@" : ":***@";
    }
    return out + host_port(*this);
}

Result<ProxySpec> parse_proxy_url(std::string_view raw, std::string_view source) {
    auto text = trim(raw);
    if (text.empty()) {
        return fail(ErrorCode::usage, std::string(source) + ": the proxy URL is empty");
    }
    for (char c : text) {
        auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7F) {
            return reject(source, std::isspace(u) ? "whitespace inside" : "control character inside", text);
        }
    }

    ProxySpec spec;
    auto rest = text;
    if (auto sep = scheme_end(text); sep != std::string_view::npos) {
        auto name = to_lower(text.substr(0, sep));
        auto it = std::find_if(k_schemes.begin(), k_schemes.end(), [&](const SchemeName& s) { return s.name == name; });
        if (it == k_schemes.end()) {
            return reject(source, "unsupported scheme '" + sanitize_for_display(name, 20) + "'", text, {},
                          k_scheme_hint);
        }
        spec.scheme = it->scheme;
        rest = text.substr(sep + 3);
    }

    auto end = rest.find_first_of("/?#");
    auto authority = rest.substr(0, end);
    if (end != std::string_view::npos && rest.substr(end) != "/") {
        return reject(source, "a proxy URL has no path, query or fragment", text);
    }

    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
        auto userinfo = authority.substr(0, at);
        authority = authority.substr(at + 1);
        auto colon = userinfo.find(':');
        auto user = percent_decode(userinfo.substr(0, colon));
        auto password = colon == std::string_view::npos ? std::optional<std::string>(std::string())
                                                        : percent_decode(userinfo.substr(colon + 1));
        if (!user || !password) {
            return reject(source, "malformed %-escape in the user name or password", text);
        }
        spec.user = std::move(*user);
        spec.password = std::move(*password);
    }

    auto host = authority;
    std::optional<std::string_view> port_text;
    if (host.starts_with('[')) {
        auto close = host.find(']');
        if (close == std::string_view::npos) {
            return reject(source, "unterminated IPv6 address", text);
        }
        auto after = host.substr(close + 1);
        host = host.substr(1, close - 1);
        if (!after.empty()) {
            if (after[0] != ':') {
                return reject(source, "unexpected text after the IPv6 address", text);
            }
            port_text = after.substr(1);
        }
        if (!is_ipv6(host)) {
            return reject(source, "bad IPv6 address", text);
        }
    } else {
        if (auto colon = host.find(':'); colon != std::string_view::npos) {
            if (host.find(':', colon + 1) != std::string_view::npos) {
                return reject(source, "IPv6 address without brackets", text, {}, " (write [addr]:port)");
            }
            port_text = host.substr(colon + 1);
            host = host.substr(0, colon);
        }
        if (!host.empty() && !valid_host_name(host)) {
            return reject(source, "bad host name", text);
        }
    }
    if (host.empty()) {
        return reject(source, "no host", text);
    }
    spec.host = to_lower(host);

    spec.port = default_proxy_port(spec.scheme);
    if (port_text) {
        auto port = parse_u64(*port_text);
        if (!port || *port == 0 || *port > 65535) {
            // A non-numeric "port" is often a password typed without host ("http://user:pw").
            return reject(source, "bad port", text, all_digits(*port_text) ? std::string_view() : *port_text,
                          " (1-65535)");
        }
        spec.port = static_cast<unsigned>(*port);
    }
    return spec;
}

} // namespace goinstall
