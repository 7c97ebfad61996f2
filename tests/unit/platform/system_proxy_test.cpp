// Table tests of the pure system-proxy parsers (GNOME, KDE, SUSE sysconfig, macOS, Windows).

#include <catch2/catch.hpp>

#include <random>

#include "system_proxy_test_util.hpp"

using namespace goinstall;
using goinstall::test::describe;
using goinstall::test::fixture;
using goinstall::test::proxy;
using Mode = SystemProxy::Mode;
using namespace std::string_literals;

namespace {

struct GnomeCase {
    const char* name;
    std::map<std::string, std::string> values;
    std::optional<SystemProxy> expected;
};

struct TextCase {
    const char* name;
    std::string text;
    std::optional<SystemProxy> expected;
};

const std::vector<std::string> k_gnome_default_ignore{"localhost", "127.0.0.0/8", "::1"};

} // namespace

TEST_CASE("parse_gnome reads gsettings values as gsettings prints them", "[platform][sysproxy]") {
    auto c = GENERATE(values<GnomeCase>({
        {"mode none", {{"mode", "'none'"}, {"https.host", "'proxy.corp'"}, {"https.port", "8080"}}, std::nullopt},
        {"manual https",
         {{"mode", "'manual'"},
          {"https.host", "'proxy.corp'"},
          {"https.port", "8080"},
          {"ignore-hosts", "['localhost', '127.0.0.0/8', '::1']"}},
         proxy(Mode::manual, "proxy.corp:8080", "", "", "", k_gnome_default_ignore)},
        {"manual http only: https falls back to it",
         {{"mode", "'manual'"},
          {"http.host", "'proxy.corp'"},
          {"http.port", "3128"},
          {"https.host", "''"},
          {"https.port", "0"}},
         proxy(Mode::manual, "proxy.corp:3128", "proxy.corp:3128")},
        {"manual http and https differ",
         {{"mode", "'manual'"}, {"http.host", "'a'"}, {"http.port", "1"}, {"https.host", "'b'"}, {"https.port", "2"}},
         proxy(Mode::manual, "b:2", "a:1")},
        {"manual socks only",
         {{"mode", "'manual'"}, {"socks.host", "'socks.corp'"}, {"socks.port", "1080"}, {"ignore-hosts", "@as []"}},
         proxy(Mode::manual, "", "", "socks5://socks.corp:1080")},
        {"port 0 means not configured",
         {{"mode", "'manual'"}, {"https.host", "'proxy.corp'"}, {"https.port", "0"}},
         std::nullopt},
        {"empty host means not configured",
         {{"mode", "'manual'"}, {"https.host", "''"}, {"https.port", "8080"}},
         std::nullopt},
        {"port out of range", {{"mode", "'manual'"}, {"https.host", "'p'"}, {"https.port", "70000"}}, std::nullopt},
        {"typed port",
         {{"mode", "'manual'"}, {"https.host", "'p'"}, {"https.port", "int32 8080"}},
         proxy(Mode::manual, "p:8080", "")},
        {"IPv6 host gets brackets",
         {{"mode", "'manual'"}, {"https.host", "'::1'"}, {"https.port", "3128"}},
         proxy(Mode::manual, "[::1]:3128", "")},
        {"auto with PAC URL",
         {{"mode", "'auto'"}, {"autoconfig-url", "'http://wpad.corp/proxy.pac'"}, {"ignore-hosts", "@as []"}},
         proxy(Mode::auto_pac, "", "", "", "http://wpad.corp/proxy.pac")},
        {"auto without URL is WPAD", {{"mode", "'auto'"}, {"autoconfig-url", "''"}}, proxy(Mode::auto_pac, "", "")},
        {"auto ignores stale manual hosts",
         {{"mode", "'auto'"}, {"autoconfig-url", "'http://pac'"}, {"https.host", "'old'"}, {"https.port", "1"}},
         proxy(Mode::auto_pac, "", "", "", "http://pac")},
        {"ignore-hosts with escapes",
         {{"mode", "'auto'"}, {"ignore-hosts", R"(["it's", 'caf\u00e9', 'a\\b', '*.corp'])"}},
         proxy(Mode::auto_pac, "", "", "", "", {"it's", "caf\xc3\xa9", "a\\b", "*.corp"})},
        {"empty ignore-hosts array", {{"mode", "'auto'"}, {"ignore-hosts", "[]"}}, proxy(Mode::auto_pac, "", "")},
        {"malformed ignore-hosts is dropped",
         {{"mode", "'auto'"}, {"ignore-hosts", "['a', "}},
         proxy(Mode::auto_pac, "", "")},
        {"no mode key", {{"https.host", "'p'"}, {"https.port", "1"}}, std::nullopt},
        {"unquoted mode", {{"mode", "manual"}, {"https.host", "'p'"}, {"https.port", "1"}}, std::nullopt},
        {"unknown mode", {{"mode", "'magic'"}, {"https.host", "'p'"}, {"https.port", "1"}}, std::nullopt},
        {"manual with nothing set", {{"mode", "'manual'"}}, std::nullopt},
    }));
    INFO(c.name);
    auto got = parse_gnome(c.values);
    CHECK(describe(got) == describe(c.expected));
    if (got) {
        CHECK(got->source == "GNOME (gsettings org.gnome.system.proxy)");
    }
}

TEST_CASE("parse_gsettings_listing feeds parse_gnome from captured gsettings output", "[platform][sysproxy]") {
    auto values = parse_gsettings_listing(fixture("gsettings-manual.txt"));
    CHECK(values.at("mode") == "'manual'");
    CHECK(values.at("https.port") == "3128");
    CHECK(values.at("http.use-authentication") == "false");
    CHECK(describe(parse_gnome(values)) == describe(proxy(Mode::manual, "secure-proxy.corp.example:3128",
                                                          "proxy.corp.example:8080", "socks5://socks.corp.example:1080",
                                                          "", {"localhost", "127.0.0.0/8", "::1", "*.corp.example"})));
    CHECK(describe(parse_gnome(parse_gsettings_listing(fixture("gsettings-manual-http-only.txt")))) ==
          describe(proxy(Mode::manual, "proxy.corp.example:8080", "proxy.corp.example:8080", "", "",
                         k_gnome_default_ignore)));
    CHECK(describe(parse_gnome(parse_gsettings_listing(fixture("gsettings-auto.txt")))) ==
          describe(proxy(Mode::auto_pac, "", "", "", "http://wpad.corp.example/proxy.pac")));
    CHECK_FALSE(parse_gnome(parse_gsettings_listing(fixture("gsettings-none.txt"))));
    // Other schemas sharing the prefix, and junk lines, are ignored.
    auto mixed = parse_gsettings_listing(
        "org.gnome.system.proxyx mode 'manual'\njunk\n\norg.gnome.system.proxy mode 'none'\r\n");
    CHECK(mixed == std::map<std::string, std::string>{{"mode", "'none'"}});
}

TEST_CASE("parse_kioslaverc reads every KDE ProxyType", "[platform][sysproxy]") {
    const std::string g = "[Proxy Settings]\n";
    auto c = GENERATE_REF(values<TextCase>({
        {"ProxyType 0", g + "ProxyType=0\nhttpsProxy=http://proxy.corp 8080\n", std::nullopt},
        {"manual, KDE's space form",
         g + "ProxyType=1\nhttpsProxy=http://proxy.corp 8080\nhttpProxy=http://proxy.corp 8080\n",
         proxy(Mode::manual, "http://proxy.corp:8080", "http://proxy.corp:8080")},
        {"manual, host:port form", g + "ProxyType=1\nhttpsProxy=proxy.corp:3128\n",
         proxy(Mode::manual, "proxy.corp:3128", "")},
        {"manual, bare host and port", g + "ProxyType=1\nhttpsProxy=proxy.corp 3128\n",
         proxy(Mode::manual, "proxy.corp:3128", "")},
        {"manual, https does not fall back to http", g + "ProxyType=1\nhttpProxy=http://p 80\n",
         proxy(Mode::manual, "", "http://p:80")},
        {"manual, socks only", g + "ProxyType=1\nsocksProxy=socks://socks.corp 1080\n",
         proxy(Mode::manual, "", "", "socks5://socks.corp:1080")},
        {"manual, bypass list", g + "ProxyType=1\nhttpsProxy=p:1\nNoProxyFor=localhost, .corp 10.0.0.0/8,,\n",
         proxy(Mode::manual, "p:1", "", "", "", {"localhost", ".corp", "10.0.0.0/8"})},
        {"manual, non-numeric port is discarded like KIO does", g + "ProxyType=1\nhttpsProxy=http://p abc\n",
         std::nullopt},
        {"manual, DIRECT", g + "ProxyType=1\nhttpsProxy=DIRECT\n", std::nullopt},
        {"manual, nothing set", g + "ProxyType=1\nhttpsProxy=\n", std::nullopt},
        {"manual, ReversedException", g + "ProxyType=1\nhttpsProxy=p:1\nReversedException=true\n", std::nullopt},
        {"manual, option suffixes and escapes", g + "ProxyType[$e]=1\nhttpsProxy[$i]=\\shttp://p\\s8080\n",
         proxy(Mode::manual, "http://p:8080", "")},
        {"PAC", g + "ProxyType=2\nProxy Config Script=http://wpad.corp/proxy.pac\nhttpsProxy=http://stale 1\n",
         proxy(Mode::auto_pac, "", "", "", "http://wpad.corp/proxy.pac")},
        {"PAC without a script", g + "ProxyType=2\nProxy Config Script=\n", std::nullopt},
        {"WPAD", g + "ProxyType=3\n", proxy(Mode::auto_pac, "", "")},
        {"environment variables", g + "ProxyType=4\nhttpsProxy=HTTPS_PROXY,https_proxy\n", std::nullopt},
        {"unknown ProxyType", g + "ProxyType=9\n", std::nullopt},
        {"ProxyType missing", g + "httpsProxy=p:1\n", std::nullopt},
        {"another group", "[Other]\nProxyType=1\nhttpsProxy=p:1\n", std::nullopt},
        {"group ends at the next header", g + "ProxyType=1\n[Cache]\nhttpsProxy=p:1\n", std::nullopt},
        {"CRLF and comments", "# c\r\n[Proxy Settings]\r\nProxyType = 1\r\nhttpsProxy = p:1\r\n",
         proxy(Mode::manual, "p:1", "")},
    }));
    INFO(c.name);
    CHECK(describe(parse_kioslaverc(c.text)) == describe(c.expected));
}

TEST_CASE("parse_kioslaverc reads constructed KDE files", "[platform][sysproxy]") {
    auto manual = parse_kioslaverc(fixture("kioslaverc-manual"));
    CHECK(describe(manual) ==
          describe(proxy(Mode::manual, "http://proxy.corp.example:8080", "http://proxy.corp.example:8080",
                         "socks5://socks.corp.example:1080", "", {"localhost", "127.0.0.1", ".corp.example"})));
    REQUIRE(manual);
    CHECK(manual->source == "KDE (~/.config/kioslaverc)");
    CHECK(describe(parse_kioslaverc(fixture("kioslaverc-pac"))) ==
          describe(proxy(Mode::auto_pac, "", "", "", "http://wpad.corp.example/proxy.pac")));
}

TEST_CASE("parse_sysconfig_proxy reads SUSE's shell assignments", "[platform][sysproxy]") {
    auto c = GENERATE(values<TextCase>({
        {"disabled", "PROXY_ENABLED=\"no\"\nHTTPS_PROXY=\"http://p:3128\"\n", std::nullopt},
        {"no PROXY_ENABLED", "HTTPS_PROXY=\"http://p:3128\"\n", std::nullopt},
        {"enabled but empty", "PROXY_ENABLED=\"yes\"\nHTTPS_PROXY=\"\"\nHTTP_PROXY=''\n", std::nullopt},
        {"quotes, comments, export",
         "# comment\nPROXY_ENABLED=yes # trailing\nexport HTTPS_PROXY='http://p:3128' # "
         "corp\nHTTP_PROXY=\"http://q:80\"\n"
         "NO_PROXY=\"localhost, 127.0.0.1\"\n",
         proxy(Mode::manual, "http://p:3128", "http://q:80", "", "", {"localhost", "127.0.0.1"})},
        {"commented-out assignment",
         "PROXY_ENABLED=\"yes\"\n#HTTPS_PROXY=\"http://old:1\"\nHTTP_PROXY=\"http://q:80\"\n",
         proxy(Mode::manual, "", "http://q:80")},
        {"later assignment wins", "PROXY_ENABLED=\"yes\"\nHTTPS_PROXY=\"http://a:1\"\nHTTPS_PROXY=\"http://b:2\"\n",
         proxy(Mode::manual, "http://b:2", "")},
        {"escaped quote inside double quotes", "PROXY_ENABLED=\"yes\"\nHTTPS_PROXY=\"http://u\\\"x@p:1\"\n",
         proxy(Mode::manual, "http://u\"x@p:1", "")},
        {"unterminated quote is ignored",
         "PROXY_ENABLED=\"yes\"\nHTTPS_PROXY=\"http://p:1\nHTTP_PROXY=\"http://q:2\"\n",
         proxy(Mode::manual, "", "http://q:2")},
        {"SOCKS_PROXY", "PROXY_ENABLED=\"yes\"\nSOCKS_PROXY=\"socks.corp:1080\"\n",
         proxy(Mode::manual, "", "", "socks5://socks.corp:1080")},
        {"SOCKS5_SERVER", "PROXY_ENABLED=\"yes\"\nSOCKS5_SERVER=\"s:1080\"\n",
         proxy(Mode::manual, "", "", "socks5://s:1080")},
        {"not an assignment", "PROXY_ENABLED=\"yes\"\nif true; then HTTPS_PROXY=x; fi\n1X=\"y\"\n", std::nullopt},
    }));
    INFO(c.name);
    CHECK(describe(parse_sysconfig_proxy(c.text)) == describe(c.expected));
}

TEST_CASE("parse_sysconfig_proxy reads a constructed SUSE file", "[platform][sysproxy]") {
    auto p = parse_sysconfig_proxy(fixture("sysconfig-proxy"));
    CHECK(describe(p) ==
          describe(proxy(Mode::manual, "http://proxy.corp.example:3128/", "http://proxy.corp.example:3128/", "", "",
                         {"localhost", "127.0.0.1", ".corp.example"})));
    REQUIRE(p);
    CHECK(p->source == "/etc/sysconfig/proxy");
}

TEST_CASE("parse_scutil_proxy reads macOS proxy dictionaries", "[platform][sysproxy]") {
    auto dict = [](const std::string& body) { return "<dictionary> {\n" + body + "}\n"; };
    auto c = GENERATE_REF(values<TextCase>({
        {"HTTPS only", dict("  HTTPSEnable : 1\n  HTTPSPort : 8080\n  HTTPSProxy : proxy.corp\n  HTTPEnable : 0\n"),
         proxy(Mode::manual, "proxy.corp:8080", "")},
        {"HTTP only: no fallback for HTTPS", dict("  HTTPEnable : 1\n  HTTPPort : 80\n  HTTPProxy : p\n"),
         proxy(Mode::manual, "", "p:80")},
        {"SOCKS only", dict("  SOCKSEnable : 1\n  SOCKSPort : 1080\n  SOCKSProxy : socks.corp\n"),
         proxy(Mode::manual, "", "", "socks5://socks.corp:1080")},
        {"PAC and manual both enabled",
         dict("  HTTPSEnable : 1\n  HTTPSPort : 1\n  HTTPSProxy : p\n  ProxyAutoConfigEnable : 1\n"
              "  ProxyAutoConfigURLString : http://wpad/proxy.pac\n"),
         proxy(Mode::auto_pac, "p:1", "", "", "http://wpad/proxy.pac")},
        {"auto discovery", dict("  ProxyAutoDiscoveryEnable : 1\n"), proxy(Mode::auto_pac, "", "")},
        {"exceptions",
         dict("  ExceptionsList : <array> {\n    0 : *.local\n    1 : 169.254/16\n  }\n  HTTPSEnable : 1\n"
              "  HTTPSPort : 3128\n  HTTPSProxy : fe80::1\n"),
         proxy(Mode::manual, "[fe80::1]:3128", "", "", "", {"*.local", "169.254/16"})},
        {"enabled without a port", dict("  HTTPSEnable : 1\n  HTTPSProxy : p\n"), std::nullopt},
        {"disabled proxy is ignored", dict("  HTTPSEnable : 0\n  HTTPSPort : 1\n  HTTPSProxy : p\n"), std::nullopt},
        {"PAC enabled without URL", dict("  ProxyAutoConfigEnable : 1\n"), std::nullopt},
        {"empty dictionary", dict(""), std::nullopt},
        {"unclosed", "<dictionary> {\n  HTTPSEnable : 1\n  HTTPSPort : 1\n  HTTPSProxy : p\n", std::nullopt},
        {"trailing text", dict("  HTTPSEnable : 1\n  HTTPSPort : 1\n  HTTPSProxy : p\n") + "junk\n", std::nullopt},
        {"not a dictionary", "No proxy configuration\n", std::nullopt},
    }));
    INFO(c.name);
    CHECK(describe(parse_scutil_proxy(c.text)) == describe(c.expected));
}

TEST_CASE("parse_scutil_proxy reads constructed scutil output", "[platform][sysproxy]") {
    auto manual = parse_scutil_proxy(fixture("scutil-manual.txt"));
    CHECK(describe(manual) == describe(proxy(Mode::manual, "proxy.corp.example:8080", "proxy.corp.example:8080", "", "",
                                             {"*.local", "169.254/16", "*.corp.example"})));
    REQUIRE(manual);
    CHECK(manual->source == "macOS (scutil --proxy)");
    CHECK(describe(parse_scutil_proxy(fixture("scutil-pac.txt"))) ==
          describe(proxy(Mode::auto_pac, "", "", "", "http://wpad.corp.example/proxy.pac", {"*.local", "169.254/16"})));
    CHECK_FALSE(parse_scutil_proxy(fixture("scutil-none.txt")));
}

TEST_CASE("parse_windows_internet_settings reads the WinINet registry values", "[platform][sysproxy]") {
    struct Case {
        const char* name;
        std::optional<std::uint32_t> enable;
        std::string server, override_list, pac;
        std::optional<SystemProxy> expected;
    };
    auto c = GENERATE(values<Case>({
        {"one server for all", 1, "proxy.corp:8080", "<local>;*.corp;10.*", "",
         proxy(Mode::manual, "proxy.corp:8080", "proxy.corp:8080", "", "", {"<local>", "*.corp", "10.*"})},
        {"per scheme", 1, "http=a:1;https=b:2;ftp=f:21;socks=c:3", "", "",
         proxy(Mode::manual, "b:2", "a:1", "socks4://c:3")},
        {"per scheme with URLs", 1, "https=http://b:2; socks=socks5://c:3", "", "",
         proxy(Mode::manual, "http://b:2", "", "socks5://c:3")},
        {"http only leaves https empty", 1, "http=a:1", "", "", proxy(Mode::manual, "", "a:1")},
        {"ftp only", 1, "ftp=f:21", "", "", std::nullopt},
        {"disabled", 0, "proxy.corp:8080", "<local>", "", std::nullopt},
        {"value missing", std::nullopt, "proxy.corp:8080", "", "", std::nullopt},
        {"enabled but empty", 1, "", "", "", std::nullopt},
        {"PAC", 0, "stale:1", "", "http://wpad/proxy.pac", proxy(Mode::auto_pac, "", "", "", "http://wpad/proxy.pac")},
        {"PAC and manual", 1, "p:1", ";<local>;", "http://pac",
         proxy(Mode::auto_pac, "p:1", "p:1", "", "http://pac", {"<local>"})},
    }));
    INFO(c.name);
    auto got = parse_windows_internet_settings(c.enable, c.server, c.override_list, c.pac);
    CHECK(describe(got) == describe(c.expected));
    if (got) {
        CHECK(got->source == "Windows (Internet Settings)");
    }
}

TEST_CASE("system proxy parsers survive garbage and truncation", "[platform][sysproxy]") {
    std::vector<std::string> inputs = {"",
                                       "\n",
                                       "\0\0\0"s,
                                       "[",
                                       "[Proxy Settings",
                                       "'",
                                       "\"",
                                       "\\",
                                       "<dictionary> {",
                                       "<dictionary> {\n}\n}\n",
                                       "=",
                                       "PROXY_ENABLED=\"yes",
                                       "@as [",
                                       "['a'",
                                       "'\\u12",
                                       "'\\U0011FFFF'",
                                       std::string(100000, '['),
                                       std::string(100000, '}')};
    for (const char* name : {"gsettings-manual.txt", "kioslaverc-manual", "sysconfig-proxy", "scutil-manual.txt"}) {
        auto text = fixture(name);
        for (std::size_t n = 0; n < text.size(); n += 7) {
            inputs.push_back(text.substr(0, n));
        }
    }
    std::mt19937 rng(20260819); // fixed seed: reproducible
    const std::string alphabet = "[]{}<>'\"\\=:;, \n\t#@asProxyType1HTTPSEnable0u";
    for (int i = 0; i < 300; ++i) {
        std::string s(rng() % 200, ' ');
        for (auto& ch : s) {
            ch = (i % 3 == 0) ? static_cast<char>(rng() % 256) : alphabet[rng() % alphabet.size()];
        }
        inputs.push_back(s);
    }
    for (const auto& in : inputs) {
        CHECK_NOTHROW(parse_kioslaverc(in));
        CHECK_NOTHROW(parse_sysconfig_proxy(in));
        CHECK_NOTHROW(parse_scutil_proxy(in));
        CHECK_NOTHROW(parse_gnome(parse_gsettings_listing(in)));
        CHECK_NOTHROW(
            parse_gnome({{"mode", "'manual'"}, {"https.host", in}, {"https.port", in}, {"ignore-hosts", in}}));
        CHECK_NOTHROW(parse_windows_internet_settings(1, in, in, ""));
    }
    for (std::size_t i = 0; i < 18; ++i) { // the hand-written garbage says nothing
        INFO(i);
        CHECK_FALSE(parse_kioslaverc(inputs[i]));
        CHECK_FALSE(parse_sysconfig_proxy(inputs[i]));
        CHECK_FALSE(parse_scutil_proxy(inputs[i]));
        CHECK_FALSE(parse_gnome(parse_gsettings_listing(inputs[i])));
    }
}
