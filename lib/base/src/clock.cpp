#include "goinstall/base/clock.hpp"

#include <thread>

namespace goinstall {

void Clock::wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, TimePoint until) {
    if (until == TimePoint::max()) {
        cv.wait(lock);
    } else {
        cv.wait_until(lock, until);
    }
}

Clock::TimePoint SystemClock::now() const { return std::chrono::steady_clock::now(); }

std::chrono::system_clock::time_point SystemClock::wall_now() const { return std::chrono::system_clock::now(); }

void SystemClock::sleep_for(std::chrono::milliseconds d) { std::this_thread::sleep_for(d); }

} // namespace goinstall
