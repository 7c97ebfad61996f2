#include "goinstall/base/url.hpp"

#include "goinstall/base/strings.hpp"

#include <array>
#include <cctype>

namespace goinstall {

namespace {

// A URL quoted in an error message: credentials redacted, control characters and invalid UTF-8
// replaced (it may come from a server's redirect or the environment), length capped.
std::string shown_url(std::string_view text) { return sanitize_for_display(redact_url(text), 300); }

bool is_scheme_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '-' || c == '.'; }

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

bool is_secret_param(std::string_view name) {
    static constexpr std::array<std::string_view, 10> secret = {
        "token", "access_token", "key", "apikey", "api_key", "sig", "signature", "password", "auth", "secret"};
    auto lower = to_lower(name);
    for (auto s : secret) {
        if (lower == s) {
            return true;
        }
    }
    return lower.find("token") != std::string::npos || lower.find("secret") != std::string::npos;
}

std::string redact_query(std::string_view pq) {
    auto q = pq.find('?');
    if (q == std::string_view::npos) {
        return std::string(pq);
    }
    std::string out(pq.substr(0, q + 1));
    auto frag = pq.find('#', q);
    auto query = pq.substr(q + 1, frag == std::string_view::npos ? std::string_view::npos : frag - q - 1);
    bool first = true;
    for (auto& kv : split(query, '&', true)) {
        if (!first) out += '&';
        first = false;
        auto eq = kv.find('=');
        if (eq != std::string::npos && is_secret_param(std::string_view(kv).substr(0, eq))) {
            out += kv.substr(0, eq) + "=***";
        } else {
            out += kv;
        }
    }
    if (frag != std::string_view::npos) {
        out += pq.substr(frag);
    }
    return out;
}

} // namespace

Result<Url> parse_url(std::string_view text) {
    auto sep = text.find("://");
    if (sep == std::string_view::npos || sep == 0) {
        return fail(ErrorCode::usage, "not an absolute URL: '" + shown_url(text) + "'");
    }
    Url url;
    for (char c : text.substr(0, sep)) {
        if (!is_scheme_char(c)) {
            return fail(ErrorCode::usage, "bad URL scheme in '" + shown_url(text) + "'");
        }
    }
    url.scheme = to_lower(text.substr(0, sep));
    auto rest = text.substr(sep + 3);
    auto slash = rest.find_first_of("/?#");
    auto authority = rest.substr(0, slash);
    url.path_and_query = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
    if (!url.path_and_query.empty() && url.path_and_query[0] != '/') {
        url.path_and_query = std::string(1, '/') + url.path_and_query; // "?q" → "/?q"
    }
    auto at = authority.rfind('@');
    if (at != std::string_view::npos) {
        url.userinfo = std::string(authority.substr(0, at));
        authority = authority.substr(at + 1);
    }
    std::string_view hostport = authority;
    std::string_view port_text;
    if (!hostport.empty() && hostport[0] == '[') {
        auto close = hostport.find(']');
        if (close == std::string_view::npos) {
            return fail(ErrorCode::usage, "unterminated IPv6 address in URL '" + shown_url(text) + "'");
        }
        url.host = to_lower(hostport.substr(1, close - 1));
        auto after = hostport.substr(close + 1);
        if (!after.empty()) {
            if (after[0] != ':') {
                return fail(ErrorCode::usage, "bad host in URL '" + shown_url(text) + "'");
            }
            port_text = after.substr(1);
        }
    } else {
        auto colon = hostport.rfind(':');
        if (colon != std::string_view::npos) {
            port_text = hostport.substr(colon + 1);
            hostport = hostport.substr(0, colon);
        }
        url.host = to_lower(hostport);
    }
    if (!port_text.empty()) {
        auto p = parse_u64(port_text);
        if (!p || *p == 0 || *p > 65535) {
            return fail(ErrorCode::usage, "bad port in URL '" + shown_url(text) + "'");
        }
        url.port = static_cast<unsigned>(*p);
    }
    if (url.host.empty() && url.scheme != "file") {
        return fail(ErrorCode::usage, "URL has no host: '" + shown_url(text) + "'");
    }
    for (char c : url.host) {
        if (static_cast<unsigned char>(c) <= 0x20 || c == '/' || c == '\\') {
            return fail(ErrorCode::usage, "bad host in URL '" + shown_url(text) + "'");
        }
    }
    return url;
}

std::string redact_url_list(std::string_view text) {
    std::string out;
    std::size_t start = 0;
    while (start <= text.size()) {
        auto end = text.find_first_of(",|", start);
        auto item = text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        out += redact_url(item);
        if (end == std::string_view::npos) break;
        out += text[end];
        start = end + 1;
    }
    return out;
}

std::string redact_url(std::string_view text) {
    auto sep = text.find("://");
    if (sep == std::string_view::npos) {
        // Not a URL with an authority; still mask anything that looks like user:pass@.
        auto at = text.find('@');
        auto colon = text.find(':');
        if (at != std::string_view::npos && colon != std::string_view::npos && colon < at) {
            return std::string(text.substr(0, colon)) + ":***" + std::string(text.substr(at));
        }
        return std::string(text);
    }
    auto rest_start = sep + 3;
    auto slash = text.find_first_of("/?#", rest_start);
    auto authority =
        text.substr(rest_start, slash == std::string_view::npos ? std::string_view::npos : slash - rest_start);
    std::string out(text.substr(0, rest_start));
    auto at = authority.rfind('@');
    if (at != std::string_view::npos) {
        auto userinfo = authority.substr(0, at);
        auto colon = userinfo.find(':');
        if (colon != std::string_view::npos) {
            out += std::string(userinfo.substr(0, colon)) + ":***";
        } else {
            out += "***";
        }
        out += '@';
        out += authority.substr(at + 1);
    } else {
        out += authority;
    }
    if (slash != std::string_view::npos) {
        out += redact_query(text.substr(slash));
    }
    return out;
}

std::string join_url(std::string_view base, std::string_view name) {
    std::string out(base);
    if (!out.empty() && out.back() != '/') {
        out += '/';
    }
    out += name;
    return out;
}

std::optional<std::string> percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%') {
            if (i + 2 >= s.size()) {
                return std::nullopt;
            }
            int hi = hex_value(s[i + 1]);
            int lo = hex_value(s[i + 2]);
            if (hi < 0 || lo < 0) {
                return std::nullopt;
            }
            out.push_back(static_cast<char>(hi * 16 + lo));
            i += 2;
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

} // namespace goinstall
