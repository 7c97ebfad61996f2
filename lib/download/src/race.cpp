#include "race.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>

namespace goinstall {

namespace {

constexpr int k_no_winner = -1;

struct Arbiter {
    std::mutex mu;
    std::condition_variable cv;
    int winner = k_no_winner;
    bool done[2] = {false, false};
};

// Forwards to the shared sink once this entrant has won; refuses the head otherwise.
class RaceSink final : public BodySink {
public:
    RaceSink(Arbiter& arbiter, int id, BodySink& target) : m_arbiter(arbiter), m_id(id), m_target(target) {}

    Status on_response(const Response& head) override {
        {
            std::lock_guard lock(m_arbiter.mu);
            if (m_arbiter.winner == k_no_winner) {
                m_arbiter.winner = m_id;
            }
            if (m_arbiter.winner != m_id) {
                return fail(ErrorCode::cancelled, "another mirror answered first");
            }
        }
        m_arbiter.cv.notify_all();
        return m_target.on_response(head);
    }
    Status on_data(std::span<const unsigned char> data) override { return m_target.on_data(data); }

private:
    Arbiter& m_arbiter;
    int m_id;
    BodySink& m_target;
};

struct Runner {
    RaceOutcome outcome;
    CancelToken cancel;
    std::thread thread;
};

} // namespace

std::vector<RaceOutcome> race_fetch(Transport& transport, Clock& clock, BodySink& sink, const RaceEntrant& primary,
                                    const std::optional<RaceEntrant>& secondary, std::chrono::milliseconds head_start,
                                    const CancelToken* parent,
                                    const std::function<void(std::size_t, std::uint64_t, std::uint64_t)>& progress,
                                    const CancelToken* abandon) {
    Arbiter arbiter;
    Runner runners[2];
    RaceSink sinks[2] = {RaceSink(arbiter, 0, sink), RaceSink(arbiter, 1, sink)};

    auto start = [&](int id, const RaceEntrant& e) {
        Runner& r = runners[id];
        r.outcome.mirror = e.mirror;
        r.thread = std::thread([&, id, request = e.request] {
            const auto t0 = clock.now();
            ProgressFn pf = [&, id](std::uint64_t got, std::uint64_t total) {
                bool mine;
                {
                    std::lock_guard lock(arbiter.mu);
                    mine = arbiter.winner == id;
                }
                if (mine && progress) progress(runners[id].outcome.mirror, got, total);
                if (mine && abandon != nullptr && abandon->cancelled()) runners[id].cancel.cancel_and_notify();
            };
            auto resp = transport.fetch(request, sinks[id], &runners[id].cancel, pf);
            std::lock_guard lock(arbiter.mu);
            runners[id].outcome.response = std::move(resp);
            runners[id].outcome.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(clock.now() - t0);
            arbiter.done[id] = true;
            arbiter.cv.notify_all();
        });
    };

    // Waits until `pred` holds or the clock reads `until`, propagating the parent's cancellation to
    // both runners (once: a loser's token is already cancelled, so that cannot be the test).
    // Returns pred().
    bool propagated = false;
    auto wait_until = [&](std::unique_lock<std::mutex>& lock, auto pred, std::optional<Clock::TimePoint> until) {
        while (!pred()) {
            if (parent != nullptr && parent->cancelled() && !propagated) {
                propagated = true;
                lock.unlock();
                runners[0].cancel.cancel_and_notify();
                runners[1].cancel.cancel_and_notify();
                lock.lock();
                continue;
            }
            const auto now = clock.now();
            if (until && now >= *until) return false;
            auto step = until.value_or(Clock::TimePoint::max());
            if (parent != nullptr) step = std::min(step, now + std::chrono::milliseconds(50));
            clock.wait_until(arbiter.cv, lock, step);
        }
        return true;
    };

    start(0, primary);
    bool second_started = false;
    {
        std::unique_lock lock(arbiter.mu);
        const auto head_deadline = clock.now() + head_start;
        bool settled = wait_until(
            lock, [&] { return arbiter.winner != k_no_winner || arbiter.done[0]; },
            secondary ? std::optional(head_deadline) : std::nullopt);
        if (!settled && secondary) {
            lock.unlock();
            start(1, *secondary);
            second_started = true;
            lock.lock();
            // Until someone wins, or both have ended.
            wait_until(
                lock, [&] { return arbiter.winner != k_no_winner || (arbiter.done[0] && arbiter.done[1]); },
                std::nullopt);
            if (arbiter.winner != k_no_winner) {
                // Wake the loser at once, even if it is stuck in connect() to a blackholed host.
                lock.unlock();
                runners[1 - arbiter.winner].cancel.cancel_and_notify();
                lock.lock();
            }
        }
        // The winner (or the lone primary) runs to its end.
        wait_until(
            lock, [&] { return arbiter.done[0] && (!second_started || arbiter.done[1]); }, std::nullopt);
    }
    std::vector<RaceOutcome> out;
    for (int id = 0; id < (second_started ? 2 : 1); ++id) {
        runners[id].thread.join();
        runners[id].outcome.won = arbiter.winner == id;
        runners[id].outcome.lost = arbiter.winner != k_no_winner && arbiter.winner != id &&
                                   !runners[id].outcome.response &&
                                   runners[id].outcome.response.error().code() == ErrorCode::cancelled;
        out.push_back(std::move(runners[id].outcome));
    }
    return out;
}

} // namespace goinstall
