#pragma once
// Cooperative cancellation: long operations poll cancelled(). A signal handler may call cancel()
// (it only sets a flag); thread code may call cancel_and_notify() to also run the callbacks that
// blocking operations registered to wake themselves (e.g. shutting down a socket stuck in connect).

#include <atomic>
#include <functional>
#include <map>
#include <mutex>

namespace goinstall {

class CancelToken {
public:
    // Async-signal-safe.
    void cancel() noexcept { m_flag.store(true, std::memory_order_relaxed); }
    bool cancelled() const noexcept { return m_flag.load(std::memory_order_relaxed); }

    // Not signal-safe: sets the flag, then runs every registered callback.
    void cancel_and_notify() {
        cancel();
        std::lock_guard lock(m_mu);
        for (auto& [id, fn] : m_callbacks) fn();
    }
    // Registers `fn` to run on cancel_and_notify(); returns an id for unsubscribe. The callback runs
    // on the cancelling thread with the token's lock held: keep it short and non-blocking.
    // const: registering a listener does not change whether the token is cancelled.
    int subscribe(std::function<void()> fn) const {
        std::lock_guard lock(m_mu);
        m_callbacks.emplace(++m_next, std::move(fn));
        return m_next;
    }
    void unsubscribe(int id) const {
        std::lock_guard lock(m_mu);
        m_callbacks.erase(id);
    }

private:
    std::atomic<bool> m_flag{false};
    mutable std::mutex m_mu;
    mutable std::map<int, std::function<void()>> m_callbacks;
    mutable int m_next = 0;
};

} // namespace goinstall
