#include "handover_scout.hpp"

#include <atomic>
#include <thread>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"
#include "stall_watch.hpp"

namespace goinstall {

namespace {

// A counting sink that keeps nothing: a scout's bytes are only measured, up to the last one (the
// scout's time ends there, not when its thread gets round to reporting).
class DiscardSink final : public BodySink {
public:
    explicit DiscardSink(Clock& clock) : m_clock(clock) {}
    Status on_response(const Response&) override { return {}; }
    Status on_data(std::span<const unsigned char> data) override {
        bytes += data.size();
        last = m_clock.now();
        return {};
    }
    std::uint64_t bytes = 0;
    std::optional<Clock::TimePoint> last;

private:
    Clock& m_clock;
};

} // namespace

// One scout on its own thread. The thread fills `sink`, `response` and `took`, then sets `done`;
// the caller reads them only after seeing `done` (or after joining).
struct HandoverScout::Flight {
    explicit Flight(Clock& clock) : sink(clock) {}

    std::size_t to = 0;
    double from_rate = 0; // the current transfer's rate when the scout set out
    Clock::TimePoint started;
    CancelToken cancel;
    DiscardSink sink;
    Result<Response> response = Response{};
    std::chrono::milliseconds took{0};
    std::atomic<bool> done{false};
    std::thread thread;

    void end() {
        cancel.cancel_and_notify();
        if (thread.joinable()) thread.join();
    }
};

HandoverScout::HandoverScout(Setup setup) : m(setup), m_scouts(m.options.mirrors.size(), 0) {}

HandoverScout::~HandoverScout() { stop(); }

void HandoverScout::stop() {
    if (m_flight) m_flight->end();
    m_flight.reset();
}

std::optional<std::size_t> HandoverScout::pick(std::size_t from, const std::vector<std::size_t>& order,
                                               const MirrorBoard& board) const {
    for (std::size_t k : order) {
        if (k != from && m_scouts[k] < 1 && board.idle_from(k) == k) return k;
    }
    return std::nullopt;
}

std::optional<Handover> HandoverScout::check(std::size_t from, std::uint64_t at, double rate,
                                             std::chrono::nanoseconds running, const std::vector<std::size_t>& order,
                                             const MirrorBoard& board) {
    const auto now = m.clock.now();
    if (m_flight) {
        if (m_flight->done.load(std::memory_order_acquire)) return land(from);
        const bool cancelled = m.cancel != nullptr && m.cancel->cancelled();
        if ((cancelled || now - m_flight->started >= k_deadline) && !m_flight->cancel.cancelled()) {
            m_flight->cancel.cancel_and_notify(); // it lands, measured as it stands, at a later call
        }
        return std::nullopt;
    }
    const auto size = m.target.expected_size;
    if (size == 0 || at >= size || rate <= 0 || running < k_after) return std::nullopt;
    if (static_cast<double>(size - at) / rate < static_cast<double>(k_if_left.count())) return std::nullopt;
    if (m_last && now - *m_last < k_spacing) return std::nullopt;
    const auto j = pick(from, order, board);
    if (!j) return std::nullopt;
    ++m_scouts[*j];
    m_last = now;
    const auto& known = m.options.expected_rates;
    if (*j < known.size() && known[*j] > 0) return judge(rate, *j, known[*j], "its probe");
    if (size <= 2 * k_bytes) return std::nullopt;

    Request req{.url = join_url(m.options.mirrors[*j].base_url, m.target.filename), .limits = m.options.limits};
    req.range_start = size - k_bytes;
    req.range_end = size - 1;
    req.limits.total_timeout = k_deadline;
    m_flight = std::make_unique<Flight>(m.clock);
    Flight& f = *m_flight;
    f.to = *j;
    f.from_rate = rate;
    f.started = now;
    f.thread = std::thread([this, &f, req = std::move(req)] {
        auto resp = m.transport.fetch(req, f.sink, &f.cancel);
        f.took = std::chrono::duration_cast<std::chrono::milliseconds>(f.sink.last.value_or(f.started) - f.started);
        f.response = std::move(resp);
        f.done.store(true, std::memory_order_release);
    });
    return std::nullopt;
}

// The scout is back: say what it saw, and judge.
std::optional<Handover> HandoverScout::land(std::size_t from) {
    m_flight->thread.join();
    const Flight& f = *m_flight;
    const std::uint64_t bytes = f.sink.bytes;
    const double secs = std::max(0.001, std::chrono::duration<double>(f.took).count());
    const double seen = f.response && f.response->status == 206 ? static_cast<double>(bytes) / secs : 0;
    m.events.emit(Event{EventKind::info, "scouted " + name(f.to) + ": " + human_rate(seen) + " against " +
                                             human_rate(f.from_rate) + " from " + name(from)}
                      .with("scout", name(f.to))
                      .with("bytes", static_cast<std::int64_t>(bytes))
                      .with("rate", seen)
                      .with("current", name(from))
                      .with("current_rate", f.from_rate));
    auto verdict = judge(f.from_rate, f.to, seen, "a " + human_bytes(bytes) + " scout");
    m_flight.reset();
    return verdict;
}

std::optional<Handover> HandoverScout::judge(double rate, std::size_t to, double seen, const std::string& how) const {
    if (seen < k_factor * rate) return std::nullopt;
    return Handover{.to = to,
                    .reason = "is slow (" + human_rate(rate) + "); " + name(to) + " showed " + human_rate(seen) + " (" +
                              how + "): handing the rest over",
                    .from_rate = rate,
                    .to_rate = seen};
}

} // namespace goinstall
