// run_subprocess / supervise_child: posix_spawn into a new process group, then one poll loop over
// the pipes bounded by the deadline, with a process-group kill and a reap at the end.

#include "goinstall/platform/subprocess.hpp"

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <span>

#include "goinstall/base/strings.hpp"

#if !defined(_WIN32)
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

std::string SubprocessResult::describe_end() const {
    switch (end) {
    case End::exited: return "exit " + std::to_string(exit_code);
    case End::signalled: return "killed by signal " + std::to_string(signal);
    case End::timed_out: return "timed out";
    case End::cancelled: return "cancelled";
    }
    return "ended";
}

std::vector<std::string> environment_for_child(const Env& env, const std::map<std::string, std::string>& set,
                                               const std::vector<std::string>& unset) {
    auto vars = env.all();
    for (const auto& name : unset) vars.erase(name);
    for (const auto& [name, value] : set) vars[name] = value;
    std::vector<std::string> out;
    out.reserve(vars.size());
    for (const auto& [name, value] : vars) out.push_back(name + "=" + value);
    return out;
}

#if defined(_WIN32)

bool make_cloexec_pipe(int /*fds*/[2]) { return false; }

Result<SubprocessResult> run_subprocess(const SubprocessOptions& /*options*/) {
    return fail(ErrorCode::internal, "running programs is not supported on this platform");
}

SubprocessResult supervise_child(ChildProcess /*child*/, std::chrono::steady_clock::time_point /*started*/,
                                 const SubprocessLimits& /*limits*/) {
    return {};
}

#else

namespace {

using SteadyClock = std::chrono::steady_clock;

// The longest poll() between two looks at the cancel token (a signal handler only sets a flag).
constexpr int k_cancel_poll_ms = 50;
// While both pipes are closed but the child has not exited, how often to look (no fd to wake us).
constexpr int k_exit_poll_ms = 5;

int remaining_ms(SteadyClock::time_point deadline) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - SteadyClock::now()).count();
    return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 1 << 30));
}

// Whether the child has exited, without reaping it: the zombie keeps its pid, and so the process
// group id, from being reused until the group has been killed.
bool has_exited(pid_t pid) {
    siginfo_t info{};
    while (true) {
        info.si_pid = 0;
        if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0) return info.si_pid == pid;
        if (errno != EINTR) return true; // ECHILD: nothing left to wait for
    }
}

// One output stream being read.
struct Stream {
    int fd;
    std::string* text;
    bool* truncated;
    std::size_t cap;

    // Reads what is available; closes the fd at EOF, on error, or once the cap is passed.
    void read_some() {
        char buf[16384];
        const ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
        if (n <= 0) {
            close_it();
            return;
        }
        const auto got = static_cast<std::size_t>(n);
        const std::size_t room = cap - std::min(cap, text->size());
        text->append(buf, std::min(got, room));
        if (got > room) {
            *truncated = true;
            close_it();
        }
    }
    void close_it() {
        if (fd >= 0) ::close(fd);
        fd = -1;
    }
};

std::vector<char*> pointers(std::vector<std::string>& strings) {
    std::vector<char*> out;
    out.reserve(strings.size() + 1);
    for (auto& s : strings) out.push_back(s.data());
    out.push_back(nullptr);
    return out;
}

char** current_environ() {
#if defined(__APPLE__)
    return *_NSGetEnviron();
#else
    return environ;
#endif
}

Error spawn_error(int err, const std::string& program) {
    ErrorCode code = ErrorCode::internal;
    if (err == ENOENT || err == ENOTDIR)
        code = ErrorCode::not_found;
    else if (err == EACCES || err == EPERM || err == ENOEXEC)
        code = ErrorCode::permission;
    return Error(code, "cannot run " + sanitize_for_display(program, 300) + ": " + std::strerror(err));
}

// File actions and attributes for posix_spawn, destroyed with the object.
class SpawnSetup {
public:
    SpawnSetup() {
        posix_spawn_file_actions_init(&m_actions);
        posix_spawnattr_init(&m_attr);
    }
    SpawnSetup(const SpawnSetup&) = delete;
    SpawnSetup& operator=(const SpawnSetup&) = delete;
    ~SpawnSetup() {
        posix_spawn_file_actions_destroy(&m_actions);
        posix_spawnattr_destroy(&m_attr);
    }
    posix_spawn_file_actions_t* actions() { return &m_actions; }
    posix_spawnattr_t* attr() { return &m_attr; }

private:
    posix_spawn_file_actions_t m_actions{};
    posix_spawnattr_t m_attr{};
};

} // namespace

bool make_cloexec_pipe(int fds[2]) {
#if defined(__APPLE__)
    if (::pipe(fds) != 0) return false;
    ::fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    ::fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return true;
#else
    return ::pipe2(fds, O_CLOEXEC) == 0;
#endif
}

SubprocessResult supervise_child(ChildProcess child, SteadyClock::time_point started, const SubprocessLimits& limits) {
    SubprocessResult result;
    const auto deadline = started + limits.deadline;
    Stream streams[2] = {{child.out_fd, &result.out, &result.out_truncated, limits.max_output},
                         {child.err_fd, &result.err, &result.err_truncated, limits.max_output}};
    const pid_t pid = child.pid;
    enum class Stop { finished, timed_out, cancelled } stop = Stop::finished;
    bool exited = false;
    while (true) {
        if (limits.cancel != nullptr && limits.cancel->cancelled()) {
            stop = Stop::cancelled;
            break;
        }
        if (!exited) exited = has_exited(pid);
        pollfd fds[2];
        nfds_t open = 0;
        for (const auto& s : streams) {
            if (s.fd >= 0) fds[open++] = pollfd{s.fd, POLLIN, 0};
        }
        if (exited && open == 0) break;
        const int left = remaining_ms(deadline);
        if (left == 0) {
            stop = Stop::timed_out;
            break;
        }
        const int slice = std::min(left, open == 0 ? k_exit_poll_ms : k_cancel_poll_ms);
        const int ready = ::poll(open == 0 ? nullptr : fds, open, slice);
        if (ready <= 0) continue; // timeout slice, EINTR; other poll errors end at the deadline
        for (const auto& p : std::span(fds, open)) {
            if ((p.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) == 0) continue;
            for (auto& s : streams) {
                if (s.fd == p.fd) s.read_some();
            }
        }
    }
    // The whole group, then the child itself in case it does not lead one. The child is not reaped
    // yet, so the group id cannot belong to anyone else.
    ::kill(-pid, SIGKILL);
    if (stop != Stop::finished) ::kill(pid, SIGKILL);
    for (auto& s : streams) s.close_it();
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (WIFEXITED(status)) {
        result.end = SubprocessResult::End::exited;
        result.exit_code = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        result.end = SubprocessResult::End::signalled;
        result.signal = WTERMSIG(status);
    }
    if (stop == Stop::timed_out) result.end = SubprocessResult::End::timed_out;
    if (stop == Stop::cancelled) result.end = SubprocessResult::End::cancelled;
    return result;
}

Result<SubprocessResult> run_subprocess(const SubprocessOptions& options) {
    if (options.argv.empty() || options.argv[0].empty()) return fail(ErrorCode::usage, "no program to run");
    const auto started = SteadyClock::now();
    int out_pipe[2];
    int err_pipe[2] = {-1, -1};
    const bool capture_err = options.stderr_to == SubprocessOptions::Stderr::capture;
    if (!make_cloexec_pipe(out_pipe))
        return std::unexpected(errno_error(errno, "cannot create a pipe for", options.argv[0]));
    if (capture_err && !make_cloexec_pipe(err_pipe)) {
        const int err = errno;
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        return std::unexpected(errno_error(err, "cannot create a pipe for", options.argv[0]));
    }
    SpawnSetup setup;
    posix_spawn_file_actions_addopen(setup.actions(), 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_adddup2(setup.actions(), out_pipe[1], 1);
    switch (options.stderr_to) {
    case SubprocessOptions::Stderr::capture: posix_spawn_file_actions_adddup2(setup.actions(), err_pipe[1], 2); break;
    case SubprocessOptions::Stderr::merge: posix_spawn_file_actions_adddup2(setup.actions(), out_pipe[1], 2); break;
    case SubprocessOptions::Stderr::discard:
        posix_spawn_file_actions_addopen(setup.actions(), 2, "/dev/null", O_WRONLY, 0);
        break;
    }
    if (!options.cwd.empty()) posix_spawn_file_actions_addchdir_np(setup.actions(), options.cwd.c_str());
    // Its own process group: a deadline or cancellation kills whatever it started too, and a
    // terminal's Ctrl-C reaches goinstall (which then cancels) rather than killing it under us.
    sigset_t defaults;
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP}) sigaddset(&defaults, sig);
    sigset_t no_mask;
    sigemptyset(&no_mask);
    posix_spawnattr_setsigdefault(setup.attr(), &defaults);
    posix_spawnattr_setsigmask(setup.attr(), &no_mask);
    posix_spawnattr_setpgroup(setup.attr(), 0);
    posix_spawnattr_setflags(setup.attr(), POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);

    std::vector<std::string> args(options.argv);
    std::vector<std::string> env_strings;
    char** envp = current_environ();
    std::vector<char*> env_pointers;
    if (options.env) {
        env_strings = *options.env;
        env_pointers = pointers(env_strings);
        envp = env_pointers.data();
    }
    auto argp = pointers(args);
    pid_t pid = -1;
    const int rc = options.search_path
                       ? ::posix_spawnp(&pid, args[0].c_str(), setup.actions(), setup.attr(), argp.data(), envp)
                       : ::posix_spawn(&pid, args[0].c_str(), setup.actions(), setup.attr(), argp.data(), envp);
    ::close(out_pipe[1]);
    if (capture_err) ::close(err_pipe[1]);
    if (rc != 0) {
        ::close(out_pipe[0]);
        if (capture_err) ::close(err_pipe[0]);
        return std::unexpected(spawn_error(rc, options.argv[0]));
    }
    return supervise_child(ChildProcess{pid, out_pipe[0], err_pipe[0]}, started, options.limits);
}

#endif

} // namespace goinstall
