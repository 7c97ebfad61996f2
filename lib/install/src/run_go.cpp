#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "goinstall/base/strings.hpp"
#include "goinstall/install/toolchain.hpp"

extern char** environ;

namespace goinstall {

namespace {

// The child's environment: ours minus anything that would make `go` look elsewhere or switch
// toolchains (Go ≥ 1.21 honours GOTOOLCHAIN), plus GOTOOLCHAIN=local.
std::vector<std::string> clean_go_env() {
    std::vector<std::string> env;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
        std::string_view kv(*e);
        if (kv.starts_with("GOROOT=") || kv.starts_with("GOTOOLCHAIN=") || kv.starts_with("GOFLAGS=") ||
            kv.starts_with("GOENV=")) {
            continue;
        }
        env.emplace_back(kv);
    }
    env.emplace_back("GOTOOLCHAIN=local");
    env.emplace_back("GOENV=off");
    return env;
}

} // namespace

Result<std::string> run_go_version(const std::filesystem::path& go_binary, std::chrono::milliseconds timeout,
                                   const CancelToken* cancel) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
        return std::unexpected(errno_error(errno, "cannot create a pipe for", go_binary.string()));
    }
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 2);
    auto env_strings = clean_go_env();
    std::vector<char*> envp;
    for (auto& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::string path = go_binary.string();
    std::string arg1 = "version";
    char* argv[] = {path.data(), arg1.data(), nullptr};
    // Its own process group: a timeout or cancellation kills whatever it started too, and a
    // terminal's Ctrl-C reaches goinstall (which then cancels) rather than killing it under us.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
    posix_spawnattr_setpgroup(&attr, 0);
    pid_t pid = -1;
    int rc = posix_spawn(&pid, path.c_str(), &actions, &attr, argv, envp.data());
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&actions);
    ::close(fds[1]);
    if (rc != 0) {
        ::close(fds[0]);
        return fail(ErrorCode::toolchain_check, "cannot run " + path + ": " + std::strerror(rc));
    }
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool timed_out = false;
    bool cancelled = false;
    while (out.size() < 64 * 1024) {
        if (cancel != nullptr && cancel->cancelled()) {
            cancelled = true;
            break;
        }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            break;
        }
        // Wake at least every 50 ms to notice cancellation (a signal handler only sets a flag).
        pollfd p{fds[0], POLLIN, 0};
        int pr = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 50)));
        if (pr < 0 && errno == EINTR) continue;
        if (pr == 0) continue;
        if (pr < 0) break;
        char buf[4096];
        auto n = ::read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        out.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    if (timed_out || cancelled) {
        ::kill(-pid, SIGKILL);
        ::kill(pid, SIGKILL);
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (cancelled || (cancel != nullptr && cancel->cancelled())) {
        return fail(ErrorCode::cancelled, "cancelled while checking " + path);
    }
    if (timed_out) {
        return fail(ErrorCode::toolchain_check, path + " version did not finish within " +
                                                    std::to_string(timeout.count() / 1000) + " s");
    }
    auto first_line = std::string(trim(out.substr(0, out.find('\n'))));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        return fail(ErrorCode::toolchain_check,
                    path + " version failed (" +
                        (WIFSIGNALED(status) ? "killed by signal " + std::to_string(WTERMSIG(status))
                                             : "exit " + std::to_string(WEXITSTATUS(status))) +
                        "): " + sanitize_for_display(first_line, 200));
    }
    return first_line;
}

} // namespace goinstall
