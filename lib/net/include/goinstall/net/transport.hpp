#pragma once
// The one interface through which goinstall talks to the network. CurlTransport is the real one;
// tests script fakes. Transport knows URLs and bytes, not releases or mirrors.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/error.hpp"

namespace goinstall {

struct TransferLimits {
    // docs/field-notes.md#retry-timeouts-resume and #measurements: curl's own connect default is
    // 300 s and a dropped SYN costs 134 s.
    std::chrono::milliseconds connect_timeout{10000};
    // A transfer slower than stall_bytes_per_second for stall_time fails as stalled
    // (docs/field-notes.md#retry-timeouts-resume).
    std::chrono::seconds stall_time{30};
    long stall_bytes_per_second = 1024;
    // Whole-request limit; zero means none (archives), set for small metadata requests.
    std::chrono::milliseconds total_timeout{0};
    // Refuse bodies larger than this; zero means no cap.
    std::uint64_t max_body_bytes = 0;
};

struct Request {
    std::string url;
    std::vector<std::pair<std::string, std::string>> headers; // e.g. If-None-Match
    std::uint64_t range_start = 0;                            // > 0 → "Range: bytes=N-"
    std::uint64_t range_end = 0;                              // > 0 → "Range: bytes=N-M" (M inclusive)
    std::string if_range;                                     // strong validator, with range_start
    // Never on ranges (docs/field-notes.md#retry-timeouts-resume).
    bool allow_compression = false;
    // For the release index (the root of trust): only https (or file) and no redirect to http.
    bool secure_only = false;
    int max_redirects = 10;
    TransferLimits limits;
};

struct Response {
    long status = 0;                            // 0 for file:// URLs that succeeded
    std::map<std::string, std::string> headers; // final response only; names lowercase
    std::string effective_url;                  // after redirects (not redacted)
    std::uint64_t body_bytes = 0;               // bytes handed to the sink
    std::string error_body;                     // first 4 KiB of a non-2xx body, raw
    std::string primary_ip;
    std::chrono::milliseconds elapsed{0};
    // The request rode a connection an earlier request of the same TransportSession had opened
    // (keep-alive): no new TCP or TLS handshake.
    bool reused_connection = false;

    bool ok() const { return status == 0 || (status >= 200 && status < 300); }
    // Header value or "".
    std::string header(const std::string& lowercase_name) const;
};

// Receives the body of a successful (2xx, or file://) response.
class BodySink {
public:
    virtual ~BodySink() = default;
    // Called once, before the first on_data, with the final response head. An error aborts the
    // transfer and is returned by fetch unchanged.
    virtual Status on_response(const Response& head) = 0;
    // An error aborts the transfer and is returned by fetch unchanged.
    virtual Status on_data(std::span<const unsigned char> data) = 0;
};

// Progress of the body, called at most a few times a second.
using ProgressFn = std::function<void(std::uint64_t received, std::uint64_t expected)>;

// A series of requests that may ride one kept-alive connection: the byte ranges one worker fetches
// from one mirror one after another (issue 15: a new connection per range pays TCP slow start and a
// TLS handshake again on every range of a long, lossy path). One thread at a time.
class TransportSession {
public:
    virtual ~TransportSession() = default;
    // As Transport::fetch.
    virtual Result<Response> fetch(const Request& request, BodySink& sink, const CancelToken* cancel,
                                   const ProgressFn& progress = {}) = 0;
};

class Transport {
public:
    virtual ~Transport() = default;
    // A session whose requests may reuse one another's connections. The default sends each through
    // fetch (no reuse); CurlTransport keeps one curl handle, and so its connection, per session.
    virtual std::unique_ptr<TransportSession> session();
    // Performs one request, following redirects. An HTTP error status is a successful Result whose
    // Response says so (its body in error_body, not given to the sink). Transport failures (DNS,
    // connect, TLS, timeout, reset, disallowed redirect, body over the cap) are Errors with a
    // NetDetail; codes network / tls / proxy_auth / cancelled, or the sink's own error.
    virtual Result<Response> fetch(const Request& request, BodySink& sink, const CancelToken* cancel,
                                   const ProgressFn& progress = {}) = 0;
};

// A sink that keeps the body in memory (for the index and other small documents).
class StringSink final : public BodySink {
public:
    Status on_response(const Response&) override { return {}; }
    Status on_data(std::span<const unsigned char> data) override {
        m_body.append(reinterpret_cast<const char*>(data.data()), data.size());
        return {};
    }
    std::string& body() { return m_body; }

private:
    std::string m_body;
};

} // namespace goinstall
