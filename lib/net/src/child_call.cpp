#include "child_call.hpp"

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

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

void reap(pid_t pid) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
}

} // namespace

Result<ChildResult> call_in_child(const std::function<Result<std::string>()>& fn, std::chrono::milliseconds limit,
                                  std::size_t max_bytes) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return std::unexpected(errno_error(errno, "cannot create a pipe", "pipe"));
    const auto deadline = std::chrono::steady_clock::now() + limit;
    const pid_t pid = ::fork();
    if (pid < 0) {
        const int err = errno;
        ::close(fds[0]);
        ::close(fds[1]);
        return std::unexpected(errno_error(err, "cannot start a process", "fork"));
    }
    if (pid == 0) {
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
    ::close(fds[1]);
    std::string got;
    bool eof = false;
    char buf[4096];
    while (!eof) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) break;
        pollfd p{fds[0], POLLIN, 0};
        const int rc = ::poll(&p, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 100)));
        if (rc < 0 && errno != EINTR) break;
        if (rc <= 0) continue;
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            eof = true;
        } else if (got.size() < max_bytes + 1) {
            got.append(buf, static_cast<std::size_t>(n));
        }
    }
    ::close(fds[0]);
    ChildResult result;
    if (!eof) {
        ::kill(pid, SIGKILL);
        reap(pid);
        result.outcome = ChildOutcome::timed_out;
        return result;
    }
    reap(pid);
    if (got.empty()) {
        result.outcome = ChildOutcome::crashed;
        return result;
    }
    result.outcome = got[0] == '0' ? ChildOutcome::ok : ChildOutcome::failed;
    result.text = got.substr(1, max_bytes);
    return result;
}

} // namespace goinstall
