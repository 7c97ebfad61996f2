#pragma once
// Proxy URLs as users type them into HTTPS_PROXY, ALL_PROXY, --proxy or a config file.
//
// Accepted:  [scheme://][user[:password]@]host[:port][/]
//   scheme   http (the default when none is written), https, socks4, socks4a, socks5, socks5h,
//            and socks, which means socks4 as in curl (Go's x/net/proxy reads it as socks5; we
//            follow curl because libcurl is what connects). Case-insensitive.
//   user, password  percent-decoded ("p%40ss" is "p@ss"); empty when absent.
//   host     a name, an IPv4 literal, or an IPv6 literal in brackets; stored lowercase, IPv6
//            without brackets. Surrounding whitespace is trimmed.
//   port     1-65535. When absent: http 80, https 443, socks4/4a/5/5h 1080.
//
// Why these default ports: libcurl uses 443 for an https:// proxy and 1080 for every other kind
// (CURLOPT_PROXYPORT(3)), so `http://proxy.corp` means proxy.corp:1080 to curl. Go's net/http,
// Python, wget and Docker read the same text as a URL and use the scheme's port, 80. We follow the
// URL reading because the Go toolchain this program installs will read the same HTTPS_PROXY and
// must reach the same proxy; SOCKS keeps its registered port 1080 (RFC 1928) in both readings.
// curl_url() always carries the port explicitly, so libcurl's own default never applies.
//
// Rejected (ErrorCode::usage, one line naming the source and quoting the input with any password
// masked): unknown schemes (ftp://), an empty host, a bad or empty port, a path other than "/",
// a query or fragment, whitespace or control characters inside, an unbracketed IPv6 address,
// a malformed percent-escape in the credentials.

#include <string>
#include <string_view>

#include "goinstall/base/error.hpp"

namespace goinstall {

enum class ProxyScheme { http, https, socks4, socks4a, socks5, socks5h };

// "http", "https", "socks4", "socks4a", "socks5", "socks5h".
const char* to_string(ProxyScheme scheme);

// The port used when a proxy URL gives none (see above): 80, 443 or 1080.
unsigned default_proxy_port(ProxyScheme scheme);

struct ProxySpec {
    ProxyScheme scheme = ProxyScheme::http;
    std::string host;           // lowercase; IPv6 without brackets
    unsigned port = 0;          // always set by parse_proxy_url (explicit or the default)
    std::string user, password; // percent-decoded; empty when absent

    bool has_credentials() const { return !user.empty() || !password.empty(); }
    // The URL without credentials: "socks5h://host:1080", "http://[::1]:3128".
    std::string curl_url() const;
    // The URL for CURLOPT_PROXY: with a user name, "scheme://USER:PASSWORD@host:port" with both
    // percent-encoded (every byte but A-Z a-z 0-9 - . _ ~), so that libcurl's one decoding gives
    // back exactly `user` and `password`; else curl_url(). Holds the password: never show it.
    std::string curl_url_with_credentials() const;
    // For output: "http://user:***@host:3128", "http://user@host:3128" or "http://host:3128".
    // Never contains the password.
    std::string display() const;
};

// Parses a proxy URL. `source` names where the text came from ("HTTPS_PROXY", "--proxy") and
// begins every error message.
Result<ProxySpec> parse_proxy_url(std::string_view text, std::string_view source);

} // namespace goinstall
