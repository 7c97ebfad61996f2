#include "goinstall/download/probe.hpp"

#include <algorithm>
#include <thread>

#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"

namespace goinstall {

namespace {

// Counts bytes and stops the transfer once the sample is complete.
class SampleSink final : public BodySink {
public:
    SampleSink(std::uint64_t limit, const Clock& clock) : m_limit(limit), m_clock(clock) {}
    Status on_response(const Response&) override {
        m_head = m_clock.now();
        m_first = m_head;
        return {};
    }
    Status on_data(std::span<const unsigned char> data) override {
        m_bytes += data.size();
        m_last = m_clock.now();
        if (m_bytes >= m_limit) {
            return fail(ErrorCode::cancelled, "sample complete");
        }
        return {};
    }
    std::uint64_t m_limit;
    const Clock& m_clock;
    std::uint64_t m_bytes = 0;
    Clock::TimePoint m_head{}, m_first{}, m_last{};
};

} // namespace

std::vector<ProbeResult> probe_mirrors(Transport& transport, const std::vector<Mirror>& mirrors,
                                       const std::string& filename, const ProbeOptions& options,
                                       const CancelToken* cancel) {
    std::vector<ProbeResult> results(mirrors.size());
    const SystemClock system_clock;
    const Clock& clock = options.clock ? *options.clock : system_clock;
    std::vector<std::thread> threads;
    for (std::size_t i = 0; i < mirrors.size(); ++i) {
        threads.emplace_back([&, i] {
            ProbeResult& r = results[i];
            r.mirror = mirrors[i];
            Request req{.url = join_url(mirrors[i].base_url, filename), .limits = options.limits};
            req.limits.total_timeout = options.time_limit;
            req.limits.stall_time = std::chrono::seconds(std::max<std::int64_t>(
                1, std::chrono::duration_cast<std::chrono::seconds>(options.time_limit).count()));
            SampleSink sink(options.sample_bytes, clock);
            auto start = clock.now();
            auto resp = transport.fetch(req, sink, cancel);
            r.bytes = sink.m_bytes;
            if (sink.m_head != Clock::TimePoint{}) {
                r.head_time = std::chrono::duration_cast<std::chrono::milliseconds>(sink.m_head - start);
                // A sample that arrived within the clock's resolution (a loopback mirror) is fast,
                // not 0 B/s: count it as taking 1 us.
                auto secs = std::chrono::duration<double>(sink.m_last - sink.m_first).count();
                r.bytes_per_second = r.bytes > 0 ? static_cast<double>(r.bytes) / std::max(secs, 1e-6) : 0.0;
            }
            bool sampled = !resp && resp.error().message() == "sample complete";
            if (resp) {
                r.http_status = resp->status;
                r.ok = resp->ok() && r.bytes > 0;
                if (!resp->ok()) r.error = "HTTP " + std::to_string(resp->status);
            } else if (sampled) {
                r.ok = true;
                r.http_status = 200;
            } else if (r.bytes > 0 && resp.error().net() && resp.error().net()->phase == NetPhase::body) {
                // Slow but working: the time limit ended the sample; the rate measured so far stands.
                r.ok = true;
                r.http_status = resp.error().net()->http_status;
            } else {
                r.error = sanitize_for_display(resp.error().message(), 160);
                if (resp.error().net()) r.http_status = resp.error().net()->http_status;
            }
        });
    }
    for (auto& t : threads) t.join();
    return results;
}

std::vector<ProbeResult> rank_probes(std::vector<ProbeResult> results) {
    std::stable_sort(results.begin(), results.end(), [](const ProbeResult& a, const ProbeResult& b) {
        if (a.ok != b.ok) return a.ok;
        if (!a.ok) return false;
        if (a.bytes_per_second != b.bytes_per_second) return a.bytes_per_second > b.bytes_per_second;
        return a.head_time < b.head_time;
    });
    return results;
}

} // namespace goinstall
