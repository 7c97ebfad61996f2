// Leftovers of killed runs (orphaned temporaries, staging trees, stale downloads) and a toolchain
// check that a cancellation ends at once. The end-to-end side is tests/integration/test_kill_anywhere.py.
#include <catch2/catch.hpp>

#include <chrono>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "../fakes/temp_dir.hpp"
#include "goinstall/fs/files.hpp"
#include "goinstall/install/toolchain.hpp"
#include "install_fixtures.hpp"

using namespace goinstall;
using namespace goinstall::test;
using namespace std::chrono_literals;

namespace {

// A pid that no process has: a child that has exited and been reaped.
pid_t dead_pid() {
    pid_t pid = ::fork();
    if (pid == 0) {
        ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return pid;
}

void age(const std::filesystem::path& p, std::chrono::hours by) {
    std::filesystem::last_write_time(p, std::filesystem::file_time_type::clock::now() - by);
}

} // namespace

TEST_CASE("remove_orphaned_temps removes only the temporaries of dead writers", "[install][fs]") {
    TempDir t;
    const auto dead = ".index-x.json.tmp-" + std::to_string(dead_pid()) + "-abcdefgh";
    const auto live = ".index-x.json.tmp-" + std::to_string(::getpid()) + "-abcdefgh";
    write_text(t / dead, "partial");
    write_text(t / live, "being written");
    write_text(t / ".old.tmp-nopid", "older format, old");
    write_text(t / ".new.tmp-nopid", "older format, recent");
    write_text(t / "index-x.json", "[]");
    age(t / ".old.tmp-nopid", 2h);
    std::filesystem::create_symlink("go1.21.3", t / (".current.tmp-" + std::to_string(dead_pid()) + "-x"));

    remove_orphaned_temps(t.path());
    CHECK(names_in(t.path()) == std::vector<std::string>{live, ".new.tmp-nopid", "index-x.json"});
}

TEST_CASE("clean_leftovers clears staging, switch temporaries and dead downloads", "[install]") {
    TempDir t;
    Layout layout(t / "root");
    make_toolchain(t / "root/go1.21.3", std::string("go1.21.3\n"), go_printing("go version go1.21.3 linux/amd64"));
    make_toolchain(t / "root/.goinstall-staging-abc123/go", std::string("go1.22.0\n"), std::nullopt);
    std::filesystem::create_directories(t / "root/.goinstall-trash-xyz/go1.20.1");
    std::filesystem::create_symlink("go1.21.3", t / "root/.current.tmp-123-abc");
    std::filesystem::create_symlink("go1.21.3", t / "root/current");
    const auto dl = t / "root/.downloads";
    write_text(dl / "go1.22.0.linux-amd64.tar.gz.part", "resumable");
    write_text(dl / "go1.22.0.linux-amd64.tar.gz.part.meta", "url=x\n");
    write_text(dl / "go1.19.1.linux-amd64.tar.gz.part", "abandoned");
    write_text(dl / "go1.19.1.linux-amd64.tar.gz.part.meta", "url=x\n");
    age(dl / "go1.19.1.linux-amd64.tar.gz.part", k_part_max_age + 1h);
    age(dl / "go1.19.1.linux-amd64.tar.gz.part.meta", k_part_max_age + 1h);
    write_text(dl / "go1.21.3.linux-amd64.tar.gz", "a whole archive a killed run verified");
    write_text(dl / ".go1.22.0.linux-amd64.tar.gz.part.meta.tmp-1-abc", "half a metadata write");

    clean_leftovers(layout);
    CHECK(names_in(t / "root") == std::vector<std::string>{".downloads", "current", "go1.21.3"});
    CHECK(names_in(dl) ==
          std::vector<std::string>{"go1.22.0.linux-amd64.tar.gz.part", "go1.22.0.linux-amd64.tar.gz.part.meta"});
    CHECK(current_version(layout) == "go1.21.3");
}

TEST_CASE("check_toolchain stops a hanging go at once when cancelled", "[install]") {
    TempDir t;
    // The fake go says it has started (a file), then hangs.
    const auto started_mark = t / "go-started";
    make_toolchain(t / "go", std::string("go1.21.3\n"),
                   "#!/bin/sh\n: > '" + started_mark.string() + "'\nsleep 30\necho late\n");
    CancelToken cancel;
    std::thread canceller([&] {
        // Cancel once `go version` is running (bounded poll), as the SIGINT/SIGTERM handler would.
        for (int i = 0; i < 2000 && !std::filesystem::exists(started_mark); ++i) std::this_thread::sleep_for(10ms);
        cancel.cancel();
    });
    const auto started = std::chrono::steady_clock::now();
    auto st = check_toolchain(t / "go", "go1.21.3", true, 60s, &cancel);
    const auto took = std::chrono::steady_clock::now() - started;
    canceller.join();
    CHECK(std::filesystem::exists(started_mark));
    REQUIRE_FALSE(st.has_value());
    CHECK(st.error().code() == ErrorCode::cancelled);
    CHECK(took < 10s); // ended by the cancel, not the 30 s sleep or the 60 s timeout
}
