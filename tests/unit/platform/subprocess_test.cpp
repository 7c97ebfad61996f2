// run_subprocess and supervise_child against /bin/sh scripts: exits, signals, a child that closes its
// output and sleeps, floods, grandchildren holding the pipe, cancellation. Deadlines are short; the
// only time bounds separate "ended at the deadline or on cancel" from "waited for the 30 s sleep".

#include <catch2/catch.hpp>

#include <csignal>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <string>
#include <thread>

#include "../fakes/temp_dir.hpp"
#include "goinstall/platform/subprocess.hpp"

using namespace goinstall;
using namespace std::chrono_literals;
using End = SubprocessResult::End;

namespace {

SubprocessOptions sh(const std::string& script, std::chrono::milliseconds deadline = 5s) {
    SubprocessOptions o;
    o.argv = {"/bin/sh", "-c", script};
    o.limits.deadline = deadline;
    return o;
}

// Running (not gone, not a zombie waiting for a reaper).
bool running(pid_t pid) {
    if (::kill(pid, 0) != 0) return false;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line)) return false;
    const auto close = line.rfind(')');
    return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
}

// SIGKILL is delivered asynchronously: waits (bounded) for `pid` to stop running.
bool ends_soon(pid_t pid) {
    for (int i = 0; i < 500 && running(pid); ++i) std::this_thread::sleep_for(10ms);
    return !running(pid);
}

pid_t first_line_pid(const std::string& out) { return static_cast<pid_t>(std::stol(out.substr(0, out.find('\n')))); }

} // namespace

TEST_CASE("run_subprocess reports exits, signals and both streams", "[platform][subprocess]") {
    auto r = run_subprocess(sh("echo out; echo err >&2; exit 0"));
    REQUIRE(r);
    CHECK(r->end == End::exited);
    CHECK(r->exit_code == 0);
    CHECK(r->ok());
    CHECK(r->out == "out\n");
    CHECK(r->err == "err\n");

    r = run_subprocess(sh("echo partial; exit 3"));
    REQUIRE(r);
    CHECK(r->end == End::exited);
    CHECK(r->exit_code == 3);
    CHECK_FALSE(r->ok());
    CHECK(r->describe_end() == "exit 3");

    r = run_subprocess(sh("kill -9 $$"));
    REQUIRE(r);
    CHECK(r->end == End::signalled);
    CHECK(r->signal == SIGKILL);

    auto merged = sh("echo one; echo two >&2");
    merged.stderr_to = SubprocessOptions::Stderr::merge;
    r = run_subprocess(merged);
    REQUIRE(r);
    CHECK(r->out == "one\ntwo\n");
    CHECK(r->err.empty());

    r = run_subprocess(sh("cat")); // stdin is /dev/null
    REQUIRE(r);
    CHECK(r->ok());
    CHECK(r->out.empty());
}

TEST_CASE("run_subprocess passes argv, the environment and cwd as given", "[platform][subprocess]") {
    test::TempDir dir;
    auto o = sh("printf '%s|%s|%s|%s' \"$1\" \"$A\" \"${HOME-unset}\" \"$(pwd)\"", 5s);
    o.argv.emplace_back("name");      // $0
    o.argv.emplace_back("a b $HOME"); // $1, no expansion
    o.env = environment_for_child(MapEnv({{"A", "old"}, {"HOME", "/home/x"}, {"PATH", "/usr/bin:/bin"}}),
                                  {{"A", "new"}}, {"HOME"});
    o.cwd = dir.path();
    auto r = run_subprocess(o);
    REQUIRE(r);
    CHECK(r->out == "a b $HOME|new|unset|" + std::filesystem::canonical(dir.path()).string());
}

TEST_CASE("run_subprocess fails to start what is not there or not runnable", "[platform][subprocess]") {
    test::TempDir dir;
    SubprocessOptions o;
    CHECK(run_subprocess(o).error().code() == ErrorCode::usage);
    o.argv = {(dir / "missing").string()};
    CHECK(run_subprocess(o).error().code() == ErrorCode::not_found);
    test::write_text(dir / "plain", "#!/bin/sh\necho hi\n");
    o.argv = {(dir / "plain").string()};
    auto r = run_subprocess(o);
    REQUIRE_FALSE(r);
    CHECK(r.error().code() == ErrorCode::permission);
    CHECK(r.error().message().find("cannot run") != std::string::npos);
    o.argv = {"goinstall-no-such-command-xyz"};
    o.search_path = true;
    CHECK(run_subprocess(o).error().code() == ErrorCode::not_found);
}

TEST_CASE("run_subprocess ends a child that closes its output and sleeps at the deadline, group and all",
          "[platform][subprocess]") {
    // sh prints its background sleep's pid, closes stdout/stderr and waits for it.
    const auto started = std::chrono::steady_clock::now();
    auto r = run_subprocess(sh("sleep 30 >/dev/null 2>&1 & echo $!; exec >&- 2>&-; wait", 1s));
    const auto took = std::chrono::steady_clock::now() - started;
    REQUIRE(r);
    CHECK(r->end == End::timed_out);
    CHECK_FALSE(r->ok());
    CHECK(took < 10s); // not the 30 s sleep
    CHECK(ends_soon(first_line_pid(r->out)));
}

TEST_CASE("run_subprocess does not wait for a grandchild that keeps the pipe open", "[platform][subprocess]") {
    // sh exits at once; its background sleep inherits stdout and holds the pipe.
    const auto started = std::chrono::steady_clock::now();
    auto r = run_subprocess(sh("sleep 30 & echo $!", 1s));
    const auto took = std::chrono::steady_clock::now() - started;
    REQUIRE(r);
    CHECK(r->end == End::timed_out);
    CHECK(took < 10s);
    CHECK(ends_soon(first_line_pid(r->out)));
}

TEST_CASE("run_subprocess caps each stream and flags the excess", "[platform][subprocess]") {
    auto exact = sh("head -c 65536 /dev/zero");
    auto r = run_subprocess(exact);
    REQUIRE(r);
    CHECK(r->ok());
    CHECK(r->out.size() == 65536);
    CHECK_FALSE(r->out_truncated);

    // An endless flood: the capped pipe is closed, so the writer dies of SIGPIPE (or ends at the deadline).
    for (const char* script : {"yes", "yes >&2"}) {
        INFO(script);
        auto flood = sh(script, 30s);
        flood.limits.max_output = 1000;
        const auto started = std::chrono::steady_clock::now();
        r = run_subprocess(flood);
        REQUIRE(r);
        CHECK(std::chrono::steady_clock::now() - started < 10s);
        const bool on_err = std::string(script) == "yes >&2";
        CHECK((on_err ? r->err : r->out).size() == 1000);
        CHECK((on_err ? r->err_truncated : r->out_truncated));
        CHECK_FALSE(r->ok());
    }

    // 64 KiB then a sleep: not truncated, ended at the deadline.
    r = run_subprocess(sh("head -c 65536 /dev/zero; exec sleep 30", 1s));
    REQUIRE(r);
    CHECK(r->end == End::timed_out);
    CHECK(r->out.size() == 65536);
}

TEST_CASE("run_subprocess ends the group when cancelled", "[platform][subprocess]") {
    CancelToken already;
    already.cancel();
    auto o = sh("exec sleep 30", 30s);
    o.limits.cancel = &already;
    auto r = run_subprocess(o);
    REQUIRE(r);
    CHECK(r->end == End::cancelled);

    CancelToken cancel;
    auto group = sh("sleep 30 >/dev/null 2>&1 & echo $!; wait", 30s);
    group.limits.cancel = &cancel;
    std::thread canceller([&] {
        std::this_thread::sleep_for(200ms);
        cancel.cancel(); // what the SIGINT handler does
    });
    const auto started = std::chrono::steady_clock::now();
    r = run_subprocess(group);
    const auto took = std::chrono::steady_clock::now() - started;
    canceller.join();
    REQUIRE(r);
    CHECK(r->end == End::cancelled);
    CHECK(took < 10s);
    CHECK(ends_soon(first_line_pid(r->out)));
}

TEST_CASE("supervise_child watches a forked child", "[platform][subprocess]") {
    int fds[2];
    REQUIRE(make_cloexec_pipe(fds));
    const auto started = std::chrono::steady_clock::now();
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::setpgid(0, 0);
        ::close(fds[0]);
        (void)::write(fds[1], "answer", 6);
        ::_exit(7);
    }
    ::setpgid(pid, pid);
    ::close(fds[1]);
    auto r = supervise_child(ChildProcess{pid, fds[0], -1}, started, SubprocessLimits{});
    CHECK(r.end == End::exited);
    CHECK(r.exit_code == 7);
    CHECK(r.out == "answer");
    CHECK(::waitpid(pid, nullptr, WNOHANG) < 0); // already reaped
}
