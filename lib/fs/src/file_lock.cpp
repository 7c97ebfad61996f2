#include "goinstall/fs/file_lock.hpp"

#include <cerrno>
#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace goinstall {

FileLock::FileLock(FileLock&& other) noexcept : m_fd(other.m_fd) { other.m_fd = -1; }

FileLock& FileLock::operator=(FileLock&& other) noexcept {
    if (this != &other) {
        if (m_fd >= 0) {
            ::close(m_fd);
        }
        m_fd = other.m_fd;
        other.m_fd = -1;
    }
    return *this;
}

FileLock::~FileLock() {
    if (m_fd >= 0) {
        ::close(m_fd); // closing the descriptor releases the flock
    }
}

Result<FileLock> FileLock::acquire(const std::filesystem::path& path, std::chrono::milliseconds timeout,
                                   const CancelToken* cancel, const std::function<void()>& on_wait, Clock* clock) {
    SystemClock system_clock;
    Clock& time = clock != nullptr ? *clock : system_clock;
    int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        return std::unexpected(errno_error(errno, "cannot open lock file", path.string()));
    }
    FileLock lock(fd);
    auto deadline = time.now() + timeout;
    bool waited = false;
    // Poll rather than block so that the timeout and cancellation are honoured.
    auto delay = std::chrono::milliseconds(10);
    while (true) {
        if (::flock(fd, LOCK_EX | LOCK_NB) == 0) {
            return lock;
        }
        if (errno != EWOULDBLOCK && errno != EINTR) {
            return std::unexpected(errno_error(errno, "cannot lock", path.string()));
        }
        if (!waited) {
            waited = true;
            if (on_wait) {
                on_wait();
            }
        }
        if (cancel != nullptr && cancel->cancelled()) {
            return fail(ErrorCode::cancelled, "cancelled while waiting for the lock " + path.string());
        }
        if (time.now() >= deadline) {
            return fail(ErrorCode::lock_timeout, "another goinstall process holds " + path.string() + " (waited " +
                                                     std::to_string(timeout.count() / 1000) +
                                                     " s; raise --lock-timeout)");
        }
        time.sleep_for(delay);
        delay = std::min(delay * 2, std::chrono::milliseconds(200));
    }
}

} // namespace goinstall
