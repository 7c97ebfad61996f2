#pragma once
// A Transport whose transfers take time on a FakeClock: each URL serves one body at a scripted rate
// (the clock advances by each chunk's share before the chunk is delivered), honours Range
// (range_start, range_end), and may go silent after a byte offset of the file: it then keeps
// calling the progress function every 200 ms of clock time without data, as curl does, until the
// request is cancelled or `silence_limit` has passed (then it fails as curl's low-speed limit
// would). No sleeps: time is the fake clock's. Thread-safe; the accessors are for after the fetches.

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fake_clock.hpp"
#include "fake_transport.hpp"
#include "goinstall/net/transport.hpp"

namespace goinstall::test {

struct Paced {
    std::string body;
    double bytes_per_second = 1e6;
    std::size_t chunk = 16384;
    std::optional<std::uint64_t> silent_at; // file offset where the data stops coming
};

class PacedTransport final : public Transport {
public:
    explicit PacedTransport(FakeClock& clock) : m_clock(clock) {}

    PacedTransport& serve(const std::string& url, Paced p) {
        std::lock_guard lock(m_mu);
        m_serve[url] = std::move(p);
        return *this;
    }

    Result<Response> fetch(const Request& request, BodySink& sink, const CancelToken* cancel,
                           const ProgressFn& progress = {}) override {
        Paced p;
        {
            std::lock_guard lock(m_mu);
            m_requests.push_back(request);
            auto it = m_serve.find(request.url);
            if (it == m_serve.end()) return std::unexpected(net_error(NetPhase::connect, 7, request.url));
            p = it->second;
        }
        const std::uint64_t size = p.body.size();
        const std::uint64_t from = request.range_start;
        const std::uint64_t to = request.range_end > 0 ? std::min(request.range_end + 1, size) : size;
        Response r;
        r.effective_url = request.url;
        r.status = from > 0 || request.range_end > 0 ? 206 : 200;
        if (r.status == 206) {
            r.headers["content-range"] =
                "bytes " + std::to_string(from) + "-" + std::to_string(to - 1) + "/" + std::to_string(size);
        }
        if (auto st = sink.on_response(r); !st) return std::unexpected(st.error());
        auto is_cancelled = [&] { return cancel != nullptr && cancel->cancelled(); };
        auto cancelled = [&] { return std::unexpected(Error(ErrorCode::cancelled, "cancelled: " + request.url)); };
        std::uint64_t at = from;
        while (at < to) {
            if (p.silent_at && at >= *p.silent_at) {
                for (auto quiet = std::chrono::milliseconds(0); quiet < silence_limit;
                     quiet += std::chrono::milliseconds(200)) {
                    m_clock.advance(std::chrono::milliseconds(200));
                    if (progress) progress(at - from, to - from);
                    if (is_cancelled()) return cancelled();
                }
                return std::unexpected(net_error(NetPhase::body, 28, request.url));
            }
            std::uint64_t n = std::min<std::uint64_t>(p.chunk, to - at);
            if (p.silent_at && at < *p.silent_at) n = std::min<std::uint64_t>(n, *p.silent_at - at);
            m_clock.advance(std::chrono::milliseconds(
                static_cast<std::int64_t>(1000.0 * static_cast<double>(n) / p.bytes_per_second)));
            auto st = sink.on_data(std::span<const unsigned char>(
                reinterpret_cast<const unsigned char*>(p.body.data()) + at, static_cast<std::size_t>(n)));
            if (!st) return std::unexpected(st.error());
            at += n;
            if (progress) progress(at - from, to - from);
            if (is_cancelled()) return cancelled();
        }
        r.body_bytes = to - from;
        return r;
    }

    std::vector<Request> requests_to(const std::string& url) const {
        std::lock_guard lock(m_mu);
        std::vector<Request> out;
        for (const auto& r : m_requests) {
            if (r.url == url) out.push_back(r);
        }
        return out;
    }

    std::chrono::milliseconds silence_limit{30000}; // curl's low-speed limit (stall_time)

private:
    FakeClock& m_clock;
    mutable std::mutex m_mu;
    std::map<std::string, Paced> m_serve;
    std::vector<Request> m_requests;
};

} // namespace goinstall::test
