#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "install_fixtures.hpp"
#include "goinstall/install/layout.hpp"
#include "goinstall/install/toolchain.hpp"

using namespace goinstall;
using namespace goinstall::test;

namespace {

std::vector<std::string> versions(const std::vector<InstalledToolchain>& list) {
    std::vector<std::string> out;
    for (const auto& t : list) out.push_back(t.version);
    return out;
}

// A root with three toolchains and some things that are not toolchains.
struct Root {
    TempDir tmp;
    Layout layout{tmp / "root"};
    Root() {
        for (const char* v : {"go1.21.3", "go1.9.2", "go1.22rc1"}) {
            make_toolchain(layout.root() / v, v);
        }
        std::filesystem::create_directories(layout.downloads_dir());
        std::filesystem::create_directories(layout.root() / "gofoo");
        write_text(layout.root() / "go1.20.1", "a file, not a tree");
        std::filesystem::create_directory_symlink(layout.root() / "go1.21.3", layout.root() / "go1.19.0");
        write_text(layout.lock_path(), "");
    }
};

} // namespace

TEST_CASE("Layout paths in root and prefix mode", "[install]") {
    Layout root("/opt/goinstall");
    CHECK_FALSE(root.prefix_mode());
    CHECK(root.toolchain_dir("go1.21.3") == "/opt/goinstall/go1.21.3");
    CHECK(root.current_link() == "/opt/goinstall/current");
    CHECK(root.downloads_dir() == "/opt/goinstall/.downloads");
    CHECK(root.staging_parent() == "/opt/goinstall");
    CHECK(root.lock_path() == "/opt/goinstall/.lock");

    Layout prefix("/opt/goinstall", std::filesystem::path("/usr/local"));
    CHECK(prefix.prefix_mode());
    CHECK(prefix.toolchain_dir("go1.21.3") == "/usr/local/go");
    CHECK(prefix.downloads_dir() == "/opt/goinstall/.downloads");
    CHECK(prefix.staging_parent() == "/usr/local");
    CHECK(prefix.lock_path() == "/usr/local/.goinstall.lock");
}

TEST_CASE("toolchain_name: the version for the host, with os-arch for another platform", "[install]") {
    CHECK(toolchain_name("go1.21.3", host_platform()) == "go1.21.3");
    const Platform other{host_platform().os == "windows" ? "linux" : "windows", "amd64"};
    CHECK(toolchain_name("go1.21.3", other) == "go1.21.3." + other.os + "-amd64");
    CHECK(is_toolchain_dir_name(toolchain_name("go1.22rc1", other)));
}

TEST_CASE("is_toolchain_dir_name", "[install]") {
    struct Row {
        const char* name;
        bool expected;
    };
    auto row = GENERATE(Row{"go1.21.3", true}, Row{"go1.22rc1", true}, Row{"go1.9.2rc2", true}, Row{"go1", true},
                        Row{"go1.20", true}, Row{"1.21.3", false}, Row{"go", false}, Row{"gofoo", false},
                        Row{"current", false}, Row{".downloads", false}, Row{".lock", false},
                        Row{".goinstall-staging-abc", false}, Row{"go1.21.3.old", false}, Row{"", false});
    INFO(row.name);
    CHECK(is_toolchain_dir_name(row.name) == row.expected);
}

TEST_CASE("list_installed lists toolchain directories newest first", "[install]") {
    Root r;
    REQUIRE(use_version(r.layout, "go1.21.3").has_value());
    auto list = list_installed(r.layout);
    CHECK(versions(list) == std::vector<std::string>{"go1.22rc1", "go1.21.3", "go1.9.2"});
    for (const auto& t : list) {
        CHECK(t.active == (t.version == "go1.21.3"));
        CHECK(t.path == r.layout.root() / t.version);
    }
    TempDir empty;
    CHECK(list_installed(Layout(empty / "missing")).empty());
}

TEST_CASE("current_version follows the current link", "[install]") {
    Root r;
    CHECK_FALSE(current_version(r.layout).has_value());
    REQUIRE(use_version(r.layout, "go1.9.2").has_value());
    CHECK(current_version(r.layout) == "go1.9.2");
    std::filesystem::remove(r.layout.current_link());
    std::filesystem::create_directory_symlink("go1.30.0", r.layout.current_link()); // dangling
    CHECK_FALSE(current_version(r.layout).has_value());
    std::filesystem::remove(r.layout.current_link());
    std::filesystem::create_directory_symlink("gofoo", r.layout.current_link()); // not a toolchain
    CHECK_FALSE(current_version(r.layout).has_value());
}

TEST_CASE("use_version points current at an installed version with a relative link", "[install]") {
    Root r;
    REQUIRE(use_version(r.layout, "go1.21.3").has_value());
    CHECK(std::filesystem::read_symlink(r.layout.current_link()) == "go1.21.3");
    REQUIRE(use_version(r.layout, "go1.22rc1").has_value());
    CHECK(std::filesystem::read_symlink(r.layout.current_link()) == "go1.22rc1");
    CHECK(read_version_file(r.layout.current_link()) == "go1.22rc1");

    auto missing = use_version(r.layout, "go1.30.0");
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code() == ErrorCode::not_found);
    CHECK(missing.error().message().find("installed: go1.22rc1, go1.21.3, go1.9.2") != std::string::npos);
    for (const char* bad : {"gofoo", "go1.20.1", "../root/go1.21.3", "current"}) {
        INFO(bad);
        CHECK(use_version(r.layout, bad).error().code() == ErrorCode::not_found);
    }
    CHECK(current_version(r.layout) == "go1.22rc1"); // failures changed nothing

    TempDir empty;
    std::filesystem::create_directories(empty / "root");
    auto nothing = use_version(Layout(empty / "root"), "go1.21.3");
    REQUIRE_FALSE(nothing.has_value());
    CHECK(nothing.error().message().find("nothing is installed") != std::string::npos);
}

TEST_CASE("uninstall_version removes an inactive version and keeps current", "[install]") {
    Root r;
    REQUIRE(use_version(r.layout, "go1.21.3").has_value());
    bool was_active = true;
    REQUIRE(uninstall_version(r.layout, "go1.9.2", &was_active).has_value());
    CHECK_FALSE(was_active);
    CHECK_FALSE(std::filesystem::exists(r.layout.root() / "go1.9.2"));
    CHECK(current_version(r.layout) == "go1.21.3");
    CHECK(versions(list_installed(r.layout)) == std::vector<std::string>{"go1.22rc1", "go1.21.3"});
    for (const auto& name : names_in(r.layout.root())) {
        CHECK_FALSE(name.starts_with(".goinstall-trash-"));
    }
}

TEST_CASE("uninstall_version of the active version removes current too", "[install]") {
    Root r;
    REQUIRE(use_version(r.layout, "go1.21.3").has_value());
    bool was_active = false;
    REQUIRE(uninstall_version(r.layout, "go1.21.3", &was_active).has_value());
    CHECK(was_active);
    CHECK_FALSE(std::filesystem::exists(r.layout.root() / "go1.21.3"));
    CHECK_FALSE(std::filesystem::is_symlink(r.layout.current_link()));
    CHECK_FALSE(current_version(r.layout).has_value());
}

TEST_CASE("uninstall_version of something not installed is not_found", "[install]") {
    Root r;
    for (const char* bad : {"go1.30.0", "gofoo", "go1.20.1", ".downloads", "current"}) {
        INFO(bad);
        auto st = uninstall_version(r.layout, bad);
        REQUIRE_FALSE(st.has_value());
        CHECK(st.error().code() == ErrorCode::not_found);
    }
    CHECK(std::filesystem::exists(r.layout.root() / "gofoo"));
    CHECK(std::filesystem::exists(r.layout.root() / "go1.20.1"));
}

TEST_CASE("clean_leftovers removes only what interrupted runs leave", "[install]") {
    Root r;
    const auto root = r.layout.root();
    REQUIRE(use_version(r.layout, "go1.21.3").has_value());
    make_toolchain(root / ".goinstall-staging-a1b2c3/go", "go1.22.0");
    std::filesystem::create_directories(root / ".goinstall-trash-zzz/go1.8");
    make_toolchain(root / ".go1.21.3.old-abcdefgh", "go1.21.3");
    std::filesystem::create_directory_symlink("go1.9.2", root / ".current.tmp-12345678");
    write_text(root / ".downloads/go1.22.0.linux-amd64.tar.gz.part", "resumable");

    clean_leftovers(r.layout);
    CHECK(names_in(root) == std::vector<std::string>{".downloads", ".lock", "current", "go1.19.0", "go1.20.1",
                                                     "go1.21.3", "go1.22rc1", "go1.9.2", "gofoo"});
    CHECK(read_text(root / ".downloads/go1.22.0.linux-amd64.tar.gz.part") == "resumable");
    CHECK(std::filesystem::exists(root / "go1.9.2/bin/go")); // the tmp link's target survived
    CHECK(current_version(r.layout) == "go1.21.3");
}

TEST_CASE("clean_leftovers in prefix mode cleans the prefix", "[install]") {
    TempDir t;
    Layout layout(t / "root", t / "prefix");
    make_toolchain(t / "prefix/go", "go1.21.3");
    std::filesystem::create_directories(t / "prefix/.goinstall-staging-abc/go");
    std::filesystem::create_directories(t / "prefix/bin");
    clean_leftovers(layout);
    CHECK(names_in(t / "prefix") == std::vector<std::string>{"bin", "go"});
}

TEST_CASE("read_version_file reads the first line", "[install]") {
    TempDir t;
    write_text(t / "a/VERSION", "  go1.21.3  \ntime 2023\n");
    CHECK(read_version_file(t / "a") == "go1.21.3");
    write_text(t / "b/VERSION", "");
    CHECK_FALSE(read_version_file(t / "b").has_value());
    CHECK_FALSE(read_version_file(t / "c").has_value());
}
