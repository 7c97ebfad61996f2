#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "goinstall/download/catalog.hpp"

using namespace goinstall;

namespace {

constexpr std::string_view k_source = "/home/u/.config/goinstall/mirrors.json";

Result<Catalog> apply(std::string_view json) { return apply_user_catalog(builtin_catalog(), json, k_source); }

std::vector<std::string> names(const Catalog& c) {
    std::vector<std::string> out;
    for (const auto& e : c.entries) out.push_back(e.name);
    return out;
}

std::vector<std::string> names(const MirrorPlan& p) {
    std::vector<std::string> out;
    for (const auto& m : p.mirrors) out.push_back(m.name);
    return out;
}

std::size_t count_named(const MirrorPlan& p, std::string_view name) {
    return static_cast<std::size_t>(
        std::count_if(p.mirrors.begin(), p.mirrors.end(), [&](const Mirror& m) { return m.name == name; }));
}

bool contains(const std::string& haystack, std::string_view needle) {
    return haystack.find(needle) != std::string::npos;
}

const std::vector<std::string> k_healthy_builtins = {"official", "google-cn", "aliyun", "huaweicloud",
                                                     "tencent",  "nju",       "hust"};

} // namespace

// ---------------------------------------------------------------------------------------------
// The built-in catalogue (data/mirrors.json, compiled in)

TEST_CASE("the built-in catalogue parses and is well formed", "[download][catalog]") {
    auto c = builtin_catalog();
    REQUIRE(c.entries.size() == 9);

    std::set<std::string> seen;
    for (const auto& e : c.entries) {
        INFO("entry " << e.name);
        CHECK(seen.insert(e.name).second); // unique names
        CHECK(e.builtin);
        CHECK(e.url.starts_with("https://"));
        CHECK(e.url.ends_with("/"));
        CHECK_FALSE(e.checked.empty());
        if (e.status != MirrorStatus::ok) CHECK_FALSE(e.note.empty());
        CHECK(c.find(e.name) == &e);
    }
    CHECK(c.find("nope") == nullptr);
    CHECK(c.entries.front().name == "official");
}

TEST_CASE("built-in entries carry the statuses of docs/field-notes.md#mirrors", "[download][catalog]") {
    struct Row {
        const char* name;
        const char* url;
        MirrorStatus status;
        bool healthy;
    };
    auto row = GENERATE(values<Row>({
        {"official", "https://dl.google.com/go/", MirrorStatus::ok, true},
        {"google-cn", "https://golang.google.cn/dl/", MirrorStatus::ok, true},
        {"aliyun", "https://mirrors.aliyun.com/golang/", MirrorStatus::ok, true},
        {"huaweicloud", "https://repo.huaweicloud.com/golang/", MirrorStatus::unverified, true},
        {"tencent", "https://mirrors.cloud.tencent.com/golang/", MirrorStatus::unverified, true},
        {"nju", "https://mirrors.nju.edu.cn/golang/", MirrorStatus::stale, true},
        {"hust", "https://mirrors.hust.edu.cn/golang/", MirrorStatus::stale, true},
        {"tuna", "https://mirrors.tuna.tsinghua.edu.cn/golang/", MirrorStatus::missing, false},
        {"ustc", "https://mirrors.ustc.edu.cn/golang/", MirrorStatus::retired, false},
    }));
    INFO(row.name);
    auto c = builtin_catalog();
    const auto* e = c.find(row.name);
    REQUIRE(e != nullptr);
    CHECK(e->url == row.url);
    CHECK(e->status == row.status);
    CHECK(e->healthy() == row.healthy);
}

TEST_CASE("official and google-cn serve the release index", "[download][catalog]") {
    auto c = builtin_catalog();
    const auto* official = c.find("official");
    const auto* cn = c.find("google-cn");
    REQUIRE(official != nullptr);
    REQUIRE(cn != nullptr);
    CHECK(official->index_url.starts_with("https://go.dev/dl/"));
    CHECK(cn->index_url.starts_with("https://golang.google.cn/dl/"));
    for (const auto& e : c.entries) {
        if (e.name != "official" && e.name != "google-cn") CHECK(e.index_url.empty());
    }
    CHECK(index_sources(c) == std::vector<std::string>{official->index_url, cn->index_url});
}

TEST_CASE("index_sources skips entries that are not healthy", "[download][catalog]") {
    auto c = apply(R"({"mirrors": [{"name": "official", "enabled": false}]})");
    REQUIRE(c);
    CHECK(index_sources(*c) == std::vector<std::string>{c->find("google-cn")->index_url});
}

TEST_CASE("MirrorStatus names", "[download][catalog]") {
    // clang-format off
    auto [status, name] = GENERATE(table<MirrorStatus, std::string>({
        {MirrorStatus::ok, "ok"},
        {MirrorStatus::unverified, "unverified"},
        {MirrorStatus::stale, "stale"},
        {MirrorStatus::missing, "missing"},
        {MirrorStatus::retired, "retired"},
        {MirrorStatus::disabled, "disabled"},
    }));
    // clang-format on
    CHECK(to_string(status) == name);
}

// ---------------------------------------------------------------------------------------------
// apply_user_catalog

TEST_CASE("a user entry overrides a built-in by name", "[download][catalog]") {
    auto c = apply(R"({"mirrors": [{"name": "aliyun", "url": "https://mirror.example.com/go/", "status": "stale",
                                     "note": "our proxy"}]})");
    REQUIRE(c);
    auto builtin = builtin_catalog();
    REQUIRE(names(*c) == names(builtin)); // same order, nothing added
    const auto* e = c->find("aliyun");
    REQUIRE(e != nullptr);
    CHECK(e->url == "https://mirror.example.com/go/");
    CHECK(e->status == MirrorStatus::stale);
    CHECK(e->note == "our proxy");
    CHECK(e->region == "cn"); // fields not given are kept
    CHECK(e->checked == builtin.find("aliyun")->checked);
    CHECK(e->builtin);
    for (const auto& other : c->entries) {
        if (other.name == "aliyun") continue;
        const auto* b = builtin.find(other.name);
        INFO(other.name);
        CHECK(other.url == b->url);
        CHECK(other.status == b->status);
        CHECK(other.note == b->note);
    }
}

TEST_CASE("a user entry with a new name is appended", "[download][catalog]") {
    auto c = apply(R"({"mirrors": [{"name": "corp", "url": "https://go.corp.example/dist/", "region": "eu",
                                     "serves": ["archives"]}]})");
    REQUIRE(c);
    REQUIRE(c->entries.size() == 10);
    const auto& e = c->entries.back();
    CHECK(e.name == "corp");
    CHECK(e.url == "https://go.corp.example/dist/");
    CHECK(e.region == "eu");
    CHECK(e.serves == std::vector<std::string>{"archives"});
    CHECK(e.status == MirrorStatus::ok); // default for user entries
    CHECK(e.healthy());
    CHECK_FALSE(e.builtin);
    CHECK(e.index_url.empty());
}

TEST_CASE("a new user entry may serve the index and comes after the built-in ones", "[download][catalog]") {
    auto c = apply(R"({"mirrors": [{"name": "corp", "url": "file:///srv/go/",
                                     "index": "http://go.corp.example/dl/?mode=json"}]})");
    REQUIRE(c);
    auto sources = index_sources(*c);
    REQUIRE(sources.size() == 3);
    CHECK(sources.back() == "http://go.corp.example/dl/?mode=json");
}

TEST_CASE("enabled false disables an entry, enabled true re-enables it", "[download][catalog]") {
    auto off = apply(R"({"mirrors": [{"name": "aliyun", "enabled": false}]})");
    REQUIRE(off);
    const auto* e = off->find("aliyun");
    REQUIRE(e != nullptr);
    CHECK(e->status == MirrorStatus::disabled);
    CHECK_FALSE(e->healthy());
    CHECK(off->entries.size() == 9);

    auto on = apply_user_catalog(*off, R"({"mirrors": [{"name": "aliyun", "enabled": true}]})", k_source);
    REQUIRE(on);
    CHECK(on->find("aliyun")->status == MirrorStatus::ok);
    CHECK(on->find("aliyun")->healthy());

    SECTION("enabled true leaves a non-disabled status alone") {
        auto c = apply(R"({"mirrors": [{"name": "tuna", "enabled": true}]})");
        REQUIRE(c);
        CHECK(c->find("tuna")->status == MirrorStatus::missing);
    }
    SECTION("enabled false wins over a status in the same entry, whatever the key order") {
        auto c = apply(R"({"mirrors": [{"name": "aliyun", "enabled": false, "status": "ok"},
                                       {"status": "stale", "name": "corp", "url": "https://c.example/", "enabled": false}]})");
        REQUIRE(c);
        CHECK(c->find("aliyun")->status == MirrorStatus::disabled);
        CHECK(c->find("corp")->status == MirrorStatus::disabled);
    }
}

TEST_CASE("builtin false drops the built-ins the file does not name", "[download][catalog]") {
    SECTION("only user entries") {
        auto c = apply(R"({"builtin": false, "mirrors": [{"name": "corp", "url": "https://go.corp.example/"}]})");
        REQUIRE(c);
        CHECK(names(*c) == std::vector<std::string>{"corp"});
        CHECK(index_sources(*c).empty());
    }
    SECTION("a named built-in is kept, with its own fields and any override") {
        auto c = apply(R"({"builtin": false, "mirrors": [{"name": "official"},
                                                         {"name": "aliyun", "status": "stale"},
                                                         {"name": "corp", "url": "https://go.corp.example/"}]})");
        REQUIRE(c);
        CHECK(names(*c) == std::vector<std::string>{"official", "aliyun", "corp"});
        const auto* official = c->find("official");
        CHECK(official->url == "https://dl.google.com/go/");
        CHECK(official->status == MirrorStatus::ok);
        CHECK_FALSE(official->index_url.empty());
        CHECK(c->find("aliyun")->url == "https://mirrors.aliyun.com/golang/");
        CHECK(c->find("aliyun")->status == MirrorStatus::stale);
    }
    SECTION("no mirrors key at all leaves an empty catalogue") {
        auto c = apply(R"({"builtin": false})");
        REQUIRE(c);
        CHECK(c->entries.empty());
    }
    SECTION("builtin true keeps everything") {
        auto c = apply(R"({"builtin": true})");
        REQUIRE(c);
        CHECK(c->entries.size() == 9);
    }
}

TEST_CASE("an empty user file object changes nothing", "[download][catalog]") {
    auto c = apply(R"({"schema": 1, "about": "mine", "mirrors": []})");
    REQUIRE(c);
    CHECK(names(*c) == names(builtin_catalog()));
}

TEST_CASE("bad user catalogues are usage errors naming the source and the key", "[download][catalog]") {
    struct Row {
        const char* what;
        const char* json;
        const char* mentions; // besides the source
    };
    auto row = GENERATE(values<Row>({
        {"not JSON", R"({"mirrors": [)", "JSON"},
        {"empty text", "", "JSON"},
        {"top-level array", R"([{"name": "x", "url": "https://x/"}])", "JSON object"},
        {"top-level string", R"("mirrors")", "JSON object"},
        {"unknown top-level key", R"({"mirors": []})", "mirors"},
        {"builtin not a bool", R"({"builtin": "no"})", "builtin"},
        {"mirrors not a list", R"({"mirrors": {"name": "x"}})", "mirrors"},
        {"unknown entry key", R"({"mirrors": [{"name": "aliyun", "colour": "red"}]})", "colour"},
        {"entry without name", R"({"mirrors": [{"url": "https://x.example/"}]})", "mirrors[0]"},
        {"entry with empty name", R"({"mirrors": [{"name": "", "url": "https://x.example/"}]})", "name"},
        {"entry name not a string", R"({"mirrors": [{"name": 7, "url": "https://x.example/"}]})", "name"},
        {"entry not an object", R"({"mirrors": ["aliyun"]})", "mirrors[0]"},
        {"second entry without name", R"({"mirrors": [{"name": "aliyun"}, {}]})", "mirrors[1]"},
        {"new entry without url", R"({"mirrors": [{"name": "corp", "region": "eu"}]})", "url"},
        {"ftp url", R"({"mirrors": [{"name": "corp", "url": "ftp://ftp.example/go/"}]})", "url"},
        {"url not a URL", R"({"mirrors": [{"name": "aliyun", "url": "mirrors.example/go/"}]})", "url"},
        {"bad index url", R"({"mirrors": [{"name": "aliyun", "index": "gopher://x/"}]})", "index"},
        {"bad status value", R"({"mirrors": [{"name": "aliyun", "status": "great"}]})", "great"},
        {"status not a string", R"({"mirrors": [{"name": "aliyun", "status": 1}]})", "status"},
        {"enabled as string", R"({"mirrors": [{"name": "aliyun", "enabled": "false"}]})", "enabled"},
        {"serves not a list", R"({"mirrors": [{"name": "aliyun", "serves": "archives"}]})", "serves"},
        {"serves lists a number", R"({"mirrors": [{"name": "aliyun", "serves": [1]}]})", "serves"},
        {"url not a string", R"({"mirrors": [{"name": "aliyun", "url": 42}]})", "url"},
        {"note not a string", R"({"mirrors": [{"name": "aliyun", "note": null}]})", "note"},
    }));
    INFO(row.what);
    auto c = apply(row.json);
    REQUIRE_FALSE(c);
    CHECK(c.error().code() == ErrorCode::usage);
    const auto& msg = c.error().message();
    INFO(msg);
    CHECK(contains(msg, k_source));
    CHECK(contains(msg, row.mentions));
}

TEST_CASE("an entry error names the mirror", "[download][catalog]") {
    auto c = apply(R"({"mirrors": [{"name": "aliyun", "status": "great"}]})");
    REQUIRE_FALSE(c);
    CHECK(contains(c.error().message(), "aliyun"));
}

TEST_CASE("an error leaves no half-applied catalogue behind", "[download][catalog]") {
    // The function takes the base by value and returns an error, so the caller's copy is untouched.
    auto base = builtin_catalog();
    auto c =
        apply_user_catalog(base, R"({"mirrors": [{"name": "aliyun", "enabled": false}, {"name": "x"}]})", k_source);
    REQUIRE_FALSE(c);
    CHECK(base.find("aliyun")->status == MirrorStatus::ok);
}

TEST_CASE("credentials in a rejected URL are redacted", "[download][catalog]") {
    auto json = GENERATE(as<std::string>{}, R"({"mirrors": [{"name": "corp", "url": "ftp://u:secret@h.example/go/"}]})",
                         R"({"mirrors": [{"name": "aliyun", "url": "https://u:secret@h.example:99999/"}]})",
                         R"({"mirrors": [{"name": "aliyun", "index": "ftp://u:secret@h.example/?mode=json"}]})");
    INFO(json);
    auto c = apply(json);
    REQUIRE_FALSE(c);
    CHECK(c.error().code() == ErrorCode::usage);
    INFO(c.error().message());
    CHECK_FALSE(contains(c.error().message(), "secret"));
    CHECK(contains(c.error().message(), "h.example"));
}

TEST_CASE("a user URL with credentials is accepted as given", "[download][catalog]") {
    auto c = apply(R"({"mirrors": [{"name": "corp", "url": "https://u:secret@h.example/go/"}]})");
    REQUIRE(c);
    CHECK(c->find("corp")->url == "https://u:secret@h.example/go/");
}

// ---------------------------------------------------------------------------------------------
// plan_mirrors

TEST_CASE("no preference: the healthy entries in catalogue order", "[download][catalog]") {
    auto no_fallback = GENERATE(false, true); // no_fallback means nothing without a preference
    auto c = builtin_catalog();
    auto plan = plan_mirrors(c, {}, no_fallback);
    REQUIRE(plan);
    CHECK(names(*plan) == k_healthy_builtins);
    CHECK(plan->notes.empty());
    for (const auto& m : plan->mirrors) CHECK(m.base_url == c.find(m.name)->url);
}

TEST_CASE("preferred names come first, then the healthy fallbacks", "[download][catalog]") {
    struct Row {
        std::vector<std::string> preferred;
        bool no_fallback;
        std::vector<std::string> expected;
        std::size_t notes;
    };
    auto with = [](std::vector<std::string> head) {
        for (const auto& n : k_healthy_builtins) {
            if (std::find(head.begin(), head.end(), n) == head.end()) head.push_back(n);
        }
        return head;
    };
    auto row = GENERATE_COPY(values<Row>({
        {{"tuna"}, false, with({"tuna"}), 1},
        {{"tuna"}, true, {"tuna"}, 1},
        {{"ustc", "tuna"}, true, {"ustc", "tuna"}, 2},
        {{"aliyun"}, false, with({"aliyun"}), 0},
        {{"aliyun"}, true, {"aliyun"}, 0},
        {{"aliyun", "official"}, false, with({"aliyun", "official"}), 0},
        {{"aliyun", "official"}, true, {"aliyun", "official"}, 0},
        {{"hust", "google-cn"}, false, with({"hust", "google-cn"}), 0},
        {{"aliyun", "aliyun"}, true, {"aliyun"}, 0},
    }));
    auto plan = plan_mirrors(builtin_catalog(), row.preferred, row.no_fallback);
    REQUIRE(plan);
    CHECK(names(*plan) == row.expected);
    CHECK(plan->notes.size() == row.notes);
}

TEST_CASE("preferring an unhealthy mirror keeps it and explains why", "[download][catalog]") {
    auto c = builtin_catalog();
    auto plan = plan_mirrors(c, {"tuna"}, false);
    REQUIRE(plan);
    REQUIRE(plan->mirrors.front().name == "tuna");
    CHECK(plan->mirrors.front().base_url == c.find("tuna")->url);
    CHECK(count_named(*plan, "ustc") == 0);
    REQUIRE(plan->notes.size() == 1);
    const auto& note = plan->notes.front();
    CHECK(note.starts_with("tuna: "));
    CHECK(contains(note, c.find("tuna")->note));
    CHECK(contains(note, c.find("tuna")->checked));
}

TEST_CASE("a disabled mirror is kept when asked for by name", "[download][catalog]") {
    auto c = apply(R"({"mirrors": [{"name": "aliyun", "enabled": false, "note": ""}]})");
    REQUIRE(c);
    auto plan = plan_mirrors(*c, {"aliyun"}, true);
    REQUIRE(plan);
    CHECK(names(*plan) == std::vector<std::string>{"aliyun"});
    REQUIRE(plan->notes.size() == 1);
    CHECK(contains(plan->notes.front(), "disabled")); // no note: the status is shown

    auto fallback = plan_mirrors(*c, {}, false);
    REQUIRE(fallback);
    CHECK(count_named(*fallback, "aliyun") == 0);
}

TEST_CASE("a URL preference becomes an ad-hoc mirror", "[download][catalog]") {
    struct Row {
        std::string url;
        std::string name;
    };
    auto row = GENERATE(values<Row>({
        {"https://go.corp.example/dist/", "https://go.corp.example/dist/"},
        {"http://127.0.0.1:8080/go/", "http://127.0.0.1:8080/go/"},
        {"file:///srv/go/", "file:///srv/go/"},
        {"https://u:secret@go.corp.example/dist/", "https://u:***@go.corp.example/dist/"},
    }));
    INFO(row.url);
    auto plan = plan_mirrors(builtin_catalog(), {row.url}, true);
    REQUIRE(plan);
    REQUIRE(plan->mirrors.size() == 1);
    CHECK(plan->mirrors[0].name == row.name);
    CHECK_FALSE(contains(plan->mirrors[0].name, "secret"));
    CHECK(plan->mirrors[0].base_url == row.url);
    CHECK(plan->notes.empty());

    auto with_fallback = plan_mirrors(builtin_catalog(), {row.url}, false);
    REQUIRE(with_fallback);
    REQUIRE(with_fallback->mirrors.size() == 1 + k_healthy_builtins.size());
    CHECK(with_fallback->mirrors[0].base_url == row.url);
}

TEST_CASE("duplicate mirrors are removed, first occurrence wins", "[download][catalog]") {
    SECTION("official by name, then its URL") {
        auto plan = plan_mirrors(builtin_catalog(), {"official", "https://dl.google.com/go/"}, true);
        REQUIRE(plan);
        CHECK(names(*plan) == std::vector<std::string>{"official"});
    }
    SECTION("official's URL, then official by name and as fallback") {
        auto plan = plan_mirrors(builtin_catalog(), {"https://dl.google.com/go/", "official"}, false);
        REQUIRE(plan);
        REQUIRE(plan->mirrors.size() == k_healthy_builtins.size());
        CHECK(plan->mirrors[0].name == "https://dl.google.com/go/");
        CHECK(count_named(*plan, "official") == 0);
    }
    SECTION("the same URL twice") {
        auto plan = plan_mirrors(builtin_catalog(), {"file:///srv/go/", "file:///srv/go/"}, true);
        REQUIRE(plan);
        CHECK(plan->mirrors.size() == 1);
    }
}

TEST_CASE("an unknown mirror name is a usage error listing the known ones", "[download][catalog]") {
    auto no_fallback = GENERATE(false, true);
    auto plan = plan_mirrors(builtin_catalog(), {"aliyun", "tsinghua"}, no_fallback);
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code() == ErrorCode::usage);
    const auto& msg = plan.error().message();
    INFO(msg);
    CHECK(contains(msg, "tsinghua"));
    for (const auto& e : builtin_catalog().entries) CHECK(contains(msg, e.name));
}

TEST_CASE("a preferred URL with a bad scheme is a usage error", "[download][catalog]") {
    auto url = GENERATE(as<std::string>{}, "ftp://h.example/go/", "gopher://h.example/", "ftp://u:secret@h.example/go/",
                        "https://u:secret@h.example:0/");
    INFO(url);
    auto plan = plan_mirrors(builtin_catalog(), {url}, false);
    REQUIRE_FALSE(plan);
    CHECK(plan.error().code() == ErrorCode::usage);
    INFO(plan.error().message());
    CHECK(contains(plan.error().message(), "h.example"));
    CHECK_FALSE(contains(plan.error().message(), "secret"));
}

TEST_CASE("nothing to download from is a usage error", "[download][catalog]") {
    SECTION("every entry disabled, no preference") {
        std::string json = R"({"mirrors": [)";
        for (const auto& e : builtin_catalog().entries) {
            json += (json.back() == '[' ? "" : ",") + std::string(R"({"name": ")") + e.name + R"(", "enabled": false})";
        }
        json += "]}";
        auto c = apply(json);
        REQUIRE(c);
        auto plan = plan_mirrors(*c, {}, false);
        REQUIRE_FALSE(plan);
        CHECK(plan.error().code() == ErrorCode::usage);
        CHECK(contains(plan.error().message(), "--mirror"));
    }
    SECTION("an empty catalogue") {
        auto plan = plan_mirrors(Catalog{}, {}, false);
        REQUIRE_FALSE(plan);
        CHECK(plan.error().code() == ErrorCode::usage);
    }
    SECTION("an empty catalogue still takes a URL") {
        auto plan = plan_mirrors(Catalog{}, {"https://go.corp.example/"}, false);
        REQUIRE(plan);
        CHECK(plan->mirrors.size() == 1);
    }
}
