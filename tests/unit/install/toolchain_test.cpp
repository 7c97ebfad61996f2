#include <catch2/catch.hpp>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include "install_fixtures.hpp"
#include "goinstall/install/toolchain.hpp"

#include <sys/stat.h>

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
        if (m_old)
            ::setenv(m_name, m_old->c_str(), 1);
        else
            ::unsetenv(m_name);
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
        Row{"go prints a longer version", k_version, go_printing("go version go1.21.30 linux/amd64"), true, "reports"},
        Row{"go prints nothing", k_version, S("#!/bin/sh\nexit 0\n"), true, "reports ''"},
        Row{"go exits 1", k_version, S("#!/bin/sh\necho 'go: broken' >&2\nexit 1\n"), true,
            "failed (exit 1): go: broken"},
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

TEST_CASE("check_toolchain requires the target OS's go binary", "[install]") {
    TempDir t;
    make_toolchain(t / "win/go", k_version, std::nullopt);
    write_text(t / "win/go/bin/go.exe", "MZ");
    // On this (non-Windows) host a go.exe-only tree is not a toolchain, run or not.
    auto st = check_toolchain(t / "win/go", k_version, true);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code() == ErrorCode::toolchain_check);
    CHECK(st.error().message().find("no go/bin/go (only go/bin/go.exe") != std::string::npos);
    ToolchainCheck linux_tree;
    linux_tree.target_os = "linux";
    CHECK_FALSE(check_toolchain(t / "win/go", k_version, linux_tree).has_value());
    ToolchainCheck windows_tree;
    windows_tree.target_os = "windows";
    CHECK(check_toolchain(t / "win/go", k_version, windows_tree).has_value());
    // Another platform's tree whose OS the caller does not name: either binary will do.
    CHECK(check_toolchain(t / "win/go", k_version, false).has_value());

    make_toolchain(t / "unix/go", k_version);
    st = check_toolchain(t / "unix/go", k_version, windows_tree);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().message().find("no go/bin/go.exe") != std::string::npos);
    std::filesystem::create_directories(t / "dir/go/bin/go"); // a directory is not a binary
    write_text(t / "dir/go/VERSION", k_version);
    CHECK_FALSE(check_toolchain(t / "dir/go", k_version, false).has_value());
}

TEST_CASE("check_toolchain ends a hostile bin/go at the deadline with toolchain_check", "[install]") {
    struct Row {
        const char* what;
        const char* script;
        const char* error;
    };
    auto row = GENERATE(
        Row{"hangs", "#!/bin/sh\nexec sleep 30\n", "did not finish within 2 s"},
        Row{"closes stdout and sleeps", "#!/bin/sh\nexec >&- 2>&-\nsleep 30\n", "did not finish within 2 s"},
        Row{"writes 64 KiB and sleeps", "#!/bin/sh\nhead -c 65536 /dev/zero\nexec sleep 30\n", "did not finish"},
        Row{"floods", "#!/bin/sh\nyes go version\n", "printed more than 64 KiB"},
        Row{"floods and ignores SIGPIPE", "#!/bin/sh\ntrap '' PIPE\nyes go version 2>/dev/null\nsleep 30\n",
            "did not finish"},
        Row{"leaves a child holding stdout", "#!/bin/sh\nsleep 30 &\necho 'go version go1.21.3 linux/amd64'\n",
            "did not finish"});
    INFO(row.what);
    TempDir t;
    make_toolchain(t / "go", k_version, std::string(row.script));
    const auto started = std::chrono::steady_clock::now();
    auto st = check_toolchain(t / "go", k_version, true, 2s);
    const auto took = std::chrono::steady_clock::now() - started;
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code() == ErrorCode::toolchain_check);
    INFO(st.error().describe());
    CHECK(st.error().message().find(row.error) != std::string::npos);
    CHECK(took < 10s); // the deadline, not the 30 s sleep
}

TEST_CASE("check_toolchain reads VERSION bounded", "[install]") {
    TempDir t;
    make_toolchain(t / "go", k_version);
    // One 16 MiB line: only its first KiB is read.
    write_text(t / "go/VERSION", k_version + std::string(16 << 20, 'x'));
    auto v = read_version_file(t / "go");
    REQUIRE(v);
    CHECK(v->size() == k_version_file_read_max);
    auto st = check_toolchain(t / "go", k_version, true, 2s);
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code() == ErrorCode::toolchain_check);
    CHECK(st.error().message().find("contains go1.21.3xxx") != std::string::npos);

    // A FIFO does not block the read.
    std::filesystem::remove(t / "go/VERSION");
    REQUIRE(::mkfifo((t / "go/VERSION").c_str(), 0644) == 0);
    CHECK_FALSE(read_version_file(t / "go"));
    CHECK(check_toolchain(t / "go", k_version, true, 2s).error().message().find("no go/VERSION") != std::string::npos);
}

TEST_CASE("check_toolchain gives bin/go an environment made from the Env it is given", "[install]") {
    TempDir t;
    make_toolchain(t / "go", k_version, go_printing(k_good_line));
    MapEnv env({{"GOFLAGS", "-mod=vendor"}, {"GOTOOLCHAIN", "go1.99.0"}, {"GOROOT", "/elsewhere"}});
    ToolchainCheck check;
    check.run_go = true;
    check.timeout = 5s;
    check.env = &env;
    auto st = check_toolchain(t / "go", k_version, check);
    CHECK(st.has_value());
    if (!st) FAIL_CHECK(st.error().describe());
    // Variables of the Env other than Go's reach it.
    make_toolchain(t / "go", k_version, std::string("#!/bin/sh\necho \"go version go1.21.3 $MARK\"\n"));
    MapEnv marked(std::map<std::string, std::string>{{"MARK", "from-env"}});
    check.env = &marked;
    CHECK(check_toolchain(t / "go", k_version, check).has_value());
}

TEST_CASE("run_go_version returns the first line", "[install]") {
    TempDir t;
    make_toolchain(t / "go", k_version,
                   std::string("#!/bin/sh\necho '  go version go1.21.3 linux/amd64  '\necho more\n"));
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
