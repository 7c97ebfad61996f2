#pragma once
// Time behind an interface so retry and cache-age logic can be tested without sleeping.

#include <chrono>
#include <condition_variable>
#include <mutex>

namespace goinstall {

class Clock {
public:
    using TimePoint = std::chrono::steady_clock::time_point;

    virtual ~Clock() = default;
    virtual TimePoint now() const = 0;
    virtual std::chrono::system_clock::time_point wall_now() const = 0;
    virtual void sleep_for(std::chrono::milliseconds d) = 0;
    // Blocks on `cv` (`lock` holds its mutex) until it is notified or this clock reads `until`
    // (TimePoint::max(): no time limit). May return early or spuriously: callers re-check their
    // condition and the time. The default waits on real time (right for SystemClock).
    virtual void wait_until(std::condition_variable& cv, std::unique_lock<std::mutex>& lock, TimePoint until);
};

class SystemClock final : public Clock {
public:
    TimePoint now() const override;
    std::chrono::system_clock::time_point wall_now() const override;
    void sleep_for(std::chrono::milliseconds d) override;
};

} // namespace goinstall
