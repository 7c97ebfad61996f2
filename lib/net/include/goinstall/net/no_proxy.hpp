#pragma once
// NO_PROXY matching: one documented dialect, implemented here rather than by libcurl, so the
// decision for a host is known before the request, can be logged with its reason, and is the same
// for every request whatever libcurl version is linked.
//
// The dialect (docs/no_proxy.md compares it with curl and Go row by row)
// -----------
// - Entries are separated by commas and/or whitespace; empty entries (",,") are skipped.
// - Matching is case-insensitive, and a trailing dot on the host or the entry is ignored
//   ("example.com." is "example.com").
// - Names are compared in their IDNA ASCII form: "示例.com" and "xn--fsq092h.com" are one name,
//   in the host and in the entries (libidn2, UTS #46 mapping; see src/idna.hpp).
// - `*` bypasses the proxy for every host. It may stand alone or among other entries.
// - `example.com` matches example.com and every subdomain (foo.example.com, a.b.example.com) but
//   not badexample.com. `.example.com` means the same (curl's reading of a leading dot), and so
//   does `*.example.com` (goinstall's own: curl has no `*.` syntax and never matches such an entry;
//   Go's `.example.com` and `*.example.com` match subdomains only, never example.com itself).
// - `host:port`, `1.2.3.4:port` and `[v6]:port` restrict the entry to requests on that port. The
//   caller passes the request's effective port: the URL's, else 443 for https and 80 for http.
// - IPv4 and IPv6 literals match the same address exactly; IPv6 is compared as bytes (inet_pton),
//   so `::1` equals `0:0:0:0:0:0:0:1`. Brackets are optional on an entry without a port.
// - CIDR blocks (`10.0.0.0/8`, `fd00::/8`, `[fd00::]/8`) match hosts that are IP literals of the
//   same family. /0 matches every address of that family. No DNS lookup is ever made, so a
//   hostname never matches a CIDR or IP entry, and a domain entry never matches an IP literal.
//   IPv4 and IPv6 are separate families: `10.0.0.0/8` does not match `::ffff:10.1.2.3`.
// - An IPv6 host with a zone (`[fe80::1%25eth0]`) is matched as its address, the zone dropped (as
//   Go does since its fix for CVE-2025-22870). A zone never makes a name: `[::1%25.example.com]`
//   does not match `example.com`. An entry with a zone is not understood (ignored).
// - Loopback is never proxied, whatever the list says: localhost, *.localhost (RFC 6761; Go
//   exempts only localhost and loopback addresses), 127.0.0.0/8, ::1 and ::ffff:127.0.0.0/104.
// - An entry that cannot be read (`10.0.0.0/33`, `1.2.3.4/x`, `[::1`, `host:99999`, `@@`,
//   `*:80`) is ignored and reported, never fatal.
//
// Where curl and Go disagree, this dialect follows:
//   leading dot .............. curl (also matches the bare domain; Go: subdomains only)
//   `*.example.com` .......... neither: as `.example.com` (curl: never matches; Go: subdomains only)
//   `*` among other entries .. Go (curl honours `*` only when it is the whole value)
//   `host:port` .............. Go (curl has no ports in NO_PROXY; such an entry never matches)
//   whitespace separators .... curl 7.86 to 8.8 (curl 8.9+ and Go: commas only, a blank ends or
//                              spoils the entry); an entry can never contain a blank
//   trailing dots ............ curl (Go compares them literally)
//   `/0` ..................... Go (curl treats a zero prefix as a full-length one)
//   IDNA names ............... Go (curl compares the bytes as written)
//   loopback ................. Go (curl proxies loopback unless NO_PROXY says otherwise)

#include <array>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace goinstall {

enum class NoProxyKind { wildcard, domain, ipv4, ipv6, cidr4, cidr6 };

struct NoProxyEntry {
    NoProxyKind kind = NoProxyKind::domain;
    // domain: lowercase, without a leading "." / "*." or a trailing "."; IP and CIDR: the
    // canonical text of the address ("10.0.0.0/8", "::1"); wildcard: "*".
    std::string value;
    std::optional<unsigned> port;            // only requests on this port match
    std::string original;                    // the entry as written (sanitised), for log lines and reasons
    std::array<unsigned char, 16> address{}; // IP and CIDR kinds: network-order bytes (4 or 16 used)
    unsigned prefix_bits = 0;                // CIDR kinds: the prefix length
};

struct NoProxyList {
    std::vector<NoProxyEntry> entries;
    std::vector<std::string> ignored; // entries that could not be parsed, as given (sanitised)
};

// Parses a NO_PROXY value in the dialect above. Never fails: unreadable entries go to `ignored`.
NoProxyList parse_no_proxy(std::string_view value);

// Why a request to `host` bypasses the proxy: nullopt means use the proxy; otherwise a short reason
// ("loopback is never proxied", "NO_PROXY entry '.corp.example'"). `host` is the URL's host
// (IPv6 with or without brackets, with or without a zone); `port` is the request's effective port
// (the URL's, else 443 for https and 80 for http). An entry with a port never matches when `port`
// is nullopt. An empty host never bypasses.
std::optional<std::string> bypass_reason(const NoProxyList& list, std::string_view host, std::optional<unsigned> port);

// True when some entry, whatever its port, matches localhost, 127.0.0.1 or ::1: a list that other
// tools (which do proxy loopback) also read as "loopback goes direct". `127.0.0.1/8`, `[::1]`,
// `.localhost` and `*` count; `127.0.0.2` does not.
bool covers_loopback(const NoProxyList& list);

// True for localhost, *.localhost (RFC 6761), 127.0.0.0/8, ::1 (also written [::1],
// 0:0:0:0:0:0:0:1 or with a zone, ::1%25lo) and IPv4-mapped loopback (::ffff:127.x.y.z).
// Case-insensitive; trailing dot ok.
bool is_loopback_host(std::string_view host);

} // namespace goinstall
