#pragma once
// Time behind an interface so retry and cache-age logic can be tested without sleeping.

#include <chrono>

namespace goinstall {

class Clock {
public:
    virtual ~Clock() = default;
    virtual std::chrono::steady_clock::time_point now() const = 0;
    virtual std::chrono::system_clock::time_point wall_now() const = 0;
    virtual void sleep_for(std::chrono::milliseconds d) = 0;
};

class SystemClock final : public Clock {
public:
    std::chrono::steady_clock::time_point now() const override;
    std::chrono::system_clock::time_point wall_now() const override;
    void sleep_for(std::chrono::milliseconds d) override;
};

} // namespace goinstall
