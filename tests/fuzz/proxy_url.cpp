// Fuzzes parse_proxy_url (lib/net proxy_url.hpp) and the PAC answer parser (parse_pac_answer).
// Input: "scheme\nuser\npassword\nrest". The target parses the whole input as it is, and also the
// URL scheme://user:<marker>password@rest, whose password starts with a marker.
// Properties:
// - a parsed spec has a non-empty lowercase host and a port in 1..65535, and curl_url() parses
//   back to the same scheme, host and port without credentials;
// - the password never shows: not in display(), not in curl_url(), not in any error message
//   (checked with the marker whenever the input does not hold the marker itself);
// - errors are usage errors that begin with the source.
#include "fuzz_check.hpp"

#include "goinstall/base/strings.hpp"
#include "goinstall/net/pac.hpp"
#include "goinstall/net/proxy_url.hpp"

using namespace goinstall;

namespace {

constexpr std::string_view k_marker = "Mk7pQ2zW";

void check(std::string_view text, bool marked) {
    auto spec = parse_proxy_url(text, "HTTPS_PROXY");
    if (!spec) {
        const auto& msg = spec.error().message();
        FUZZ_CHECK(spec.error().code() == ErrorCode::usage, msg);
        FUZZ_CHECK(msg.starts_with("HTTPS_PROXY: "), msg);
        if (marked) FUZZ_CHECK(msg.find(k_marker) == std::string::npos, msg + "\ninput: " + std::string(text));
        return;
    }
    FUZZ_CHECK(!spec->host.empty() && spec->host == to_lower(spec->host), spec->host);
    FUZZ_CHECK(spec->port >= 1 && spec->port <= 65535, std::to_string(spec->port));
    const auto curl = spec->curl_url();
    auto again = parse_proxy_url(curl, "curl_url");
    FUZZ_CHECK(again.has_value(), curl);
    FUZZ_CHECK(again->scheme == spec->scheme && again->host == spec->host && again->port == spec->port &&
                   !again->has_credentials(),
               curl);
    if (marked && spec->user.find(k_marker) == std::string::npos && spec->host.find(k_marker) == std::string::npos) {
        FUZZ_CHECK(spec->display().find(k_marker) == std::string::npos, spec->display());
        FUZZ_CHECK(curl.find(k_marker) == std::string::npos, curl);
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto text = fuzz::as_text(data, size);
    check(text, false);
    auto parts = fuzz::split_parts(text, '\n', 4);
    bool marker_elsewhere = false;
    for (auto p : parts) marker_elsewhere = marker_elsewhere || p.find(k_marker) != std::string_view::npos;
    std::string url = std::string(parts[0]) + "://" + std::string(parts[1]) + ":" + std::string(k_marker) +
                      std::string(parts[2]) + "@" + std::string(parts[3]);
    check(url, !marker_elsewhere);

    auto answer = parse_pac_answer(text);
    if (answer) {
        FUZZ_CHECK(!answer->empty(), std::string(text));
        for (const auto& e : *answer) {
            FUZZ_CHECK((e.kind == PacEntry::Kind::direct) == e.host_port.empty(), e.host_port);
        }
    }
    return 0;
}
