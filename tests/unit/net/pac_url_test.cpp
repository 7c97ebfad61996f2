// What a PAC script is given (issue #14 items 18c and 18d). A PAC file comes from the network, so
// it must not see credentials, or for https the path and query, of the URLs it is asked about: a
// hostile one could copy them into the proxy name it returns. Browsers hand https URLs over as
// their origin (Chromium since M52; Firefox network.proxy.autoconfig_url.include_path = false).
#include <catch2/catch.hpp>

#include <map>
#include <memory>
#include <string>

#include "goinstall/net/pac.hpp"
#include "goinstall/net/proxy_resolver.hpp"

using namespace goinstall;

TEST_CASE("pac_url: the URL a PAC script may see", "[net][pac]") {
    // clang-format off
    auto [url, shown] = GENERATE(table<std::string, std::string>({
        {"https://go.dev/dl/go1.22.5.linux-amd64.tar.gz", "https://go.dev/"},
        {"https://alice:s3cret@go.dev/dl/?token=abc#frag", "https://go.dev/"},
        {"https://alice@go.dev:8443/x", "https://go.dev:8443/"},
        {"https://go.dev:443/x", "https://go.dev/"},
        {"HTTPS://GO.DEV/X", "https://go.dev/"},
        {"https://[2001:db8::1]:8443/x?y", "https://[2001:db8::1]:8443/"},
        {"wss://user:pw@ws.example/chat?k=v", "wss://ws.example/"},
        {"http://bob:pw@mirror.example/go/dl?x=1#top", "http://mirror.example/go/dl?x=1"},
        {"http://mirror.example:80/a", "http://mirror.example/a"},
        {"http://mirror.example:8080", "http://mirror.example:8080/"},
        {"http://[::1]:3128/p", "http://[::1]:3128/p"},
        {"not a url", ""},
    }));
    // clang-format on
    CAPTURE(url);
    CHECK(pac_url(url) == shown);
}

#ifdef GOINSTALL_HAVE_PAC

namespace {

ProxyChoice choose_with_pac(const std::string& script, const std::string& url) {
    auto pac = PacScript::compile(script, "test.pac");
    REQUIRE(pac);
    ProxySettings ps;
    ps.use_system = false;
    ps.pac = std::make_shared<const PacScript>(std::move(*pac));
    ps.pac_source = "test.pac";
    auto r = ProxyResolver::create(ps, MapEnv({}), SystemProxyLookup{});
    REQUIRE(r);
    return r->choose(url);
}

// A script that builds its proxy's name from the URL it was given, letters and digits kept.
const std::string k_echo_url = R"(
    function FindProxyForURL(url, host) {
        return "PROXY " + url.replace(/[^a-z0-9.]/g, "x") + ".test:3128";
    }
)";

} // namespace

TEST_CASE("PAC: a script never sees credentials, path or query of an https URL", "[net][pac]") {
    auto c = choose_with_pac(k_echo_url, "https://alice:s3cret@go.dev:8443/dl/go.tgz?token=abc#frag");
    REQUIRE(c.proxy);
    CHECK(c.proxy->host == "httpsxxxgo.devx8443x.test"); // "https://go.dev:8443/"
    for (const char* secret : {"alice", "s3cret", "token", "abc", "dl", "tgz", "frag"}) {
        CHECK(c.proxy->host.find(secret) == std::string::npos);
        CHECK(c.reason.find(secret) == std::string::npos);
    }
}

TEST_CASE("PAC: a script never sees credentials or the fragment of an http URL", "[net][pac]") {
    auto c = choose_with_pac(k_echo_url, "http://bob:pw@mirror.example/go/dl?x=1#top");
    REQUIRE(c.proxy);
    CHECK(c.proxy->host == "httpxxxmirror.examplexgoxdlxxx1.test"); // "http://mirror.example/go/dl?x=1"
}

TEST_CASE("PAC: the host argument is lowercased", "[net][pac]") {
    auto c = choose_with_pac("function FindProxyForURL(u, h) { return 'PROXY ' + h + '.test:1'; }",
                             "https://Mirror.EXAMPLE/x");
    REQUIRE(c.proxy);
    CHECK(c.proxy->host == "mirror.example.test");
}

TEST_CASE("PAC: console.log does nothing and the answer is used", "[net][pac]") {
    // Real PAC files log; without console the call threw ReferenceError and the request went direct.
    const char* script = R"(
        console.log("loading proxy.pac");
        function FindProxyForURL(url, host) {
            console.log("FindProxyForURL", url, host);
            console.info("i"); console.warn("w"); console.error("e"); console.debug("d");
            alert("still a no-op");
            return "PROXY proxy.example.com:3128; DIRECT";
        }
    )";
    auto pac = PacScript::compile(script, "console.pac");
    REQUIRE(pac);
    auto answer = pac->find_proxy("https://go.dev/", "go.dev");
    REQUIRE(answer);
    REQUIRE(answer->size() == 2);
    CHECK((*answer)[0] == PacEntry{PacEntry::Kind::proxy, "proxy.example.com:3128", "http"});
    auto c = choose_with_pac(script, "https://go.dev/dl/");
    REQUIRE(c.proxy);
    CHECK(c.proxy->host == "proxy.example.com");
}

#endif
