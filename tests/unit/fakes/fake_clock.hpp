#pragma once
// A Clock whose sleep_for only advances time and records what was asked, so retry tests never sleep.

#include <chrono>
#include <vector>

#include "goinstall/base/clock.hpp"

namespace goinstall::test {

class FakeClock final : public Clock {
public:
    // Wall time starts at 2024-01-01T00:00:00Z (1704067200) so HTTP dates are easy to write.
    FakeClock() : m_wall(std::chrono::seconds(1704067200)) {}

    std::chrono::steady_clock::time_point now() const override { return m_steady; }
    std::chrono::system_clock::time_point wall_now() const override { return m_wall; }
    void sleep_for(std::chrono::milliseconds d) override {
        m_sleeps.push_back(d);
        advance(d);
    }

    void advance(std::chrono::milliseconds d) {
        m_steady += d;
        m_wall += d;
    }
    const std::vector<std::chrono::milliseconds>& sleeps() const { return m_sleeps; }
    std::chrono::milliseconds total_slept() const {
        std::chrono::milliseconds sum{0};
        for (auto s : m_sleeps) sum += s;
        return sum;
    }

private:
    std::chrono::steady_clock::time_point m_steady{std::chrono::hours(1000)};
    std::chrono::system_clock::time_point m_wall;
    std::vector<std::chrono::milliseconds> m_sleeps;
};

} // namespace goinstall::test
