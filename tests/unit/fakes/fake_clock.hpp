#pragma once
// A Clock whose sleep_for only advances time and records what was asked, so retry tests never sleep.
// Timed waits (Clock::wait_until) follow the mode: auto_advance (the default) jumps to the end of the
// wait at once, as if nothing happened in the meantime; hold never moves time, so such a wait ends
// only when notified (or when a test advances the clock past it). Untimed waits block until notified.
// Safe to read and advance from several threads (the downloader races mirrors on threads).

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

#include "goinstall/base/clock.hpp"

namespace goinstall::test {

class FakeClock final : public Clock {
public:
    enum class Mode { auto_advance, hold };

    // Wall time starts at 2024-01-01T00:00:00Z (1704067200) so HTTP dates are easy to write.
    FakeClock() : m_wall(std::chrono::seconds(1704067200)) {}

    TimePoint now() const override {
        std::lock_guard lock(m_mu);
        return m_steady;
    }
    std::chrono::system_clock::time_point wall_now() const override {
        std::lock_guard lock(m_mu);
        return m_wall;
    }
    void sleep_for(std::chrono::milliseconds d) override {
        {
            std::lock_guard lock(m_mu);
            m_sleeps.push_back(d);
        }
        advance(d);
    }
    void wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, TimePoint until) override {
        if (until == TimePoint::max() || mode() == Mode::hold) {
            if (now() < until) cv.wait(lock);
            return;
        }
        std::chrono::milliseconds d{0};
        {
            std::lock_guard guard(m_mu);
            if (until > m_steady) d = std::chrono::ceil<std::chrono::milliseconds>(until - m_steady);
            m_waits.push_back(d);
        }
        advance(d);
        // Let the threads the caller waits for run: a real wait would release the lock.
        lock.unlock();
        std::this_thread::yield();
        lock.lock();
    }

    void advance(std::chrono::milliseconds d) {
        std::lock_guard lock(m_mu);
        m_steady += d;
        m_wall += d;
    }
    void set_mode(Mode m) {
        std::lock_guard lock(m_mu);
        m_mode = m;
    }
    Mode mode() const {
        std::lock_guard lock(m_mu);
        return m_mode;
    }
    // What sleep_for was asked, in order.
    std::vector<std::chrono::milliseconds> sleeps() const {
        std::lock_guard lock(m_mu);
        return m_sleeps;
    }
    // How far each timed wait moved the clock (auto_advance only), in order.
    std::vector<std::chrono::milliseconds> waits() const {
        std::lock_guard lock(m_mu);
        return m_waits;
    }
    std::chrono::milliseconds total_slept() const {
        std::chrono::milliseconds sum{0};
        for (auto s : sleeps()) sum += s;
        return sum;
    }

private:
    mutable std::mutex m_mu;
    Mode m_mode = Mode::auto_advance;
    TimePoint m_steady{std::chrono::hours(1000)};
    std::chrono::system_clock::time_point m_wall;
    std::vector<std::chrono::milliseconds> m_sleeps;
    std::vector<std::chrono::milliseconds> m_waits;
};

} // namespace goinstall::test
