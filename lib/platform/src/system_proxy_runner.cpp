// real_command_runner: runs gsettings/scutil with posix_spawnp, no shell, bounded in time and output.

#include "goinstall/platform/system_proxy.hpp"

#if !defined(_WIN32)
#include <cerrno>
#include <csignal>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__APPLE__)
#include <crt_externs.h>
#else
extern char** environ; // NOLINT: POSIX declares it without a header on some libcs
#endif
#endif

namespace goinstall {

#if defined(_WIN32)

CommandRunner real_command_runner(std::chrono::milliseconds /*timeout*/,
                                  std::map<std::string, std::string> /*env_overrides*/) {
    return [](const std::vector<std::string>&) -> std::optional<std::string> { return std::nullopt; };
}

#else

namespace {

constexpr std::size_t k_max_output = 64 * 1024; // scutil/gsettings print about 1 KB for the proxy settings

using SteadyClock = std::chrono::steady_clock;

char** current_environ() {
#if defined(__APPLE__)
    return *_NSGetEnviron();
#else
    return environ;
#endif
}

// This process's environment with `overrides` replacing or adding variables.
std::vector<std::string> child_environment(const std::map<std::string, std::string>& overrides) {
    std::vector<std::string> out;
    for (char** e = current_environ(); e != nullptr && *e != nullptr; ++e) {
        std::string_view entry(*e);
        auto name = entry.substr(0, entry.find('='));
        if (!overrides.contains(std::string(name))) {
            out.emplace_back(entry);
        }
    }
    for (const auto& [name, value] : overrides) {
        out.push_back(name + "=" + value);
    }
    return out;
}

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& s : strings) {
        out.push_back(s.data());
    }
    out.push_back(nullptr);
    return out;
}

int remaining_ms(SteadyClock::time_point deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(left);
}

// Kills (when asked) and reaps the child; true when it exited with status 0.
bool finish(pid_t pid, bool kill_it, SteadyClock::time_point deadline) {
    int status = 0;
    while (!kill_it) {
        const pid_t r = ::waitpid(pid, &status, WNOHANG);
        if (r == pid) {
            return WIFEXITED(status) && WEXITSTATUS(status) == 0;
        }
        if (r < 0 && errno != EINTR) {
            return false;
        }
        if (remaining_ms(deadline) == 0) {
            break; // out of time: killed below
        }
        ::poll(nullptr, 0, 5); // the child closed stdout but has not exited yet
    }
    ::kill(pid, SIGKILL);
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return false;
}

// A pipe whose ends are not inherited by children spawned concurrently by other threads (macOS has
// no pipe2, so there the flag is set right after creation).
bool cloexec_pipe(int fds[2]) {
#if defined(__APPLE__)
    if (::pipe(fds) != 0) {
        return false;
    }
    ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    ::fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return true;
#else
    return ::pipe2(fds, O_CLOEXEC) == 0;
#endif
}

// Spawns argv with stdout on a pipe; returns the pid and the read end, or nullopt.
std::optional<std::pair<pid_t, int>> spawn(const std::vector<std::string>& argv,
                                           const std::map<std::string, std::string>& overrides) {
    int fds[2];
    if (!cloexec_pipe(fds)) {
        return std::nullopt;
    }
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attr;
    posix_spawn_file_actions_init(&actions);
    posix_spawnattr_init(&attr);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(&actions, fds[1], 1);
    posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGPIPE);
    sigset_t no_mask;
    sigemptyset(&no_mask);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    posix_spawnattr_setsigmask(&attr, &no_mask);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

    std::vector<std::string> args(argv);
    std::vector<std::string> env = child_environment(overrides);
    auto argp = pointers(args);
    auto envp = pointers(env);
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, args[0].c_str(), &actions, &attr, argp.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(fds[1]);
    if (rc != 0) {
        ::close(fds[0]);
        return std::nullopt;
    }
    return std::pair{pid, fds[0]};
}

std::optional<std::string> run_captured(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                                        const std::map<std::string, std::string>& overrides) {
    if (argv.empty() || argv[0].empty()) {
        return std::nullopt;
    }
    const auto deadline = SteadyClock::now() + timeout;
    auto child = spawn(argv, overrides);
    if (!child) {
        return std::nullopt;
    }
    const auto [pid, fd] = *child;
    std::string out;
    bool failed = false;
    char buf[4096];
    while (true) {
        pollfd p{fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, remaining_ms(deadline));
        if (ready < 0 && errno == EINTR) {
            continue;
        }
        if (ready <= 0) {
            failed = true; // timed out, or poll failed
            break;
        }
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            failed = n < 0;
            break;
        }
        out.append(buf, static_cast<std::size_t>(n));
        if (out.size() > k_max_output) {
            failed = true;
            break;
        }
    }
    ::close(fd);
    const bool ok = finish(pid, failed, deadline);
    if (!ok) {
        return std::nullopt;
    }
    return out;
}

} // namespace

CommandRunner real_command_runner(std::chrono::milliseconds timeout, std::map<std::string, std::string> env_overrides) {
    return [timeout, overrides = std::move(env_overrides)](const std::vector<std::string>& argv) {
        return run_captured(argv, timeout, overrides);
    };
}

#endif

} // namespace goinstall
