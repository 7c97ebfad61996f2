// Proxy URLs as users type them (proxy_url.hpp): what is accepted, the default ports, what is
// rejected and how — and that no message or rendering ever shows the password.
#include <catch2/catch.hpp>

#include <string>

#include "goinstall/base/strings.hpp"
#include "goinstall/net/proxy_url.hpp"

using namespace goinstall;

TEST_CASE("parse_proxy_url accepts the forms users type", "[net][proxy]") {
    using S = ProxyScheme;
    auto [text, scheme, host, port, user, password] =
        // clang-format off
        GENERATE(table<std::string, ProxyScheme, std::string, unsigned, std::string, std::string>({
            {"proxy.corp:3128", S::http, "proxy.corp", 3128, "", ""},
            {"proxy.corp", S::http, "proxy.corp", 80, "", ""},
            {"http://proxy.corp", S::http, "proxy.corp", 80, "", ""},
            {"HTTP://Proxy.Corp:8080/", S::http, "proxy.corp", 8080, "", ""},
            {"https://proxy.corp", S::https, "proxy.corp", 443, "", ""},
            {"https://proxy.corp:8443", S::https, "proxy.corp", 8443, "", ""},
            {"socks://proxy", S::socks4, "proxy", 1080, "", ""}, // curl: socks:// is SOCKS4
            {"socks4://proxy:1081", S::socks4, "proxy", 1081, "", ""},
            {"socks4a://proxy", S::socks4a, "proxy", 1080, "", ""},
            {"SOCKS5://proxy", S::socks5, "proxy", 1080, "", ""},
            {"socks5h://127.0.0.1:9050", S::socks5h, "127.0.0.1", 9050, "", ""},
            {"http://user:s3cret@proxy:3128", S::http, "proxy", 3128, "user", "s3cret"},
            {"http://us%40er:p%3As%2Fs%40w@proxy:3128", S::http, "proxy", 3128, "us@er", "p:s/s@w"},
            {"http://DOMAIN%5Cuser:s3cret@proxy:3128", S::http, "proxy", 3128, "DOMAIN\\user", "s3cret"},
            {"http://user:p@ss@proxy:3128", S::http, "proxy", 3128, "user", "p@ss"}, // the last '@' ends the credentials
            {"http://user@proxy:3128", S::http, "proxy", 3128, "user", ""},
            {"http://user:@proxy", S::http, "proxy", 80, "user", ""},
            {"user:s3cret@proxy:3128", S::http, "proxy", 3128, "user", "s3cret"},
            {"http://[::1]:3128", S::http, "::1", 3128, "", ""},
            {"[2001:DB8::1]:8080", S::http, "2001:db8::1", 8080, "", ""},
            {"socks5h://[fd00::1]", S::socks5h, "fd00::1", 1080, "", ""},
            {"  http://proxy:3128\n", S::http, "proxy", 3128, "", ""}, // surrounding whitespace is trimmed
            {"http://10.0.0.1:3128/", S::http, "10.0.0.1", 3128, "", ""},
            {"http://proxy_internal.corp:1", S::http, "proxy_internal.corp", 1, "", ""},
            {"https://proxy:65535", S::https, "proxy", 65535, "", ""},
        }));
    // clang-format on
    CAPTURE(text);
    auto spec = parse_proxy_url(text, "HTTPS_PROXY");
    REQUIRE(spec);
    CHECK(spec->scheme == scheme);
    CHECK(spec->host == host);
    CHECK(spec->port == port);
    CHECK(spec->user == user);
    CHECK(spec->password == password);
    CHECK(spec->curl_url().find('@') == std::string::npos);
    if (!password.empty()) {
        CHECK(spec->curl_url().find(password) == std::string::npos);
        CHECK(spec->display().find(password) == std::string::npos);
    }
}

TEST_CASE("default proxy ports: the scheme's own, 1080 for SOCKS", "[net][proxy]") {
    CHECK(default_proxy_port(ProxyScheme::http) == 80);
    CHECK(default_proxy_port(ProxyScheme::https) == 443);
    CHECK(default_proxy_port(ProxyScheme::socks4) == 1080);
    CHECK(default_proxy_port(ProxyScheme::socks4a) == 1080);
    CHECK(default_proxy_port(ProxyScheme::socks5) == 1080);
    CHECK(default_proxy_port(ProxyScheme::socks5h) == 1080);
    CHECK(std::string(to_string(ProxyScheme::socks5h)) == "socks5h");
}

TEST_CASE("curl_url() and display() render the spec without the password", "[net][proxy]") {
    // clang-format off
    auto [text, curl_url, display] = GENERATE(table<std::string, std::string, std::string>({
        {"socks5h://user:s3cret@Proxy:1080", "socks5h://proxy:1080", "socks5h://user:***@proxy:1080"},
        {"http://proxy:3128", "http://proxy:3128", "http://proxy:3128"},
        {"proxy", "http://proxy:80", "http://proxy:80"},
        {"https://proxy", "https://proxy:443", "https://proxy:443"},
        {"socks://proxy", "socks4://proxy:1080", "socks4://proxy:1080"},
        {"http://user:s3cret@[::1]:3128", "http://[::1]:3128", "http://user:***@[::1]:3128"},
        {"http://user@proxy", "http://proxy:80", "http://user@proxy:80"},
        {"http://:s3cret@proxy", "http://proxy:80", "http://:***@proxy:80"},
        {"http://us%0Aer:s3cret@proxy", "http://proxy:80", "http://us er:***@proxy:80"},
    }));
    // clang-format on
    CAPTURE(text);
    auto spec = parse_proxy_url(text, "--proxy");
    REQUIRE(spec);
    CHECK(spec->curl_url() == curl_url);
    CHECK(spec->display() == display);
}

TEST_CASE("curl_url_with_credentials() encodes the decoded credentials once more, for libcurl's one decoding",
          "[net][proxy]") {
    // libcurl decodes a proxy URL's userinfo once (curl_transport.cpp), so what reaches the proxy
    // is what the user meant: "a%41b" in --proxy-user is those five bytes, "%2541" in a URL is "%41".
    // clang-format off
    auto [text, url] = GENERATE(table<std::string, std::string>({
        {"http://alice:pa%2541ss%3Aw%40rd@proxy:3128", "http://alice:pa%2541ss%3Aw%40rd@proxy:3128"},
        {"socks5h://b%40b:x~y_z.-1@[::1]:1080", "socks5h://b%40b:x~y_z.-1@[::1]:1080"},
        {"http://user@proxy", "http://user:@proxy:80"},
        {"http://:s3cret@proxy", "http://proxy:80"}, // no user name: no credentials (as before)
        {"http://proxy:3128", "http://proxy:3128"},
        {"http://u:%2F%20%25%C3%A9@proxy", "http://u:%2F%20%25%C3%A9@proxy:80"},
    }));
    // clang-format on
    CAPTURE(text);
    auto spec = parse_proxy_url(text, "--proxy");
    REQUIRE(spec);
    CHECK(spec->curl_url_with_credentials() == url);
    ProxySpec raw = *spec;
    raw.user = "alice";
    raw.password = "pa%41ss:w@rd"; // as --proxy-user gives it: never decoded by us
    CHECK(raw.curl_url_with_credentials().find("alice:pa%2541ss%3Aw%40rd@") != std::string::npos);
}

TEST_CASE("parse_proxy_url rejects bad input with one line that names the source and hides the password",
          "[net][proxy]") {
    auto text = GENERATE(
        as<std::string>{}, "", "   ", "ftp://user:s3cret@proxy:21", "gopher://proxy", "://proxy", "http://",
        "http://:8080", "http://user:s3cret@", "http://user:s3cret@:3128", "proxy:0", "proxy:65536", "proxy:99999",
        "proxy:abc", "proxy:", "proxy:-1", "http://user:s3cret@proxy:port", "http://user:s3cret", "user:s3cret",
        "http://proxy:3128/path", "http://user:s3cret@proxy:3128/x", "http://proxy:3128?x=1", "http://proxy:3128#frag",
        "http://proxy:3128//", "http://user:s3/cret@proxy:3128", "http://user:s3cret#@proxy:3128",
        "http://user:s3?cret@proxy:3128", "user:s3cret@proxy/x://y", "http://pro xy:3128",
        "http://user:s3 cret@proxy:3128", "http://user:s3cret@proxy:3128\x01", "http://user:s3cret@prox\ty:3128",
        "http://user:s3cret\n@proxy", "http://proxy\x7f", "http://::1:3128", "http://[::1:3128", "http://[zz::1]:3128",
        "http://[::1]x3128", "http://[]:3128", "http://[10.0.0.1]:3128", "http://user:s3cret%zz@proxy:3128",
        "http://us%er:s3cret@proxy", "http://prox!y:3128", "http://pro,xy",
        "socks5h://user:s3cret@proxy:1080/?token=abc");
    CAPTURE(text);
    auto spec = parse_proxy_url(text, "HTTPS_PROXY");
    REQUIRE_FALSE(spec);
    const auto& msg = spec.error().message();
    CAPTURE(msg);
    CHECK(spec.error().code() == ErrorCode::usage);
    CHECK(msg.rfind("HTTPS_PROXY: ", 0) == 0);
    CHECK(msg.find("s3cret") == std::string::npos);
    CHECK(msg.find("cret") == std::string::npos);
    CHECK(msg.find('\n') == std::string::npos);
    CHECK(msg.find('\r') == std::string::npos);
    if (!trim(text).empty()) {
        CHECK(msg.find("bad proxy URL '") != std::string::npos);
    }
}

TEST_CASE("parse_proxy_url error wording", "[net][proxy]") {
    auto message = [](std::string_view text, std::string_view source) {
        auto spec = parse_proxy_url(text, source);
        return spec ? std::string("(accepted)") : spec.error().message();
    };
    CHECK(message("ftp://user:s3cret@proxy:21", "HTTPS_PROXY") ==
          "HTTPS_PROXY: bad proxy URL 'ftp://user:***@proxy:21': unsupported scheme 'ftp' "
          "(expected http, https, socks4, socks4a, socks5 or socks5h)");
    CHECK(message("http://user:s3/cret@proxy:3128", "--proxy") ==
          "--proxy: bad proxy URL 'http://user:***@proxy:3128': a proxy URL has no path, query or fragment");
    CHECK(message("http://user:s3cret", "--proxy") == "--proxy: bad proxy URL 'http://user:***': bad port (1-65535)");
    CHECK(message("proxy:99999", "ALL_PROXY") == "ALL_PROXY: bad proxy URL 'proxy:99999': bad port (1-65535)");
    CHECK(message("http://::1:3128", "config proxy") ==
          "config proxy: bad proxy URL 'http://::1:3128': IPv6 address without brackets (write [addr]:port)");
    CHECK(message("http://user:s3cret@pro xy", "HTTPS_PROXY") ==
          "HTTPS_PROXY: bad proxy URL 'http://user:***@pro xy': whitespace inside");
    CHECK(message("http://proxy\x01", "HTTPS_PROXY") ==
          "HTTPS_PROXY: bad proxy URL 'http://proxy?': control character inside");
    CHECK(message("", "HTTPS_PROXY") == "HTTPS_PROXY: the proxy URL is empty");
}
