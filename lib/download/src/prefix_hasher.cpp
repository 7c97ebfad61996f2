#include "prefix_hasher.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <vector>

namespace goinstall {

namespace {

// A fixed buffer: memory stays bounded however far the download runs ahead of the hashing.
constexpr std::size_t k_read_size = 1 << 20;

} // namespace

PrefixHasher::PrefixHasher(std::filesystem::path part) : m_path(std::move(part)), m_thread([this] { run(); }) {}

PrefixHasher::~PrefixHasher() {
    if (m_thread.joinable()) {
        {
            std::lock_guard lock(m_mu);
            m_stop = true;
        }
        m_cv.notify_all();
        m_thread.join();
    }
}

void PrefixHasher::advance(std::uint64_t size) {
    {
        std::lock_guard lock(m_mu);
        if (size <= m_target) return;
        m_target = size;
    }
    m_cv.notify_all();
}

void PrefixHasher::reset() {
    std::lock_guard lock(m_mu);
    ++m_generation; // the thread empties its hash when it sees this
    m_target = 0;
    m_hashed = 0;
    m_failed = false;
}

void PrefixHasher::run() {
    std::vector<unsigned char> buf(k_read_size);
    int fd = -1;
    std::uint64_t generation = 0;
    std::unique_lock lock(m_mu);
    for (;;) {
        m_cv.wait(lock, [this, generation] {
            return m_stop || generation != m_generation || (!m_failed && m_hashed < m_target);
        });
        if (generation != m_generation) { // reset: what was hashed belongs to the old content
            m_hash.reset();
            generation = m_generation;
        }
        if (m_stop) break;
        if (m_failed || m_hashed >= m_target) continue;
        const std::uint64_t from = m_hashed;
        const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buf.size(), m_target - from));
        lock.unlock();
        if (fd < 0) fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
        ssize_t n = -1;
        if (fd >= 0) {
            do {
                n = ::pread(fd, buf.data(), want, static_cast<off_t>(from));
            } while (n < 0 && errno == EINTR);
        }
        if (n > 0) m_hash.update(std::span<const unsigned char>(buf.data(), static_cast<std::size_t>(n)));
        lock.lock();
        if (generation != m_generation) continue; // reset while reading: dropped at the loop's top
        if (n <= 0) {
            m_failed = true; // the caller hashes the rest from the file, and reports the error
        } else {
            m_hashed = from + static_cast<std::uint64_t>(n);
        }
        m_cv.notify_all(); // finish() may be waiting for this
    }
    lock.unlock();
    if (fd >= 0) ::close(fd);
}

std::optional<PrefixHasher::Prefix> PrefixHasher::finish(std::uint64_t limit) {
    {
        std::unique_lock lock(m_mu);
        if (m_hashed <= limit) {
            m_target = limit; // the phase's final prefix: hash up to it, not past it
            m_cv.notify_all();
            m_cv.wait(lock, [this] { return m_failed || m_hashed >= m_target; });
        }
        m_stop = true;
    }
    m_cv.notify_all();
    if (m_thread.joinable()) m_thread.join();
    if (m_hashed > limit) return std::nullopt; // cannot take bytes back out of a hash
    return Prefix{.state = std::move(m_hash), .bytes = m_hashed};
}

std::uint64_t PrefixHasher::hashed() const {
    std::lock_guard lock(m_mu);
    return m_hashed;
}

void HashingObserver::on_open(int fd) {
    if (m_inner != nullptr) m_inner->on_open(fd);
}

void HashingObserver::on_contiguous(std::uint64_t size) {
    m_hasher.advance(size);
    if (m_inner != nullptr) m_inner->on_contiguous(size);
}

void HashingObserver::on_truncate() {
    m_hasher.reset();
    if (m_inner != nullptr) m_inner->on_truncate();
}

} // namespace goinstall
