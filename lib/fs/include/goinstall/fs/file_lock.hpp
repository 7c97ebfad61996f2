#pragma once
// An exclusive advisory lock on a file (flock). The kernel drops it when the process dies, so a
// lock can never be left stale by a crash or SIGKILL.

#include <chrono>
#include <filesystem>
#include <functional>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/clock.hpp"
#include "goinstall/base/error.hpp"

namespace goinstall {

class FileLock {
public:
    FileLock(FileLock&& other) noexcept;
    FileLock& operator=(FileLock&& other) noexcept;
    FileLock(const FileLock&) = delete;
    FileLock& operator=(const FileLock&) = delete;
    ~FileLock();

    // Creates `path` if needed (its directory must exist) and takes the lock, polling until `timeout`
    // has passed. `on_wait` is called once if the lock is busy at first. Fails with lock_timeout,
    // cancelled, or a filesystem error naming the path. The timeout and the pauses between polls run
    // on `clock` (null: the system clock).
    static Result<FileLock> acquire(const std::filesystem::path& path, std::chrono::milliseconds timeout,
                                    const CancelToken* cancel = nullptr, const std::function<void()>& on_wait = {},
                                    Clock* clock = nullptr);

private:
    explicit FileLock(int fd) : m_fd(fd) {}
    int m_fd = -1;
};

} // namespace goinstall
