#include "child_call.hpp"

#include <algorithm>
#include <cerrno>
#include <unistd.h>

#include "goinstall/platform/subprocess.hpp"

namespace goinstall {

namespace {

void write_all(int fd, const char* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        data += n;
        size -= static_cast<std::size_t>(n);
    }
}

} // namespace

Result<ChildResult> call_in_child(const std::function<Result<std::string>()>& fn, std::chrono::milliseconds limit,
                                  std::size_t max_bytes) {
    const auto started = std::chrono::steady_clock::now();
    int fds[2];
    if (!make_cloexec_pipe(fds)) return std::unexpected(errno_error(errno, "cannot create a pipe", "pipe"));
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int err = errno;
        ::close(fds[0]);
        ::close(fds[1]);
        return std::unexpected(errno_error(err, "cannot start a process", "fork"));
    }
    if (pid == 0) {
        // Its own process group, as supervise_child expects (set on both sides: no race).
        ::setpgid(0, 0);
        ::close(fds[0]);
        std::string out;
        try {
            auto r = fn();
            out = r ? "0" + *r : "1" + r.error().message();
        } catch (...) {
            out = "1internal error";
        }
        write_all(fds[1], out.data(), std::min(out.size(), max_bytes + 1));
        ::_exit(0);
    }
    ::setpgid(pid, pid);
    ::close(fds[1]);
    SubprocessLimits limits;
    limits.deadline = limit;
    limits.max_output = max_bytes + 1; // the status byte and the answer
    const auto run = supervise_child(ChildProcess{pid, fds[0], -1}, started, limits);
    ChildResult result;
    if (run.end == SubprocessResult::End::timed_out) {
        result.outcome = ChildOutcome::timed_out;
        return result;
    }
    if (run.out.empty() || run.end != SubprocessResult::End::exited || run.exit_code != 0) {
        result.outcome = ChildOutcome::crashed;
        return result;
    }
    result.outcome = run.out[0] == '0' ? ChildOutcome::ok : ChildOutcome::failed;
    result.text = run.out.substr(1, max_bytes);
    return result;
}

} // namespace goinstall
