#include "goinstall/net/no_proxy.hpp"

#include "goinstall/base/strings.hpp"
#include "idna.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace goinstall {

namespace {

// Commas and ASCII whitespace both separate entries (see the dialect in no_proxy.hpp).
constexpr std::string_view k_separators = ", \t\r\n\f\v";
// Longest entry text kept in `ignored` or quoted in a reason.
constexpr std::size_t k_max_shown = 100;
// RFC 1035 §2.3.4: a domain name is at most 253 characters in its text form.
constexpr std::size_t k_max_domain = 253;

enum class Family { none, v4, v6 };

struct IpAddr {
    Family family = Family::none;
    std::array<unsigned char, 16> bytes{};
};

// The host of a request, classified once: an IP literal (an IPv6 zone dropped), or a lowercase
// ASCII (IDNA) name without trailing dot, or neither (name empty: matches only `*`).
struct HostView {
    IpAddr ip;
    std::string name;
};

IpAddr parse_ip(std::string_view text) {
    IpAddr out;
    if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
        return out;
    }
    std::string s(text); // inet_pton needs a terminated string
    if (inet_pton(AF_INET, s.c_str(), out.bytes.data()) == 1) {
        out.family = Family::v4;
    } else if (inet_pton(AF_INET6, s.c_str(), out.bytes.data()) == 1) {
        out.family = Family::v6;
    }
    return out;
}

std::string ip_text(const IpAddr& ip) {
    char buf[INET6_ADDRSTRLEN] = {};
    inet_ntop(ip.family == Family::v4 ? AF_INET : AF_INET6, ip.bytes.data(), buf, sizeof buf);
    return buf;
}

std::string_view strip_trailing_dot(std::string_view s) {
    if (!s.empty() && s.back() == '.') {
        s.remove_suffix(1);
    }
    return s;
}

bool valid_domain(std::string_view d) {
    if (d.empty() || d.size() > k_max_domain || d.front() == '.' || d.find("..") != std::string_view::npos) {
        return false;
    }
    return std::all_of(d.begin(), d.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
    });
}

std::optional<unsigned> parse_port(std::string_view s) {
    auto p = parse_u64(s);
    if (!p || *p == 0 || *p > 65535) {
        return std::nullopt;
    }
    return static_cast<unsigned>(*p);
}

// True when the first `bits` bits of a and b agree.
bool prefix_equal(const std::array<unsigned char, 16>& a, const std::array<unsigned char, 16>& b, unsigned bits) {
    auto whole = bits / 8;
    if (std::memcmp(a.data(), b.data(), whole) != 0) {
        return false;
    }
    auto rest = bits % 8;
    if (rest == 0) {
        return true;
    }
    auto mask = static_cast<unsigned char>(0xFFu << (8 - rest));
    return (a[whole] & mask) == (b[whole] & mask);
}

void set_address(NoProxyEntry& e, const IpAddr& ip) {
    e.kind = ip.family == Family::v4 ? NoProxyKind::ipv4 : NoProxyKind::ipv6;
    e.address = ip.bytes;
    e.value = ip_text(ip);
}

// "10.0.0.0/8", "fd00::/8", "[fd00::]/8". Host bits are cleared so value is the network.
std::optional<NoProxyEntry> parse_cidr(std::string_view token, std::size_t slash) {
    auto addr = token.substr(0, slash);
    if (addr.size() >= 2 && addr.front() == '[' && addr.back() == ']') {
        addr = addr.substr(1, addr.size() - 2);
    }
    auto ip = parse_ip(addr);
    auto bits = parse_u64(token.substr(slash + 1));
    if (ip.family == Family::none || !bits || *bits > (ip.family == Family::v4 ? 32u : 128u)) {
        return std::nullopt;
    }
    NoProxyEntry e;
    e.kind = ip.family == Family::v4 ? NoProxyKind::cidr4 : NoProxyKind::cidr6;
    e.prefix_bits = static_cast<unsigned>(*bits);
    for (std::size_t i = 0; i < ip.bytes.size(); ++i) {
        auto bit = static_cast<unsigned>(i * 8);
        if (bit >= e.prefix_bits) {
            ip.bytes[i] = 0;
        } else if (e.prefix_bits - bit < 8) {
            ip.bytes[i] = static_cast<unsigned char>(ip.bytes[i] & (0xFFu << (8 - (e.prefix_bits - bit))));
        }
    }
    e.address = ip.bytes;
    e.value = ip_text(ip) + "/" + std::to_string(e.prefix_bits);
    return e;
}

// "[v6]" or "[v6]:port".
std::optional<NoProxyEntry> parse_bracketed(std::string_view token) {
    auto close = token.find(']');
    if (close == std::string_view::npos) {
        return std::nullopt;
    }
    NoProxyEntry e;
    auto after = token.substr(close + 1);
    if (!after.empty()) {
        auto port = after[0] == ':' ? parse_port(after.substr(1)) : std::nullopt;
        if (!port) {
            return std::nullopt;
        }
        e.port = port;
    }
    auto ip = parse_ip(token.substr(1, close - 1));
    if (ip.family != Family::v6) {
        return std::nullopt;
    }
    set_address(e, ip);
    return e;
}

// One lowercase, non-empty entry; nullopt when it cannot be read.
std::optional<NoProxyEntry> parse_entry(std::string_view token) {
    if (token == "*") {
        NoProxyEntry e;
        e.kind = NoProxyKind::wildcard;
        e.value = "*";
        return e;
    }
    if (auto slash = token.find('/'); slash != std::string_view::npos) {
        return parse_cidr(token, slash);
    }
    if (token.front() == '[') {
        return parse_bracketed(token);
    }
    NoProxyEntry e;
    if (auto ip = parse_ip(token); ip.family == Family::v6) { // bare IPv6: no port possible
        set_address(e, ip);
        return e;
    }
    std::string_view host = token;
    if (auto colon = host.find(':'); colon != std::string_view::npos) {
        auto port = parse_port(host.substr(colon + 1));
        if (!port) {
            return std::nullopt; // "host:99999", "host:", "a:b:c" (an unbracketed non-address)
        }
        e.port = port;
        host = host.substr(0, colon);
    }
    host = strip_trailing_dot(host);
    if (auto ip = parse_ip(host); ip.family == Family::v4) {
        set_address(e, ip);
        return e;
    }
    if (host.starts_with("*.")) {
        host.remove_prefix(2);
    } else if (host.starts_with('.')) {
        host.remove_prefix(1);
    }
    auto ascii = net_detail::idna_to_ascii(host); // "示例.com" is "xn--fsq092h.com"
    if (!ascii || !valid_domain(*ascii)) {
        return std::nullopt;
    }
    e.kind = NoProxyKind::domain;
    e.value = std::move(*ascii);
    return e;
}

HostView classify_host(std::string_view host) {
    HostView h;
    const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
    if (bracketed) {
        host = host.substr(1, host.size() - 2);
    }
    // An IPv6 zone ("fe80::1%25eth0" as a URL spells it, or "fe80::1%eth0") names an interface, not
    // an address: it is dropped for address and CIDR matching, as Go's netip does. A '%' never makes
    // a name: before Go's fix for CVE-2025-22870, "[::1%25.example.com]" matched NO_PROXY
    // "example.com". A '%' after anything but an IPv6 address leaves a host that matches only `*`.
    if (auto pct = host.find('%'); pct != std::string_view::npos) {
        if (auto ip = parse_ip(host.substr(0, pct)); ip.family == Family::v6) {
            h.ip = ip;
        }
        return h;
    }
    if (bracketed) {
        if (auto ip = parse_ip(host); ip.family == Family::v6) {
            h.ip = ip;
        }
        return h; // brackets around anything else match nothing but `*`
    }
    // A trailing dot is ignored on IPv4 literals too ("127.0.0.1." is loopback, "10.1.2.3." matches
    // 10.0.0.0/8), as it is on names and on entries. Found by tests/fuzz/no_proxy.cpp.
    const auto bare = strip_trailing_dot(host);
    h.ip = parse_ip(host);
    if (h.ip.family == Family::none && bare.size() < host.size() && parse_ip(bare).family == Family::v4) {
        h.ip = parse_ip(bare);
    }
    if (h.ip.family == Family::none) {
        h.name = net_detail::idna_to_ascii(bare).value_or(""); // "www.示例.com" is "www.xn--fsq092h.com"
    }
    return h;
}

bool domain_matches(std::string_view name, std::string_view domain) {
    if (name == domain) {
        return true;
    }
    return name.size() > domain.size() && name.ends_with(domain) && name[name.size() - domain.size() - 1] == '.';
}

bool entry_matches(const NoProxyEntry& e, const HostView& h, std::optional<unsigned> port) {
    if (e.port && (!port || *port != *e.port)) {
        return false;
    }
    switch (e.kind) {
    case NoProxyKind::wildcard: return true;
    case NoProxyKind::domain: return h.ip.family == Family::none && domain_matches(h.name, e.value);
    case NoProxyKind::ipv4: return h.ip.family == Family::v4 && prefix_equal(h.ip.bytes, e.address, 32);
    case NoProxyKind::ipv6: return h.ip.family == Family::v6 && prefix_equal(h.ip.bytes, e.address, 128);
    case NoProxyKind::cidr4: return h.ip.family == Family::v4 && prefix_equal(h.ip.bytes, e.address, e.prefix_bits);
    case NoProxyKind::cidr6: return h.ip.family == Family::v6 && prefix_equal(h.ip.bytes, e.address, e.prefix_bits);
    }
    return false;
}

} // namespace

NoProxyList parse_no_proxy(std::string_view value) {
    NoProxyList list;
    std::size_t pos = 0;
    while (true) {
        auto start = value.find_first_not_of(k_separators, pos);
        if (start == std::string_view::npos) {
            break;
        }
        auto end = value.find_first_of(k_separators, start);
        auto token = value.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        pos = end == std::string_view::npos ? value.size() : end;
        if (auto entry = parse_entry(to_lower(token))) {
            entry->original = sanitize_for_display(token, k_max_shown);
            list.entries.push_back(std::move(*entry));
        } else {
            list.ignored.push_back(sanitize_for_display(token, k_max_shown));
        }
    }
    return list;
}

bool is_loopback_host(std::string_view host) {
    auto h = classify_host(host);
    switch (h.ip.family) {
    case Family::v4: return h.ip.bytes[0] == 127;
    case Family::v6: {
        static constexpr std::array<unsigned char, 16> k_loopback6 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
        static constexpr std::array<unsigned char, 16> k_mapped127 = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 127};
        return h.ip.bytes == k_loopback6 || prefix_equal(h.ip.bytes, k_mapped127, 104);
    }
    case Family::none: break;
    }
    return h.name == "localhost" || h.name.ends_with(".localhost");
}

bool covers_loopback(const NoProxyList& list) {
    const HostView hosts[] = {classify_host("localhost"), classify_host("127.0.0.1"), classify_host("::1")};
    return std::any_of(list.entries.begin(), list.entries.end(), [&](const NoProxyEntry& e) {
        return std::any_of(std::begin(hosts), std::end(hosts),
                           [&](const HostView& h) { return entry_matches(e, h, e.port); });
    });
}

std::optional<std::string> bypass_reason(const NoProxyList& list, std::string_view host, std::optional<unsigned> port) {
    if (host.empty()) {
        return std::nullopt;
    }
    if (is_loopback_host(host)) {
        return "loopback is never proxied";
    }
    auto view = classify_host(host);
    for (const auto& e : list.entries) {
        if (entry_matches(e, view, port)) {
            return "NO_PROXY entry '" + e.original + "'";
        }
    }
    return std::nullopt;
}

} // namespace goinstall
