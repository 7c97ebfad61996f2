#pragma once
// A Transport serving fixed answers by URL, as often as asked (unlike FakeTransport's queues), and
// checksum databases (sumdb::SumdbFetcher fakes) under base URLs. Unknown URLs fail like a refused
// connection. Ranges are honoured on 200 bodies. Every URL asked is recorded.

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "goinstall/net/transport.hpp"
#include "goinstall/sumdb/client.hpp"

namespace goinstall::test {

class ServingTransport final : public Transport {
public:
    struct Answer {
        long status = 200;
        std::string body;
        std::map<std::string, std::string> headers;
        std::optional<Error> error; // a transport failure instead of an answer
    };

    void serve(const std::string& url, std::string body, long status = 200,
               std::map<std::string, std::string> headers = {}) {
        std::lock_guard lock(m_mu);
        m_answers[url] = Answer{status, std::move(body), std::move(headers), std::nullopt};
    }
    void fail(const std::string& url, Error e) {
        std::lock_guard lock(m_mu);
        m_answers[url] = Answer{0, "", {}, std::move(e)};
    }
    // Requests "<base>/<path>" are answered by db.get(path): its body, or its error's HTTP status.
    void serve_db(const std::string& base, sumdb::SumdbFetcher& db) {
        std::lock_guard lock(m_mu);
        m_dbs[base + "/"] = &db;
    }

    Result<Response> fetch(const Request& request, BodySink& sink, const CancelToken* /*cancel*/,
                           const ProgressFn& /*progress*/ = {}) override {
        Answer a;
        {
            std::lock_guard lock(m_mu);
            m_requests.push_back(request);
            auto it = m_answers.find(request.url);
            if (it != m_answers.end()) {
                a = it->second;
            } else {
                sumdb::SumdbFetcher* db = nullptr;
                std::string path;
                for (auto& [base, d] : m_dbs) {
                    if (request.url.starts_with(base)) {
                        db = d;
                        path = request.url.substr(base.size());
                    }
                }
                if (db == nullptr) {
                    return std::unexpected(
                        Error(ErrorCode::network, "connection refused: " + request.url)
                            .with_net(NetDetail{.phase = NetPhase::connect, .curl_code = 7, .url = request.url}));
                }
                auto got = db->get(path);
                if (got) {
                    a.body = std::move(*got);
                } else if (got.error().net() && got.error().net()->http_status != 0) {
                    a.status = got.error().net()->http_status;
                } else {
                    a.error = got.error();
                }
            }
        }
        if (a.error) return std::unexpected(*a.error);
        Response r;
        r.status = a.status;
        r.headers = a.headers;
        r.effective_url = request.url;
        std::string body = a.body;
        if (r.status == 200 && request.range_start > 0) {
            if (request.range_start >= body.size()) {
                r.status = 416;
                r.headers["content-range"] = "bytes */" + std::to_string(body.size());
            } else {
                r.status = 206;
                r.headers["content-range"] = "bytes " + std::to_string(request.range_start) + "-" +
                                             std::to_string(body.size() - 1) + "/" + std::to_string(body.size());
                body = body.substr(request.range_start);
            }
        }
        if (!r.ok()) {
            r.error_body = body.substr(0, 4096);
            return r;
        }
        if (auto st = sink.on_response(r); !st) return std::unexpected(st.error());
        if (!body.empty()) {
            if (auto st = sink.on_data(
                    std::span<const unsigned char>(reinterpret_cast<const unsigned char*>(body.data()), body.size()));
                !st) {
                return std::unexpected(st.error());
            }
        }
        r.body_bytes = body.size();
        return r;
    }

    std::vector<std::string> urls() const {
        std::lock_guard lock(m_mu);
        std::vector<std::string> out;
        for (const auto& r : m_requests) out.push_back(r.url);
        return out;
    }
    std::size_t count(const std::string& url) const {
        auto u = urls();
        return static_cast<std::size_t>(std::count(u.begin(), u.end(), url));
    }
    std::size_t count_prefix(const std::string& prefix) const {
        auto u = urls();
        return static_cast<std::size_t>(
            std::count_if(u.begin(), u.end(), [&](const std::string& s) { return s.starts_with(prefix); }));
    }
    void clear_requests() {
        std::lock_guard lock(m_mu);
        m_requests.clear();
    }

private:
    mutable std::mutex m_mu;
    std::map<std::string, Answer> m_answers;
    std::map<std::string, sumdb::SumdbFetcher*> m_dbs;
    std::vector<Request> m_requests;
};

} // namespace goinstall::test
