#pragma once
// Cooperative cancellation: the CLI's signal handler sets the flag; long operations poll it.

#include <atomic>

namespace goinstall {

class CancelToken {
public:
    // Async-signal-safe.
    void cancel() noexcept { m_flag.store(true, std::memory_order_relaxed); }
    bool cancelled() const noexcept { return m_flag.load(std::memory_order_relaxed); }

private:
    std::atomic<bool> m_flag{false};
};

} // namespace goinstall
