#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "install_fixtures.hpp"
#include "goinstall/install/toolchain.hpp"

using namespace goinstall;
using namespace goinstall::test;
using namespace std::chrono_literals;

namespace {

// Sets an environment variable for the scope of a test.
class ScopedEnv {
public:
    ScopedEnv(const char* name, const char* value) : m_name(name) {
        if (const char* old = std::getenv(name)) m_old = old;
        ::setenv(name, value, 1);
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;
    ~ScopedEnv() {
        if (m_old) ::setenv(m_name, m_old->c_str(), 1);
        else ::unsetenv(m_name);
    }

private:
    const char* m_name;
    std::optional<std::string> m_old;
};

const std::string k_version = "go1.21.3";
const std::string k_good_line = "go version go1.21.3 linux/amd64";

} // namespace

TEST_CASE("check_toolchain accepts a right tree and explains a wrong one", "[install]") {
    using S = std::optional<std::string>;
    struct Row {
        const char* what;
        S version_file;
        S go_script;
        bool run_go;
        const char* error; // nullptr: accepted
    };
    auto row = GENERATE(
        Row{"right", k_version + "\ntime x\n", go_printing(k_good_line), true, nullptr},
        Row{"right, VERSION without newline", k_version, go_printing(k_good_line), true, nullptr},
        Row{"not run for another platform", k_version, S("#!/bin/sh\nexit 1\n"), false, nullptr},
        Row{"wrong VERSION", "go1.20.1\n", go_printing(k_good_line), true, "contains go1.20.1, not go1.21.3"},
        Row{"no VERSION", std::nullopt, go_printing(k_good_line), true, "no go/VERSION"},
        Row{"empty VERSION", "\n", go_printing(k_good_line), true, "no go/VERSION"},
        Row{"missing bin/go", k_version, std::nullopt, true, "no go/bin/go"},
        Row{"missing bin/go, not run", k_version, std::nullopt, false, "no go/bin/go"},
        Row{"go prints another version", k_version, go_printing("go version go1.20.1 linux/amd64"), true,
            "reports 'go version go1.20.1 linux/amd64'"},
        Row{"go prints a longer version", k_version, go_printing("go version go1.21.30 linux/amd64"), true,
            "reports"},
        Row{"go prints nothing", k_version, S("#!/bin/sh\nexit 0\n"), true, "reports ''"},
        Row{"go exits 1", k_version, S("#!/bin/sh\necho 'go: broken' >&2\nexit 1\n"), true, "failed (exit 1): go: broken"},
        Row{"go is killed", k_version, S("#!/bin/sh\nkill -9 $$\n"), true, "killed by signal 9"},
        Row{"go is not executable", k_version, S("not a script"), true, "cannot run"});
    INFO(row.what);
    TempDir t;
    make_toolchain(t / "go", row.version_file, row.go_script);
    if (std::string(row.what) == "go is not executable") {
        std::filesystem::permissions(t / "go/bin/go", std::filesystem::perms(0644));
    }
    ScopedEnv goflags("GOFLAGS", "-mod=vendor"); // must not reach the child
    ScopedEnv toolchain("GOTOOLCHAIN", "go1.99.0");

    auto st = check_toolchain(t / "go", k_version, row.run_go, 5s);
    if (row.error == nullptr) {
        CHECK(st.has_value());
        if (!st) FAIL_CHECK(st.error().describe());
    } else {
        REQUIRE_FALSE(st.has_value());
        CHECK(st.error().code() == ErrorCode::toolchain_check);
        INFO(st.error().describe());
        CHECK(st.error().describe().find(row.error) != std::string::npos);
    }
}

TEST_CASE("check_toolchain gives up on a go that hangs", "[install]") {
    TempDir t;
    make_toolchain(t / "go", k_version, std::string("#!/bin/sh\nexec sleep 30\n"));
    const auto started = std::chrono::steady_clock::now();
    auto st = check_toolchain(t / "go", k_version, true, 300ms);
    const auto took = std::chrono::steady_clock::now() - started;
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code() == ErrorCode::toolchain_check);
    CHECK(st.error().message().find("did not finish") != std::string::npos);
    CHECK(took >= 250ms); // poll works in whole milliseconds
    CHECK(took < 10s);    // its 300 ms timeout, not the 30 s sleep (3x margin)
}

TEST_CASE("check_toolchain accepts a windows tree without running it", "[install]") {
    TempDir t;
    make_toolchain(t / "go", k_version, std::nullopt);
    write_text(t / "go/bin/go.exe", "MZ");
    CHECK(check_toolchain(t / "go", k_version, true).has_value());
}

TEST_CASE("run_go_version returns the first line", "[install]") {
    TempDir t;
    make_toolchain(t / "go", k_version, std::string("#!/bin/sh\necho '  go version go1.21.3 linux/amd64  '\necho more\n"));
    CHECK(run_go_version(t / "go/bin/go", 5s) == k_good_line);
    auto missing = run_go_version(t / "go/bin/nope", 5s);
    REQUIRE_FALSE(missing.has_value());
    CHECK(missing.error().code() == ErrorCode::toolchain_check);
}

TEST_CASE("commit_toolchain moves a staged tree into a new place", "[install]") {
    TempDir t;
    Layout layout(t / "root");
    std::filesystem::create_directories(layout.root());
    auto staged = layout.root() / ".goinstall-staging-abc/go";
    make_toolchain(staged, k_version);

    REQUIRE(commit_toolchain(layout, staged, k_version).has_value());
    CHECK(read_version_file(layout.root() / k_version) == k_version);
    CHECK(std::filesystem::exists(layout.root() / k_version / "bin/go"));
    CHECK_FALSE(std::filesystem::exists(staged));
}

TEST_CASE("commit_toolchain replaces an existing tree and removes the old one", "[install]") {
    TempDir t;
    Layout layout(t / "root");
    make_toolchain(layout.root() / k_version, k_version);
    write_text(layout.root() / k_version / "OLD", "broken install");
    auto staged = layout.root() / ".goinstall-staging-abc/go";
    make_toolchain(staged, k_version);
    write_text(staged / "NEW", "fresh");

    REQUIRE(commit_toolchain(layout, staged, k_version).has_value());
    CHECK(read_text(layout.root() / k_version / "NEW") == "fresh");
    CHECK_FALSE(std::filesystem::exists(layout.root() / k_version / "OLD"));
    CHECK_FALSE(std::filesystem::exists(staged)); // the old tree that was exchanged out is gone
    CHECK(check_toolchain(layout.root() / k_version, k_version, true).has_value());
}

TEST_CASE("commit_toolchain in prefix mode installs exactly <prefix>/go", "[install]") {
    TempDir t;
    Layout layout(t / "root", t / "usr-local");
    make_toolchain(t / "usr-local/go", "go1.20.1");
    auto staged = t / "usr-local/.goinstall-staging-xyz/go";
    make_toolchain(staged, k_version);

    REQUIRE(commit_toolchain(layout, staged, k_version).has_value());
    CHECK(layout.toolchain_dir(k_version) == t / "usr-local/go");
    CHECK(read_version_file(t / "usr-local/go") == k_version);
    CHECK_FALSE(std::filesystem::exists(staged));
}

TEST_CASE("commit_toolchain fails when the staged tree is missing", "[install]") {
    TempDir t;
    Layout layout(t / "root");
    make_toolchain(layout.root() / k_version, k_version);
    CHECK_FALSE(commit_toolchain(layout, t / "nothing/go", k_version).has_value());
    CHECK(read_version_file(layout.root() / k_version) == k_version);
}
