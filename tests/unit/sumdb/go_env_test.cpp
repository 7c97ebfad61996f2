#include <catch2/catch.hpp>

#include "goinstall/sumdb/go_env.hpp"

using namespace goinstall;
using namespace goinstall::sumdb;

namespace {
using K = ProxyEntry::Kind;
ProxyEntry url(std::string u, bool any = false) { return {K::url, std::move(u), any}; }
const ProxyEntry k_direct{K::direct, "", false};
const ProxyEntry k_off{K::off, "", false};
} // namespace

TEST_CASE("parse_goproxy reads lists as cmd/go does", "[sumdb][goenv]") {
    struct Row {
        const char* value;
        std::vector<ProxyEntry> want;
    };
    auto row = GENERATE(
        Row{"", {url("https://proxy.golang.org"), k_direct}}, Row{"  ", {url("https://proxy.golang.org"), k_direct}},
        Row{"https://proxy.golang.org,direct", {url("https://proxy.golang.org"), k_direct}},
        Row{"https://goproxy.cn|https://proxy.golang.org,direct",
            {url("https://goproxy.cn", true), url("https://proxy.golang.org"), k_direct}},
        Row{"https://a.example|https://b.example|off",
            {url("https://a.example", true), url("https://b.example", true), k_off}},
        Row{"goproxy.cn,direct", {url("https://goproxy.cn"), k_direct}},
        Row{"localhost:8080", {url("https://localhost:8080")}},
        Row{"http://127.0.0.1:3000/proxy", {url("http://127.0.0.1:3000/proxy")}},
        Row{"file:///srv/goproxy", {url("file:///srv/goproxy")}}, Row{"off", {k_off}}, Row{"direct", {k_direct}},
        Row{"direct,https://ignored.example", {k_direct}}, // "direct" ends the list
        Row{"off|https://ignored.example", {k_off}},
        Row{" https://a.example , , https://b.example ", {url("https://a.example"), url("https://b.example")}},
        Row{"https://user:pw@corp.example/go", {url("https://user:pw@corp.example/go")}});
    CAPTURE(row.value);
    auto r = parse_goproxy(row.value);
    REQUIRE(r);
    CHECK(*r == row.want);
}

TEST_CASE("parse_goproxy refuses malformed lists, naming GOPROXY", "[sumdb][goenv]") {
    struct Row {
        const char* value;
        const char* message;
    };
    auto row = GENERATE(Row{",", "contains no entries"}, Row{" | , ", "contains no entries"},
                        Row{"proxy", "is not a URL"}, // single words are reserved
                        Row{"on", "is not a URL"}, Row{"/srv/goproxy", "is not a URL"},
                        Row{"ftp://mirror.example/go", "unsupported scheme ftp"}, Row{"https://", "is not a URL"},
                        Row{"https://user:secret@:8080", "'https://user:***@:8080'"});
    CAPTURE(row.value);
    auto r = parse_goproxy(row.value);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::usage);
    CHECK_THAT(r.error().message(), Catch::StartsWith("GOPROXY: ") && Catch::Contains(row.message));
    CHECK_THAT(r.error().message(), !Catch::Contains("secret"));
}

TEST_CASE("parse_gosumdb reads settings as cmd/go's dbDial does", "[sumdb][goenv]") {
    const std::string k = std::string(k_sum_golang_org_key);
    struct Row {
        const char* value;
        bool off;
        std::string key;
        const char* url;
    };
    auto row =
        GENERATE_COPY(Row{"", false, k, ""}, Row{"sum.golang.org", false, k, ""}, Row{"off", true, "", ""},
                      Row{"sum.golang.google.cn", false, k, "https://sum.golang.google.cn"},
                      Row{"sum.golang.org https://sum.golang.google.cn", false, k, "https://sum.golang.google.cn"},
                      Row{" sum.golang.org\thttps://goproxy.cn/sumdb/sum.golang.org ", false, k,
                          "https://goproxy.cn/sumdb/sum.golang.org"},
                      Row{"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8", false, k, ""},
                      Row{"sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8 http://127.0.0.1:8081",
                          false, k, "http://127.0.0.1:8081"});
    CAPTURE(row.value);
    auto r = parse_gosumdb(row.value);
    REQUIRE(r);
    CHECK(r->off == row.off);
    if (!row.off) {
        CHECK(r->key.text == row.key);
        CHECK(r->key.name == "sum.golang.org");
    }
    CHECK(r->url == row.url);
}

TEST_CASE("parse_gosumdb refuses malformed settings, naming GOSUMDB", "[sumdb][goenv]") {
    struct Row {
        const char* value;
        const char* message;
    };
    auto row = GENERATE(Row{"on", "neither 'off' nor a verifier key"}, // golang/go#68782
                        Row{"sum.example.com", "neither 'off' nor a verifier key"},
                        Row{"sum.golang.org https://a.example https://b.example", "too many fields"},
                        Row{"sum.golang.org+033de0af+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8", "does not match"},
                        Row{"sum.golang.org ftp://mirror.example", "is not an https or http URL"},
                        Row{"sum.golang.org not-a-url", "is not an https or http URL"});
    CAPTURE(row.value);
    auto r = parse_gosumdb(row.value);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::usage);
    CHECK_THAT(r.error().message(), Catch::StartsWith("GOSUMDB: ") && Catch::Contains(row.message));
}
