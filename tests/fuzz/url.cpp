// Fuzzes lib/base's URL and display helpers: parse_url, redact_url, sanitize_for_display,
// percent_decode.
// Properties:
// - parse_url: a parsed URL has a lowercase scheme, a path starting with '/', a host without
//   spaces, control bytes or slashes, a port in 1..65535; failures are usage errors.
// - redact_url never shows a password: for a URL that parses with "user:password@", the redacted
//   text parses to userinfo "user:***"; without a colon the whole userinfo becomes "***".
//   redact_url is idempotent. With the input read as "scheme\nuser\npassword\nrest", the URL
//   scheme://user:<marker>password@rest never shows the marker, redacted or in an error.
// - sanitize_for_display yields no control bytes, valid UTF-8, and at most max_len bytes plus one
//   character and "...".
// - percent_decode of a string without '%' is the string itself.
#include "fuzz_check.hpp"

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"

using namespace goinstall;

namespace {

constexpr std::string_view k_marker = "Mk7pQ2zW";

bool valid_utf8_without_controls(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c < 0x20 || c == 0x7F) return false;
        std::size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k) {
            if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
        }
        i += n;
    }
    return true;
}

void check_url(std::string_view text) {
    auto url = parse_url(text);
    const auto redacted = redact_url(text);
    FUZZ_CHECK(redact_url(redacted) == redacted, redacted);
    if (!url) {
        FUZZ_CHECK(url.error().code() == ErrorCode::usage, url.error().message());
        return;
    }
    FUZZ_CHECK(url->scheme == to_lower(url->scheme) && !url->scheme.empty(), url->scheme);
    FUZZ_CHECK(!url->path_and_query.empty() && url->path_and_query.front() == '/', url->path_and_query);
    FUZZ_CHECK(!url->port || (*url->port >= 1 && *url->port <= 65535), std::string(text));
    for (char c : url->host) {
        FUZZ_CHECK(static_cast<unsigned char>(c) > 0x20 && c != '/' && c != '\\', url->host);
    }
    auto shown = parse_url(redacted);
    FUZZ_CHECK(shown.has_value(), redacted);
    FUZZ_CHECK(shown->host == url->host && shown->port == url->port, redacted);
    // An empty userinfo ("http://@host/") may be shown as "***@": nothing is revealed either way.
    if (!url->userinfo.empty()) {
        auto colon = url->userinfo.find(':');
        const auto expect = colon == std::string::npos ? std::string("***") : url->userinfo.substr(0, colon) + ":***";
        FUZZ_CHECK(shown->userinfo == expect, redacted);
    } else {
        FUZZ_CHECK(shown->userinfo.empty() || shown->userinfo == "***", redacted);
    }
}

// scheme://user:<marker>password@rest, where no part before the '@' ends the authority early:
// the marker is in the password, so neither redact_url nor an error message may show it.
void check_marked(const std::vector<std::string_view>& parts) {
    for (std::size_t i = 0; i < 3; ++i) {
        if (parts[i].find_first_of("/?#") != std::string_view::npos) return;
    }
    for (auto p : parts) {
        if (p.find(k_marker) != std::string_view::npos) return;
    }
    const std::string text = std::string(parts[0]) + "://" + std::string(parts[1]) + ":" + std::string(k_marker) +
                             std::string(parts[2]) + "@" + std::string(parts[3]);
    FUZZ_CHECK(redact_url(text).find(k_marker) == std::string::npos, text);
    if (auto url = parse_url(text); !url) {
        FUZZ_CHECK(url.error().message().find(k_marker) == std::string::npos, url.error().message());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::as_text(data, size);
    check_url(text);
    check_marked(fuzz::split_parts(text, '\n', 4));

    const std::size_t max_len = size % 64;
    const auto shown = sanitize_for_display(text, max_len);
    FUZZ_CHECK(valid_utf8_without_controls(shown), shown);
    FUZZ_CHECK(shown.size() <= max_len + 4 + 3, shown);
    if (text.size() <= max_len) FUZZ_CHECK(shown.size() == text.size(), shown);

    if (text.find('%') == std::string_view::npos) {
        auto decoded = percent_decode(text);
        FUZZ_CHECK(decoded && *decoded == text, std::string(text));
    }
    return 0;
}
