#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <string>

#include "../fakes/fake_clock.hpp"
#include "../fakes/fake_transport.hpp"
#include "../fakes/recording_events.hpp"
#include "../fakes/temp_dir.hpp"
#include "goinstall/release/index_source.hpp"

using namespace goinstall;
using namespace goinstall::test;
using namespace std::chrono_literals;

namespace {

const std::string k_url = "https://go.example/dl/?mode=json&include=all";
const std::string k_etag = "\"idx-1\"";
const std::string k_last_modified = "Sun, 31 Dec 2023 12:00:00 GMT";

std::string index_json(const std::string& version = "go1.21.3") {
    return R"([{"version":")" + version + R"(","stable":true,"files":[{"filename":")" + version +
           R"(.linux-amd64.tar.gz","os":"linux","arch":"amd64","version":")" + version + R"(","sha256":")" +
           std::string(64, 'a') + R"(","size":123,"kind":"archive"}]}])";
}

struct Rig {
    TempDir tmp;
    FakeTransport net;
    FakeClock clock;
    RecordingEvents events;
    IndexOptions options;

    Rig() {
        options.url = k_url;
        options.cache_dir = tmp / "cache";
    }
    Result<IndexResult> load(const CancelToken* cancel = nullptr) {
        return load_index(net, clock, events, options, cancel);
    }
    // A first, successful fetch that fills the cache.
    void warm_cache() {
        net.script(k_url, Scripted::ok(index_json(), {{"etag", k_etag}, {"last-modified", k_last_modified}}));
        auto r = load();
        REQUIRE(r.has_value());
        REQUIRE_FALSE(r->from_cache);
    }
    std::string header(std::size_t request, const std::string& name) const {
        const auto& h = net.requests().at(request).headers;
        auto it = std::find_if(h.begin(), h.end(), [&](const auto& kv) { return kv.first == name; });
        return it == h.end() ? "" : it->second;
    }
};

std::string version_of(const IndexResult& r) {
    REQUIRE(r.index.releases.size() == 1);
    return r.index.releases[0].version.text;
}

} // namespace

TEST_CASE("load_index fetches over https and writes the cache", "[release][index_source]") {
    Rig rig;
    rig.warm_cache();
    REQUIRE(rig.net.requests().size() == 1);
    const auto& req = rig.net.requests()[0];
    CHECK(req.url == k_url);
    CHECK(req.secure_only);
    CHECK(req.allow_compression);
    CHECK(req.limits.total_timeout == 120s);
    CHECK(req.limits.max_body_bytes > 0);
    CHECK(req.headers.empty());
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(rig.options.cache_dir)) {
        names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    REQUIRE(names.size() == 2);
    CHECK(names[0].ends_with(".json"));
    CHECK(names[1].ends_with(".meta"));
    CHECK(read_text(rig.options.cache_dir / names[0]) == index_json());
    CHECK(rig.events.has(EventKind::index_source, k_url));
}

TEST_CASE("load_index revalidates the cache and uses it on 304", "[release][index_source]") {
    Rig rig;
    rig.warm_cache();
    rig.clock.advance(std::chrono::hours(5));
    rig.net.script(k_url, Scripted::with_status(304));
    auto r = rig.load();
    REQUIRE(r.has_value());
    CHECK(r->from_cache);
    CHECK(r->cache_age == 0s);
    CHECK(version_of(*r) == "go1.21.3");
    REQUIRE(rig.net.requests().size() == 2);
    CHECK(rig.header(1, "If-None-Match") == k_etag);
    CHECK(rig.header(1, "If-Modified-Since") == k_last_modified);
    CHECK(rig.events.has(EventKind::index_source, "not modified"));
    CHECK(rig.events.count(EventKind::warning) == 0);

    // The 304 refreshed the copy's age: a failure an hour later reports 1 hour, not 6.
    rig.clock.advance(std::chrono::hours(1));
    rig.net.script(k_url, Scripted::failure(net_error(NetPhase::resolve, 6, k_url)));
    auto later = rig.load();
    REQUIRE(later.has_value());
    CHECK(later->cache_age == 3600s);
}

TEST_CASE("load_index replaces the cache when the index changed", "[release][index_source]") {
    Rig rig;
    rig.warm_cache();
    rig.net.script(k_url, Scripted::ok(index_json("go1.22.0"), {{"etag", "\"idx-2\""}}));
    auto r = rig.load();
    REQUIRE(r.has_value());
    CHECK_FALSE(r->from_cache);
    CHECK(version_of(*r) == "go1.22.0");
    rig.options.offline = true;
    auto offline = rig.load();
    REQUIRE(offline.has_value());
    CHECK(version_of(*offline) == "go1.22.0");
}

TEST_CASE("a failing fetch falls back to the cache with a warning giving its age", "[release][index_source]") {
    struct Row {
        const char* what;
        Scripted response;
        const char* reason;
    };
    auto row = GENERATE(
        Row{"network error", Scripted::failure(net_error(NetPhase::connect, 7, k_url)), "curl 7"},
        Row{"HTTP 500", Scripted::with_status(500, {}, "oops"), "HTTP 500"},
        Row{"HTML instead of JSON", Scripted::ok("<!doctype html><html>captive portal</html>"), "release index from"},
        Row{"truncated JSON", Scripted::ok(index_json().substr(0, 40)), "release index from"});
    INFO(row.what);
    Rig rig;
    rig.warm_cache();
    rig.clock.advance(std::chrono::hours(3));
    rig.net.script(k_url, row.response);
    auto r = rig.load();
    REQUIRE(r.has_value());
    CHECK(r->from_cache);
    CHECK(r->cache_age == 10800s);
    CHECK(version_of(*r) == "go1.21.3");
    const Event* warning = rig.events.first(EventKind::warning);
    REQUIRE(warning != nullptr);
    INFO(warning->message);
    CHECK(warning->message.find("3 h ago") != std::string::npos);
    CHECK(warning->message.find(row.reason) != std::string::npos);
}

TEST_CASE("a failing fetch without a cache is an error naming the URL", "[release][index_source]") {
    struct Row {
        const char* what;
        Scripted response;
        ErrorCode code;
    };
    auto row =
        GENERATE(Row{"network error", Scripted::failure(net_error(NetPhase::connect, 7, k_url)), ErrorCode::network},
                 Row{"HTTP 404", Scripted::with_status(404), ErrorCode::network},
                 Row{"HTML instead of JSON", Scripted::ok("<html>hello</html>"), ErrorCode::index_invalid},
                 Row{"TLS", Scripted::failure(net_error(NetPhase::tls, 60, k_url, ErrorCode::tls)), ErrorCode::tls});
    INFO(row.what);
    Rig rig;
    rig.net.script(k_url, row.response);
    auto r = rig.load();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == row.code);
    INFO(r.error().describe());
    CHECK(r.error().describe().find(k_url) != std::string::npos);
    CHECK(r.error().describe().find("fetching the release index") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(rig.options.cache_dir)); // nothing cached from a failure
}

TEST_CASE("a corrupt cache does not hide the fetch error", "[release][index_source]") {
    Rig rig;
    rig.warm_cache();
    for (const auto& e : std::filesystem::directory_iterator(rig.options.cache_dir)) {
        if (e.path().extension() == ".json") write_text(e.path(), "garbage");
    }
    rig.net.script(k_url, Scripted::failure(net_error(NetPhase::resolve, 6, k_url)));
    auto r = rig.load();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::network);
    CHECK(r.error().message().find("resolve") != std::string::npos);
}

TEST_CASE("a cancelled fetch is not hidden by the cache", "[release][index_source]") {
    Rig rig;
    rig.warm_cache();
    CancelToken cancel;
    cancel.cancel();
    auto r = rig.load(&cancel);
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::cancelled);
}

TEST_CASE("a plain-http index URL needs allow_insecure", "[release][index_source]") {
    Rig rig;
    rig.options.url = "http://go.example/dl/?mode=json";
    auto refused = rig.load();
    REQUIRE_FALSE(refused.has_value());
    CHECK(refused.error().code() == ErrorCode::usage);
    CHECK(rig.net.requests().empty());

    rig.options.allow_insecure = true;
    rig.net.script(rig.options.url, Scripted::ok(index_json()));
    auto r = rig.load();
    REQUIRE(r.has_value());
    REQUIRE(rig.net.requests().size() == 1);
    CHECK_FALSE(rig.net.requests()[0].secure_only);
    CHECK(rig.events.has(EventKind::warning, "plain HTTP"));
}

TEST_CASE("unsupported or malformed index URLs are usage errors", "[release][index_source]") {
    Rig rig;
    rig.options.url = GENERATE(as<std::string>{}, "ftp://go.example/index.json", "https://");
    INFO(rig.options.url);
    auto r = rig.load();
    REQUIRE_FALSE(r.has_value());
    CHECK(r.error().code() == ErrorCode::usage);
    CHECK(rig.net.requests().empty());
}

TEST_CASE("offline mode uses the cache only", "[release][index_source]") {
    Rig rig;
    rig.options.offline = true;
    auto none = rig.load();
    REQUIRE_FALSE(none.has_value());
    CHECK(none.error().message().find("--offline") != std::string::npos);
    CHECK(none.error().message().find(k_url) != std::string::npos);

    rig.options.offline = false;
    rig.warm_cache();
    rig.options.offline = true;
    rig.clock.advance(std::chrono::minutes(10));
    auto r = rig.load();
    REQUIRE(r.has_value());
    CHECK(r->from_cache);
    CHECK(r->cache_age == 600s);
    CHECK(rig.net.requests().size() == 1); // only warm_cache's
    CHECK(rig.events.count(EventKind::warning) == 0);
    CHECK(rig.events.has(EventKind::index_source, "10 min ago"));
}

TEST_CASE("without a cache dir nothing is cached", "[release][index_source]") {
    Rig rig;
    rig.options.cache_dir.clear();
    rig.net.script(k_url, Scripted::ok(index_json(), {{"etag", k_etag}}));
    REQUIRE(rig.load().has_value());
    rig.net.script(k_url, Scripted::failure(net_error(NetPhase::connect, 7, k_url)));
    CHECK_FALSE(rig.load().has_value());
    CHECK(rig.net.requests()[1].headers.empty());
}

TEST_CASE("each index URL has its own cache", "[release][index_source]") {
    Rig rig;
    rig.warm_cache();
    rig.options.url = "https://mirror.example/golang/?mode=json";
    rig.net.script(rig.options.url, Scripted::failure(net_error(NetPhase::connect, 7, rig.options.url)));
    auto r = rig.load();
    REQUIRE_FALSE(r.has_value());
    CHECK(rig.net.requests().back().headers.empty());
}

TEST_CASE("a local path or file:// URL is read without the transport", "[release][index_source]") {
    const bool file_scheme = GENERATE(false, true);
    Rig rig;
    write_text(rig.tmp / "index.json", index_json("go1.20.1"));
    const auto path = (rig.tmp / "index.json").string();
    rig.options.url = file_scheme ? "file://" + path : path;
    INFO(rig.options.url);
    auto r = rig.load();
    REQUIRE(r.has_value());
    CHECK(version_of(*r) == "go1.20.1");
    CHECK_FALSE(r->from_cache);
    CHECK(r->source == path);
    CHECK(rig.net.requests().empty());
    CHECK_FALSE(std::filesystem::exists(rig.options.cache_dir));
}

TEST_CASE("a missing or invalid local index is an error", "[release][index_source]") {
    Rig rig;
    rig.options.url = (rig.tmp / "missing.json").string();
    auto missing = rig.load();
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code() == ErrorCode::filesystem);
    CHECK(missing.error().describe().find("missing.json") != std::string::npos);

    write_text(rig.tmp / "bad.json", "{\"not\": \"an array\"}");
    rig.options.url = "file://" + (rig.tmp / "bad.json").string();
    auto bad = rig.load();
    REQUIRE_FALSE(bad.has_value());
    CHECK(bad.error().code() == ErrorCode::index_invalid);
    CHECK(rig.net.requests().empty());
}

TEST_CASE("describe_age", "[release][index_source]") {
    struct Row {
        std::int64_t seconds;
        const char* text;
    };
    auto row = GENERATE(Row{0, "0 s"}, Row{119, "119 s"}, Row{120, "2 min"}, Row{7199, "119 min"}, Row{7200, "2 h"},
                        Row{172799, "47 h"}, Row{172800, "2 days"}, Row{864000, "10 days"});
    CHECK(describe_age(std::chrono::seconds(row.seconds)) == row.text);
}

TEST_CASE("cached_index_files lists the cached copies, the preferred URL's first", "[release][index_source]") {
    Rig rig;
    rig.warm_cache(); // the copy of k_url
    const auto dir = rig.options.cache_dir;
    write_text(dir / "index-0123456789abcdef.json", index_json("go1.22.0"));
    write_text(dir / "index-0123456789abcdef.meta", "");
    write_text(dir / "notes.json", "{}");
    auto files = cached_index_files(dir, k_url);
    REQUIRE(files.size() == 2);
    auto first = read_index_file(files[0], files[0].string());
    REQUIRE(first);
    CHECK(first->releases.at(0).version.text == "go1.21.3");
    CHECK(files[1] == dir / "index-0123456789abcdef.json");
    CHECK(cached_index_files(dir, "").size() == 2);
    CHECK(cached_index_files(rig.tmp / "none", "").empty());
}

TEST_CASE("read_index_file: a bounded read, then parse_index", "[release][index_source]") {
    TempDir tmp;
    write_text(tmp / "bad.json", "{");
    auto bad = read_index_file(tmp / "bad.json", "the mirror's index");
    REQUIRE_FALSE(bad);
    CHECK(bad.error().code() == ErrorCode::index_invalid);
    CHECK_THAT(bad.error().message(), Catch::Contains("the mirror's index"));
    CHECK_FALSE(read_index_file(tmp / "missing.json", "x"));
}
