#pragma once
// A scripted Transport: a queue of responses per URL, every Request recorded. It follows the
// Transport contract: 2xx bodies go to sink.on_response then on_data in chunks; non-2xx bodies go to
// Response::error_body; sink errors are returned unchanged. fetch may be called from several threads
// (the downloader races mirrors); the accessors are for after the fetches.

#include <algorithm>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <iterator>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "goinstall/net/transport.hpp"

namespace goinstall::test {

// A transport failure shaped like CurlTransport's: code, phase, curl code, message naming the URL.
inline Error net_error(NetPhase phase, int curl_code, const std::string& url, ErrorCode code = ErrorCode::network) {
    return Error(code, std::string("fake ") + to_string(phase) + " failure (curl " + std::to_string(curl_code) +
                           ") for " + url)
        .with_net(NetDetail{.phase = phase, .curl_code = curl_code, .url = url});
}

struct Scripted {
    long status = 200;
    std::map<std::string, std::string> headers; // lowercase names
    std::string body;
    // Honour Range on a scripted 200: serve body.substr(range_start) as a 206 with Content-Range
    // (or 416 past the end), unless If-Range names neither this ETag nor this Last-Modified.
    bool ranges = false;
    // With fail_after: fail with `error` after that many bytes of this response's body. Without:
    // fail with `error` before any response.
    std::optional<std::uint64_t> fail_after;
    std::optional<Error> error;
    std::size_t chunk = 1000;
    // Never answer: block until the request's cancel token is cancelled (notified), then fail with
    // `cancelled` — a blackholed host, for the race tests.
    bool hang = false;

    static Scripted ok(std::string body, std::map<std::string, std::string> headers = {}) {
        Scripted s;
        s.body = std::move(body);
        s.headers = std::move(headers);
        return s;
    }
    static Scripted with_status(long status, std::map<std::string, std::string> headers = {}, std::string body = "") {
        Scripted s;
        s.status = status;
        s.headers = std::move(headers);
        s.body = std::move(body);
        return s;
    }
    static Scripted hang_until_cancelled() {
        Scripted s;
        s.hang = true;
        return s;
    }
    static Scripted failure(Error e) {
        Scripted s;
        s.error = std::move(e);
        return s;
    }
    Scripted&& ranged() && {
        ranges = true;
        return std::move(*this);
    }
    Scripted&& fail_after_bytes(std::uint64_t n, Error e) && {
        fail_after = n;
        error = std::move(e);
        return std::move(*this);
    }
};

class FakeTransport final : public Transport {
public:
    // Appends a response to the queue of `url`.
    FakeTransport& script(const std::string& url, Scripted s) {
        std::lock_guard lock(m_mu);
        m_script[url].push_back(std::move(s));
        return *this;
    }

    // Sessions are counted: each request records the session it was sent through (1, 2, ... in the
    // order sessions were opened; 0 for a plain fetch). Requests are served as by fetch.
    std::unique_ptr<TransportSession> session() override {
        std::lock_guard lock(m_mu);
        return std::make_unique<Session>(*this, ++m_sessions);
    }

    Result<Response> fetch(const Request& request, BodySink& sink, const CancelToken* cancel,
                           const ProgressFn& progress = {}) override {
        std::size_t index = 0;
        std::function<void(const Request&, std::size_t)> hook;
        {
            std::lock_guard lock(m_mu);
            m_requests.push_back(request);
            m_session_of.push_back(t_session);
            index = m_requests.size() - 1;
            hook = m_on_fetch;
        }
        if (hook) {
            hook(request, index);
        }
        if (cancel != nullptr && cancel->cancelled()) {
            std::lock_guard lock(m_mu);
            // A hang cancelled before it began is still used up (the race may cancel its loser
            // before the loser's thread gets here).
            if (auto& queue = m_script[request.url]; !queue.empty() && queue.front().hang) {
                queue.pop_front();
                ++m_hangs_cancelled;
            }
            return std::unexpected(Error(ErrorCode::cancelled, "cancelled while fetching " + request.url));
        }
        std::optional<Scripted> next;
        {
            std::lock_guard lock(m_mu);
            auto& queue = m_script[request.url];
            if (queue.empty()) {
                ++m_unscripted;
            } else {
                next = std::move(queue.front());
                queue.pop_front();
            }
        }
        if (!next) {
            return std::unexpected(net_error(NetPhase::connect, 7, request.url));
        }
        Scripted s = std::move(*next);
        if (s.hang) {
            return hang(request, cancel);
        }
        if (s.error && !s.fail_after) {
            return std::unexpected(*s.error);
        }
        Response r;
        r.status = s.status;
        r.headers = s.headers;
        r.effective_url = request.url;
        std::string body = s.body;
        if (s.ranges && s.status == 200 && request.range_start > 0 && validator_matches(request, r)) {
            const std::string total = std::to_string(body.size());
            if (request.range_start >= body.size()) {
                r.status = 416;
                r.headers["content-range"] = "bytes */" + total;
                body.clear();
            } else {
                r.status = 206;
                r.headers["content-range"] = "bytes " + std::to_string(request.range_start) + "-" +
                                             std::to_string(body.size() - 1) + "/" + total;
                body = body.substr(request.range_start);
            }
        }
        if (!r.ok()) {
            r.error_body = body.substr(0, 4096);
            return r;
        }
        if (auto st = sink.on_response(r); !st) {
            return std::unexpected(st.error());
        }
        const std::uint64_t limit = s.fail_after ? std::min<std::uint64_t>(*s.fail_after, body.size()) : body.size();
        std::uint64_t sent = 0;
        while (sent < limit) {
            auto n = std::min<std::uint64_t>(s.chunk, limit - sent);
            auto st = sink.on_data(std::span<const unsigned char>(
                reinterpret_cast<const unsigned char*>(body.data()) + sent, static_cast<std::size_t>(n)));
            sent += n;
            {
                std::lock_guard lock(m_mu);
                m_bytes_served += n;
            }
            if (cancel != nullptr && cancel->cancelled() && st) {
                return std::unexpected(Error(ErrorCode::cancelled, "cancelled while fetching " + request.url));
            }
            if (!st) {
                return std::unexpected(st.error());
            }
            if (progress) {
                progress(sent, body.size());
            }
        }
        if (s.fail_after) {
            return std::unexpected(*s.error);
        }
        r.body_bytes = sent;
        return r;
    }

    const std::vector<Request>& requests() const { return m_requests; }
    // Per request (as requests()), the session it went through (0: a plain fetch).
    const std::vector<int>& request_sessions() const { return m_session_of; }
    int sessions_opened() const { return m_sessions; }
    std::vector<Request> requests_to(const std::string& url) const {
        std::vector<Request> out;
        std::copy_if(m_requests.begin(), m_requests.end(), std::back_inserter(out),
                     [&](const Request& r) { return r.url == url; });
        return out;
    }
    // Body bytes handed to sinks over all requests.
    std::uint64_t bytes_served() const { return m_bytes_served; }
    // Hanging requests that ended because they were cancelled (or were cancelled before they began).
    int hangs_cancelled() const { return m_hangs_cancelled; }
    // Requests that found nothing scripted (answered with a connect failure).
    int unscripted() const { return m_unscripted; }
    std::size_t pending(const std::string& url) const {
        auto it = m_script.find(url);
        return it == m_script.end() ? 0 : it->second.size();
    }
    // Called at the start of every fetch, with the request and its index.
    void on_fetch(std::function<void(const Request&, std::size_t)> fn) {
        std::lock_guard lock(m_mu);
        m_on_fetch = std::move(fn);
    }

private:
    class Session final : public TransportSession {
    public:
        Session(FakeTransport& parent, int id) : m_parent(parent), m_id(id) {}
        Result<Response> fetch(const Request& request, BodySink& sink, const CancelToken* cancel,
                               const ProgressFn& progress = {}) override {
            t_session = m_id;
            auto r = m_parent.fetch(request, sink, cancel, progress);
            t_session = 0;
            return r;
        }

    private:
        FakeTransport& m_parent;
        int m_id;
    };
    static inline thread_local int t_session = 0;

    Result<Response> hang(const Request& request, const CancelToken* cancel) {
        if (cancel == nullptr) {
            return std::unexpected(Error(ErrorCode::internal, "a hanging fake request needs a cancel token"));
        }
        std::mutex mu;
        std::condition_variable cv;
        const int id = cancel->subscribe([&] {
            std::lock_guard lock(mu);
            cv.notify_all();
        });
        {
            std::unique_lock lock(mu);
            cv.wait(lock, [&] { return cancel->cancelled(); });
        }
        cancel->unsubscribe(id);
        std::lock_guard lock(m_mu);
        ++m_hangs_cancelled;
        return std::unexpected(Error(ErrorCode::cancelled, "cancelled while fetching " + request.url));
    }

    static bool validator_matches(const Request& request, const Response& r) {
        return request.if_range.empty() || request.if_range == r.header("etag") ||
               request.if_range == r.header("last-modified");
    }

    std::mutex m_mu;
    std::map<std::string, std::deque<Scripted>> m_script;
    std::vector<Request> m_requests;
    std::vector<int> m_session_of;
    int m_sessions = 0;
    std::uint64_t m_bytes_served = 0;
    int m_unscripted = 0;
    int m_hangs_cancelled = 0;
    std::function<void(const Request&, std::size_t)> m_on_fetch;
};

} // namespace goinstall::test
