#include <cerrno>

#include <fcntl.h>
#include <unistd.h>

#include "goinstall/archive/stream_extract.hpp"

namespace goinstall {

Result<std::size_t> FdSource::read(std::span<unsigned char> buf) {
    for (;;) {
        const ssize_t n = ::read(m_fd, buf.data(), buf.size());
        if (n >= 0) {
            return static_cast<std::size_t>(n);
        }
        if (errno != EINTR) {
            return std::unexpected(errno_error(errno, "reading", m_display));
        }
    }
}

GrowingFileSource::~GrowingFileSource() {
    if (m_fd >= 0) {
        ::close(m_fd);
    }
}

void GrowingFileSource::attach(int fd) {
    std::lock_guard lock(m_mutex);
    if (m_fd < 0) {
        m_fd = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
        if (m_fd < 0 && !m_error) {
            m_error = errno_error(errno, "duplicating the download's file descriptor", "");
        }
        m_changed.notify_all();
    }
}

void GrowingFileSource::grow(std::uint64_t size) {
    std::lock_guard lock(m_mutex);
    if (size > m_size) {
        m_size = size;
        m_changed.notify_all();
    }
}

void GrowingFileSource::reset() {
    std::lock_guard lock(m_mutex);
    m_restarted = true;
    m_changed.notify_all();
}

void GrowingFileSource::finish() {
    std::lock_guard lock(m_mutex);
    m_finished = true;
    m_changed.notify_all();
}

void GrowingFileSource::abort(Error error) {
    std::lock_guard lock(m_mutex);
    if (!m_error) {
        m_error = std::move(error);
    }
    m_changed.notify_all();
}

bool GrowingFileSource::restarted() const {
    std::lock_guard lock(m_mutex);
    return m_restarted;
}

std::uint64_t GrowingFileSource::consumed() const {
    std::lock_guard lock(m_mutex);
    return m_pos;
}

Result<std::size_t> GrowingFileSource::read(std::span<unsigned char> buf) {
    if (buf.empty()) {
        return 0;
    }
    std::uint64_t pos = 0;
    std::size_t want = 0;
    int fd = -1;
    {
        std::unique_lock lock(m_mutex);
        m_changed.wait(lock, [&] {
            return m_restarted || m_error || (m_fd >= 0 && m_size > m_pos) || (m_finished && m_size <= m_pos);
        });
        if (m_restarted) {
            return fail(ErrorCode::internal, "the stream restarted");
        }
        if (m_error) {
            return std::unexpected(*m_error);
        }
        if (m_size <= m_pos) {
            return 0; // finished
        }
        pos = m_pos;
        want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), m_size - m_pos));
        fd = m_fd;
    }
    // The file is only appended to below m_size (a truncation is announced by reset() first), so
    // the bytes can be read without the lock. m_fd is closed only by the destructor.
    std::size_t got = 0;
    while (got < want) {
        const ssize_t n = ::pread(fd, buf.data() + got, want - got, static_cast<off_t>(pos + got));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            const int err = n < 0 ? errno : EIO;
            std::lock_guard lock(m_mutex);
            if (m_restarted) {
                return fail(ErrorCode::internal, "the stream restarted");
            }
            return std::unexpected(errno_error(err, "reading the download's part file", ""));
        }
        got += static_cast<std::size_t>(n);
    }
    std::lock_guard lock(m_mutex);
    if (m_restarted) { // the bytes may be from after the truncation
        return fail(ErrorCode::internal, "the stream restarted");
    }
    m_pos += got;
    return got;
}

} // namespace goinstall
