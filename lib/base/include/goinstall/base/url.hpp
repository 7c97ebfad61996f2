#pragma once
// Minimal URL handling: split into parts, and redact credentials before anything is shown.

#include <optional>
#include <string>
#include <string_view>

#include "goinstall/base/error.hpp"

namespace goinstall {

struct Url {
    std::string scheme;   // lowercase: "https", "http", "file"
    std::string userinfo; // "user:pass" or empty
    std::string host;     // lowercase, IPv6 without brackets
    std::optional<unsigned> port;
    std::string path_and_query; // from the first '/' after the authority ("/" if none)
};

// Parses an absolute URL with an authority (scheme://...). file:// URLs have an empty host.
// Fails with ErrorCode::usage naming the (redacted) input.
Result<Url> parse_url(std::string_view text);

// Returns the URL with any userinfo password replaced by "***" and the values of query
// parameters that look like secrets (token, key, sig, signature, password, auth...) replaced too.
// Never fails: text that does not parse is returned with everything between "://" and "@" masked.
std::string redact_url(std::string_view text);
// redact_url on each entry of a list such as GOPROXY's, separators (',' and '|') kept in place.
std::string redact_url_list(std::string_view text);

// Joins a base URL and a file name, adding a '/' between them when the base lacks one.
std::string join_url(std::string_view base, std::string_view name);

// Decodes %XX escapes; nullopt on a malformed escape.
std::optional<std::string> percent_decode(std::string_view s);

} // namespace goinstall
