#include <catch2/catch.hpp>

#include "goinstall/base/url.hpp"

using namespace goinstall;

TEST_CASE("redact_url hides passwords and secret query values", "[base][secrets]") {
    // clang-format off
    auto [input, expected] = GENERATE(table<std::string, std::string>({
        {"https://go.dev/dl/?mode=json", "https://go.dev/dl/?mode=json"},
        {"http://user:hunter2@proxy:3128", "http://user:***@proxy:3128"},
        {"http://user:hunter2@proxy:3128/path", "http://user:***@proxy:3128/path"},
        {"https://token@example.com/x", "https://***@example.com/x"},
        {"https://m.example/go/?token=abc123&x=1", "https://m.example/go/?token=***&x=1"},
        {"https://m.example/f?X-Amz-Signature=abc&sig=def", "https://m.example/f?X-Amz-Signature=abc&sig=***"},
        {"https://m.example/f?access_token=abc#frag", "https://m.example/f?access_token=***#frag"},
        {"user:pw@host:1", "user:***@host:1"},
        {"not a url", "not a url"},
    }));
    // clang-format on
    CAPTURE(input);
    auto out = redact_url(input);
    CHECK(out == expected);
    CHECK(out.find("hunter2") == std::string::npos);
}

TEST_CASE("parse_url splits the parts", "[base]") {
    auto u = parse_url("https://User:pw@Example.COM:8443/go/dl?x=1");
    REQUIRE(u);
    CHECK(u->scheme == "https");
    CHECK(u->userinfo == "User:pw");
    CHECK(u->host == "example.com");
    CHECK(u->port == 8443u);
    CHECK(u->path_and_query == "/go/dl?x=1");

    auto v6 = parse_url("http://[::1]:8080");
    REQUIRE(v6);
    CHECK(v6->host == "::1");
    CHECK(v6->port == 8080u);
    CHECK(v6->path_and_query == "/");

    auto f = parse_url("file:///srv/mirror/");
    REQUIRE(f);
    CHECK(f->scheme == "file");
    CHECK(f->host.empty());
    CHECK(f->path_and_query == "/srv/mirror/");
}

TEST_CASE("parse_url rejects malformed input with the input redacted", "[base]") {
    auto bad = GENERATE(as<std::string>{}, "", "go.dev/dl", "://x", "http://", "http://h:0/", "http://h:99999/",
                        "http://h:abc/", "http://[::1/", "ht tp://h/", "http://a:secret@h:bad/");
    CAPTURE(bad);
    auto u = parse_url(bad);
    REQUIRE_FALSE(u);
    CHECK(u.error().code() == ErrorCode::usage);
    CHECK(u.error().message().find("secret") == std::string::npos);
}

TEST_CASE("join_url and percent_decode", "[base]") {
    CHECK(join_url("https://dl.google.com/go/", "go1.tar.gz") == "https://dl.google.com/go/go1.tar.gz");
    CHECK(join_url("https://dl.google.com/go", "go1.tar.gz") == "https://dl.google.com/go/go1.tar.gz");
    CHECK(percent_decode("p%40ss%3Aw") == std::optional<std::string>("p@ss:w"));
    CHECK_FALSE(percent_decode("bad%2"));
    CHECK_FALSE(percent_decode("bad%zz"));
}

TEST_CASE("redact_url_list redacts each entry of a GOPROXY-style list and keeps the separators", "[base][secrets]") {
    CHECK(redact_url_list("https://u:secret@corp.example/goproxy,https://goproxy.cn|direct") ==
          "https://u:***@corp.example/goproxy,https://goproxy.cn|direct");
    CHECK(redact_url_list("off") == "off");
    CHECK(redact_url_list("") == "");
    CHECK(redact_url_list("a,,b") == "a,,b");
}
