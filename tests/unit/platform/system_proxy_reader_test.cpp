// The system-proxy readers with scripted commands and temp files, the per-host lookup order, the
// real command runner, and one test against the real gsettings (keyfile backend, skipped when absent).

#include <catch2/catch.hpp>

#include <chrono>

#include "system_proxy_test_util.hpp"

using namespace goinstall;
using goinstall::test::describe;
using goinstall::test::fixture;
using goinstall::test::proxy;
using goinstall::test::ScriptedRunner;
using goinstall::test::TempDir;
using goinstall::test::write_text;
using Mode = SystemProxy::Mode;

namespace {

const std::string k_list = "gsettings list-recursively org.gnome.system.proxy";

ScriptedRunner gnome_says(const std::string& fixture_name) {
    return ScriptedRunner{{{k_list, fixture(fixture_name)}, {"gsettings --version", "2.74.6\n"}}, {}};
}

} // namespace

TEST_CASE("query_gnome runs gsettings once and explains failures", "[platform][sysproxy]") {
    auto manual = gnome_says("gsettings-manual.txt");
    auto p = read_gnome(manual.runner());
    REQUIRE(p);
    CHECK(p->https_proxy == "secure-proxy.corp.example:3128");
    CHECK(manual.calls == std::vector<std::string>{k_list});

    auto none = gnome_says("gsettings-none.txt");
    CHECK(query_gnome(none.runner()).error() == "mode is none");

    ScriptedRunner no_schema{{{"gsettings --version", "2.74.6\n"}}, {}};
    CHECK(query_gnome(no_schema.runner()).error() == "schema org.gnome.system.proxy not installed");

    ScriptedRunner nothing;
    CHECK(query_gnome(nothing.runner()).error() == "gsettings not installed");
    CHECK_FALSE(read_gnome(nothing.runner()));
}

TEST_CASE("read_kde finds kioslaverc through XDG_CONFIG_HOME, else HOME", "[platform][sysproxy]") {
    TempDir dir;
    write_text(dir / "xdg/kioslaverc", fixture("kioslaverc-manual"));
    write_text(dir / "home/.config/kioslaverc", fixture("kioslaverc-pac"));
    const std::string xdg = (dir / "xdg").string();
    const std::string home = (dir / "home").string();

    auto from_xdg = read_kde(MapEnv({{"XDG_CONFIG_HOME", xdg}, {"HOME", home}}));
    REQUIRE(from_xdg);
    CHECK(from_xdg->mode == Mode::manual);
    CHECK(from_xdg->source == "KDE (" + xdg + "/kioslaverc)");

    auto from_home = read_kde(MapEnv({{"HOME", home}}));
    REQUIRE(from_home);
    CHECK(from_home->mode == Mode::auto_pac);
    CHECK(from_home->source == "KDE (" + home + "/.config/kioslaverc)");

    auto relative_xdg = read_kde(MapEnv({{"XDG_CONFIG_HOME", "relative/dir"}, {"HOME", home}}));
    REQUIRE(relative_xdg);
    CHECK(relative_xdg->mode == Mode::auto_pac);

    auto missing = query_kde(MapEnv({{"XDG_CONFIG_HOME", (dir / "empty").string()}}));
    CHECK(missing.error() == "no kioslaverc at " + (dir / "empty").string() + "/kioslaverc");
    CHECK(query_kde(MapEnv({})).error() == "neither XDG_CONFIG_HOME nor HOME is set");

    write_text(dir / "off/kioslaverc", "[Proxy Settings]\nProxyType=0\n");
    CHECK(query_kde(MapEnv({{"XDG_CONFIG_HOME", (dir / "off").string()}})).error() == "ProxyType is 0 (no proxy)");
}

TEST_CASE("read_sysconfig reads the given file", "[platform][sysproxy]") {
    TempDir dir;
    write_text(dir / "proxy", fixture("sysconfig-proxy"));
    auto p = read_sysconfig(dir / "proxy");
    REQUIRE(p);
    CHECK(p->source == (dir / "proxy").string());
    CHECK(p->https_proxy == "http://proxy.corp.example:3128/");
    CHECK(query_sysconfig(dir / "absent").error() == "no " + (dir / "absent").string());
    write_text(dir / "off", "PROXY_ENABLED=\"no\"\n");
    CHECK(query_sysconfig(dir / "off").error() == "PROXY_ENABLED is not \"yes\"");
}

TEST_CASE("read_macos runs scutil --proxy", "[platform][sysproxy]") {
    ScriptedRunner scutil{{{"scutil --proxy", fixture("scutil-pac.txt")}}, {}};
    auto p = read_macos(scutil.runner());
    REQUIRE(p);
    CHECK(p->pac_url == "http://wpad.corp.example/proxy.pac");
    ScriptedRunner nothing;
    CHECK(query_macos(nothing.runner()).error() == "scutil --proxy failed or is not installed");
}

TEST_CASE("read_system_proxy consults the host's sources in order", "[platform][sysproxy]") {
    TempDir dir;
    const std::string config = (dir / "config").string();
    write_text(dir / "config/kioslaverc", fixture("kioslaverc-manual"));
    write_text(dir / "sysconfig", fixture("sysconfig-proxy"));
    const SystemProxyOptions linux_opts{"linux", dir / "sysconfig"};

    SECTION("no session: GNOME first when gsettings has a proxy") {
        auto gsettings = gnome_says("gsettings-manual.txt");
        auto r = read_system_proxy(MapEnv({{"XDG_CONFIG_HOME", config}}), gsettings.runner(), linux_opts);
        REQUIRE(r.found);
        CHECK(r.found->source == "GNOME (gsettings org.gnome.system.proxy)");
        CHECK(r.skipped.empty());
    }
    SECTION("no session: falls through GNOME and KDE to sysconfig, with reasons") {
        ScriptedRunner nothing;
        auto r =
            read_system_proxy(MapEnv({{"XDG_CONFIG_HOME", (dir / "empty").string()}}), nothing.runner(), linux_opts);
        REQUIRE(r.found);
        CHECK(r.found->source == (dir / "sysconfig").string());
        CHECK(r.skipped ==
              std::vector<std::string>{"GNOME: gsettings not installed",
                                       "KDE: no kioslaverc at " + (dir / "empty").string() + "/kioslaverc"});
    }
    SECTION("KDE session: GNOME is not consulted") {
        auto gsettings = gnome_says("gsettings-manual.txt");
        auto env = GENERATE(as<std::map<std::string, std::string>>{},
                            std::map<std::string, std::string>{{"XDG_CURRENT_DESKTOP", "KDE"}},
                            std::map<std::string, std::string>{{"DESKTOP_SESSION", "/usr/share/xsessions/plasma"}},
                            std::map<std::string, std::string>{{"KDE_FULL_SESSION", "true"}});
        env["XDG_CONFIG_HOME"] = config;
        auto r = read_system_proxy(MapEnv(env), gsettings.runner(), linux_opts);
        REQUIRE(r.found);
        CHECK(r.found->source == "KDE (" + config + "/kioslaverc)");
        CHECK(r.skipped == std::vector<std::string>{"GNOME: not consulted in a KDE session"});
        CHECK(gsettings.calls.empty());
    }
    SECTION("GNOME-like session: KDE is not consulted; nothing found lists every reason") {
        auto gsettings = gnome_says("gsettings-none.txt");
        auto desktop = GENERATE(as<std::string>{}, "ubuntu:GNOME", "X-Cinnamon", "Budgie:GNOME", "Unity");
        SystemProxyOptions opts{"linux", dir / "absent"};
        auto r = read_system_proxy(MapEnv({{"XDG_CURRENT_DESKTOP", desktop}, {"XDG_CONFIG_HOME", config}}),
                                   gsettings.runner(), opts);
        CHECK_FALSE(r.found);
        CHECK(r.skipped == std::vector<std::string>{"GNOME: mode is none", "KDE: not consulted in a GNOME-like session",
                                                    "sysconfig: no " + (dir / "absent").string()});
    }
    SECTION("unrecognised session (XFCE) consults everything") {
        auto gsettings = gnome_says("gsettings-none.txt");
        auto r = read_system_proxy(MapEnv({{"XDG_CURRENT_DESKTOP", "XFCE"}, {"XDG_CONFIG_HOME", config}}),
                                   gsettings.runner(), linux_opts);
        REQUIRE(r.found);
        CHECK(r.found->source == "KDE (" + config + "/kioslaverc)");
        CHECK(r.skipped == std::vector<std::string>{"GNOME: mode is none"});
    }
    SECTION("darwin asks scutil only") {
        ScriptedRunner scutil{{{"scutil --proxy", fixture("scutil-manual.txt")}}, {}};
        auto r =
            read_system_proxy(MapEnv({{"XDG_CONFIG_HOME", config}}), scutil.runner(), {"darwin", dir / "sysconfig"});
        REQUIRE(r.found);
        CHECK(r.found->source == "macOS (scutil --proxy)");
        CHECK(scutil.calls == std::vector<std::string>{"scutil --proxy"});
    }
    SECTION("windows without the registry reader compiled in") {
        ScriptedRunner nothing;
        auto r = read_system_proxy(MapEnv({}), nothing.runner(), {"windows", dir / "sysconfig"});
        CHECK_FALSE(r.found);
        CHECK(r.skipped == std::vector<std::string>{"Windows: registry reader not compiled into this build"});
    }
}

TEST_CASE("real_command_runner captures stdout without a shell, bounded", "[platform][sysproxy]") {
    auto run = real_command_runner(std::chrono::seconds(5), {{"GOINSTALL_SYSPROXY_TEST", "from override"}});
    CHECK(run({"printf", "%s|%s", "a b", "$HOME"}) == std::optional<std::string>("a b|$HOME")); // no shell expansion
    CHECK(run({"sh", "-c", "printf %s \"$GOINSTALL_SYSPROXY_TEST\""}) == std::optional<std::string>("from override"));
    CHECK(run({"cat"}) == std::optional<std::string>("")); // stdin is /dev/null
    CHECK(run({"sh", "-c", "echo out; echo err >&2"}) == std::optional<std::string>("out\n"));
    CHECK_FALSE(run({"sh", "-c", "echo partial; exit 3"}));
    CHECK_FALSE(run({"goinstall-no-such-command-xyz"}));
    CHECK_FALSE(run({}));
    CHECK_FALSE(run({"head", "-c", "70000", "/dev/zero"})); // over the 64 KiB cap
    CHECK(run({"head", "-c", "65536", "/dev/zero"})->size() == 65536);

    auto quick = real_command_runner(std::chrono::milliseconds(200));
    auto start = std::chrono::steady_clock::now();
    CHECK_FALSE(quick({"sleep", "30"}));
    CHECK_FALSE(quick({"sh", "-c", "exec >&-; sleep 30"})); // closes stdout, keeps running
    // Both stopped at the 200 ms limit, not waited for (60 s): 10 s bound, 6x under.
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(10));
}

TEST_CASE("read_gnome against the real gsettings with the keyfile backend", "[platform][sysproxy]") {
    TempDir dir;
    auto run = real_command_runner(std::chrono::seconds(5),
                                   {{"GSETTINGS_BACKEND", "keyfile"}, {"XDG_CONFIG_HOME", dir.path().string()}});
    if (!run({"gsettings", "get", "org.gnome.system.proxy", "mode"})) {
        WARN("gsettings or the org.gnome.system.proxy schema is missing (Debian: libglib2.0-bin, "
             "gsettings-desktop-schemas); skipping");
        return;
    }
    CHECK(query_gnome(run).error() == "mode is none");
    write_text(dir / "glib-2.0/settings/keyfile",
               "[system/proxy]\nmode='manual'\nignore-hosts=['localhost', '*.corp']\n\n"
               "[system/proxy/https]\nhost='127.0.0.1'\nport=3128\n");
    auto p = read_gnome(run);
    CHECK(describe(p) == describe(proxy(Mode::manual, "127.0.0.1:3128", "", "", "", {"localhost", "*.corp"})));
    write_text(dir / "glib-2.0/settings/keyfile", "[system/proxy]\nmode='auto'\nautoconfig-url='http://wpad/x.pac'\n");
    CHECK(describe(read_gnome(run)) ==
          describe(proxy(Mode::auto_pac, "", "", "", "http://wpad/x.pac", {"localhost", "127.0.0.0/8", "::1"})));
}
