// The GOPROXY client and the checksum database's base URL, against a serving fake transport:
// cmd/go's list semantics (',' falls through on 404/410 only, '|' on any error, off, direct,
// file:// trees) and dbClient.initBase's /supported probes.

#include <catch2/catch.hpp>

#include "../fakes/serving_transport.hpp"
#include "../fakes/temp_dir.hpp"
#include "goinstall/sumdb/goproxy.hpp"
#include "goinstall/sumdb/remote.hpp"

using namespace goinstall;
using namespace goinstall::sumdb;
using goinstall::test::ServingTransport;
using goinstall::test::TempDir;

namespace {

const std::string k_list_a = "https://a.example/golang.org/toolchain/@v/list";
const std::string k_list_b = "https://b.example/golang.org/toolchain/@v/list";

std::vector<ProxyEntry> proxies(std::string_view text) {
    auto p = parse_goproxy(text);
    REQUIRE(p);
    return *p;
}

SumdbSetting default_db() {
    auto s = parse_gosumdb("");
    REQUIRE(s);
    return *s;
}

} // namespace

TEST_CASE("module paths and versions are escaped with '!' for upper case", "[sumdb][goproxy]") {
    CHECK(escape_module_path("golang.org/toolchain") == "golang.org/toolchain");
    CHECK(escape_module_path("github.com/Azure/azure-sdk") == "github.com/!azure/azure-sdk");
    CHECK(escape_version("v1.0.0-RC1") == "v1.0.0-!r!c1");
    CHECK_FALSE(escape_module_path("github.com/!x"));
    CHECK_FALSE(escape_module_path(""));
    CHECK_FALSE(escape_module_path("a b"));
    CHECK(module_file_url("https://p.example/", "github.com/Azure/x", "v1.0.0", ".zip") ==
          "https://p.example/github.com/!azure/x/@v/v1.0.0.zip");
    CHECK(module_file_url("https://p.example", "golang.org/toolchain", "", "") ==
          "https://p.example/golang.org/toolchain/@v/list");
    CHECK(file_url_path("file:///srv/go%20proxy") == std::filesystem::path("/srv/go proxy"));
    CHECK_FALSE(file_url_path("https://x.example/"));
}

TEST_CASE("GOPROXY ',': the next proxy only after 404 or 410", "[sumdb][goproxy]") {
    ServingTransport net;
    SECTION("404 falls through") {
        net.serve(k_list_a, "", 404);
        net.serve(k_list_b, "v0.0.1-go1.21.3.linux-amd64\n");
        GoproxyClient c(net, proxies("https://a.example,https://b.example"));
        auto doc = c.list("golang.org/toolchain");
        REQUIRE(doc);
        CHECK(doc->proxy == "https://b.example");
        REQUIRE(doc->tried.size() == 2);
        CHECK(doc->tried[0].outcome.find("404") != std::string::npos);
        CHECK(doc->tried[1].outcome.empty());
    }
    SECTION("410 falls through") {
        net.serve(k_list_a, "", 410);
        net.serve(k_list_b, "x\n");
        CHECK(GoproxyClient(net, proxies("https://a.example,https://b.example")).list("golang.org/toolchain"));
    }
    SECTION("500 stops: the second proxy is never asked") {
        net.serve(k_list_a, "", 500);
        net.serve(k_list_b, "x\n");
        auto doc = GoproxyClient(net, proxies("https://a.example,https://b.example")).list("golang.org/toolchain");
        REQUIRE_FALSE(doc);
        CHECK(doc.error().code() == ErrorCode::network);
        CHECK(doc.error().net()->http_status == 500);
        REQUIRE(doc.error().tried().size() == 1);
        CHECK(doc.error().tried()[0].name == "https://a.example");
        CHECK(net.count(k_list_b) == 0);
    }
    SECTION("a connection failure stops too") {
        GoproxyClient c(net, proxies("https://a.example,https://b.example"));
        net.serve(k_list_b, "x\n");
        CHECK_FALSE(c.list("golang.org/toolchain"));
        CHECK(net.count(k_list_b) == 0);
    }
    SECTION("every proxy 404: not_found, each named in the attempt log") {
        net.serve(k_list_a, "", 404);
        net.serve(k_list_b, "", 404);
        auto doc = GoproxyClient(net, proxies("https://a.example,https://b.example")).list("golang.org/toolchain");
        REQUIRE_FALSE(doc);
        CHECK(doc.error().code() == ErrorCode::not_found);
        REQUIRE(doc.error().tried().size() == 2);
        CHECK(doc.error().tried()[1].url == "https://b.example");
    }
}

TEST_CASE("GOPROXY '|': the next proxy after any error, and the most helpful error is kept", "[sumdb][goproxy]") {
    ServingTransport net;
    SECTION("500 falls through") {
        net.serve(k_list_a, "", 500);
        net.serve(k_list_b, "x\n");
        auto doc = GoproxyClient(net, proxies("https://a.example|https://b.example")).list("golang.org/toolchain");
        REQUIRE(doc);
        CHECK(doc->proxy == "https://b.example");
    }
    SECTION("500 then 404: the 500 is reported, as cmd/go ranks a proxy error above not-exist") {
        net.serve(k_list_a, "", 500);
        net.serve(k_list_b, "", 404);
        auto doc = GoproxyClient(net, proxies("https://a.example|https://b.example")).list("golang.org/toolchain");
        REQUIRE_FALSE(doc);
        CHECK(doc.error().net()->http_status == 500);
        CHECK(doc.error().tried().size() == 2);
    }
}

TEST_CASE("GOPROXY off and direct", "[sumdb][goproxy]") {
    ServingTransport net;
    SECTION("off: nothing is asked") {
        auto doc = GoproxyClient(net, proxies("off")).list("golang.org/toolchain");
        REQUIRE_FALSE(doc);
        CHECK(doc.error().code() == ErrorCode::usage);
        CHECK(doc.error().message() == "module lookup disabled by GOPROXY=off");
        CHECK(net.urls().empty());
    }
    SECTION("a 404 then off: off's error") {
        net.serve(k_list_a, "", 404);
        auto doc = GoproxyClient(net, proxies("https://a.example,off")).list("golang.org/toolchain");
        REQUIRE_FALSE(doc);
        CHECK(doc.error().message() == "module lookup disabled by GOPROXY=off");
    }
    SECTION("direct reads the toolchain module's go-import target, go.dev/dl/mod (here a loopback stand-in)") {
        GoproxyOptions o;
        o.direct_url = "https://direct.example/dl/mod";
        net.serve(k_list_a, "", 404);
        net.serve("https://direct.example/dl/mod/golang.org/toolchain/@v/list", "x\n");
        auto doc = GoproxyClient(net, proxies("https://a.example,direct"), o).list("golang.org/toolchain");
        REQUIRE(doc);
        CHECK(doc->proxy == "direct (https://direct.example/dl/mod)");
    }
}

TEST_CASE("GOPROXY file:// trees are read from disk, and a missing file falls through", "[sumdb][goproxy]") {
    TempDir dir;
    goinstall::test::write_text(dir / "two/golang.org/toolchain/@v/list", "v0.0.1-go1.21.3.linux-amd64\n");
    ServingTransport net;
    GoproxyClient c(net, proxies("file://" + (dir / "one").string() + ",file://" + (dir / "two").string()));
    auto doc = c.list("golang.org/toolchain");
    REQUIRE(doc);
    CHECK(doc->body == "v0.0.1-go1.21.3.linux-amd64\n");
    CHECK(net.urls().empty());
    auto info = c.info("golang.org/toolchain", "v0.0.1-go1.21.3.linux-amd64");
    REQUIRE_FALSE(info);
    CHECK(info.error().code() == ErrorCode::not_found);
}

TEST_CASE("credentials in proxy URLs stay out of errors and attempt logs", "[sumdb][goproxy]") {
    ServingTransport net;
    net.serve("https://user:s3cret@a.example/golang.org/toolchain/@v/list", "", 503);
    auto doc = GoproxyClient(net, proxies("https://user:s3cret@a.example")).list("golang.org/toolchain");
    REQUIRE_FALSE(doc);
    CHECK(doc.error().describe().find("s3cret") == std::string::npos);
    for (const auto& t : doc.error().tried()) {
        CHECK(t.name.find("s3cret") == std::string::npos);
        CHECK(t.url.find("s3cret") == std::string::npos);
        CHECK(t.outcome.find("s3cret") == std::string::npos);
    }
}

TEST_CASE("sumdb through the proxy: the first proxy that supports it, else the database itself", "[sumdb][goproxy]") {
    ServingTransport net;
    const auto db = default_db();
    const std::string sup_a = "https://a.example/sumdb/sum.golang.org/supported";
    const std::string sup_b = "https://b.example/sumdb/sum.golang.org/supported";
    SECTION("200 → proxied") {
        net.serve(sup_a, "");
        auto base = select_sumdb_base(net, proxies("https://a.example,https://b.example"), db);
        REQUIRE(base);
        CHECK(base->url == "https://a.example/sumdb/sum.golang.org");
        CHECK(base->via == "https://a.example");
        CHECK(net.count(sup_b) == 0);
    }
    SECTION("404 → the next proxy") {
        net.serve(sup_a, "", 404);
        net.serve(sup_b, "");
        auto base = select_sumdb_base(net, proxies("https://a.example,https://b.example"), db);
        REQUIRE(base);
        CHECK(base->url == "https://b.example/sumdb/sum.golang.org");
        REQUIRE(base->tried.size() == 2);
        CHECK(base->tried[0].role == "sumdb");
        CHECK(base->tried[0].url == sup_a);
    }
    SECTION("404 everywhere, or the list reaches direct or off → the database's own URL") {
        net.serve(sup_a, "", 410);
        net.serve(sup_b, "", 404);
        auto text =
            GENERATE(std::string("https://a.example,https://b.example"), std::string("https://a.example,direct"),
                     std::string("https://a.example,off"), std::string("direct"), std::string("off"));
        CAPTURE(text);
        auto base = select_sumdb_base(net, proxies(text), db);
        REQUIRE(base);
        CHECK(base->url == "https://sum.golang.org");
        CHECK(base->via.empty());
    }
    SECTION("another error after ',' → the database is unavailable") {
        net.serve(sup_a, "", 502);
        net.serve(sup_b, "");
        auto base = select_sumdb_base(net, proxies("https://a.example,https://b.example"), db);
        REQUIRE_FALSE(base);
        CHECK(base.error().net()->http_status == 502);
        CHECK(net.count(sup_b) == 0);
    }
    SECTION("another error after '|' → the next proxy; then direct") {
        net.serve(sup_a, "", 502);
        net.serve(sup_b, "");
        auto base = select_sumdb_base(net, proxies("https://a.example|https://b.example"), db);
        REQUIRE(base);
        CHECK(base->url == "https://b.example/sumdb/sum.golang.org");
        auto direct = select_sumdb_base(net, proxies("https://a.example|direct"), db);
        REQUIRE(direct);
        CHECK(direct->url == "https://sum.golang.org");
    }
    SECTION("an explicit URL in GOSUMDB skips the probe; sum.golang.google.cn is sum.golang.org's front") {
        auto cn = parse_gosumdb("sum.golang.google.cn");
        REQUIRE(cn);
        auto base = select_sumdb_base(net, proxies("https://a.example"), *cn);
        REQUIRE(base);
        CHECK(base->url == "https://sum.golang.google.cn");
        CHECK(net.urls().empty());
    }
    SECTION("GOSUMDB=off is refused") {
        auto off = parse_gosumdb("off");
        REQUIRE(off);
        auto base = select_sumdb_base(net, proxies("https://a.example"), *off);
        REQUIRE_FALSE(base);
        CHECK(base.error().code() == ErrorCode::usage);
    }
}

TEST_CASE("TransportSumdbFetcher joins paths and reports 404 as an HTTP status", "[sumdb][goproxy]") {
    ServingTransport net;
    net.serve("https://p.example/sumdb/sum.golang.org/tile/8/0/001", "tile");
    TransportSumdbFetcher f(net, "https://p.example/sumdb/sum.golang.org/");
    CHECK(f.get("tile/8/0/001") == "tile");
    net.serve("https://p.example/sumdb/sum.golang.org/tile/8/0/002.p/5", "", 404);
    auto missing = f.get("tile/8/0/002.p/5");
    REQUIRE_FALSE(missing);
    REQUIRE(missing.error().net());
    CHECK(missing.error().net()->http_status == 404);
}
