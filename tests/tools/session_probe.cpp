// Drives one CurlTransport session (or, with --no-session, plain fetches) over byte ranges of one
// URL, for tests/integration/test_keepalive.py, which reads nginx's access log to see which
// connection served each range. Prints one JSON line per request.
//
//   goinstall_session_probe [--cafile PEM] [--no-session] [--cancel-first | --cancel-token-first]
//                           URL RANGE_BYTES COUNT
//
// --cancel-first: the sink of the first request fails on its first data (a request cancelled
// mid-body); the others must still succeed on the same session. --cancel-token-first: the first
// request's CancelToken is cancelled (cancel_and_notify, as the segmented downloader stops a
// worker's transfer) on its first data instead.

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "goinstall/base/cancel.hpp"
#include "goinstall/net/curl_transport.hpp"

namespace {

class CountingSink final : public goinstall::BodySink {
public:
    CountingSink(bool fail_on_data, goinstall::CancelToken* cancel_on_data)
        : m_fail(fail_on_data), m_cancel(cancel_on_data) {}
    goinstall::Status on_response(const goinstall::Response&) override { return {}; }
    goinstall::Status on_data(std::span<const unsigned char> data) override {
        if (m_fail) return goinstall::fail(goinstall::ErrorCode::cancelled, "probe: cancelled mid-body");
        if (m_cancel != nullptr) m_cancel->cancel_and_notify();
        bytes += data.size();
        return {};
    }
    std::uint64_t bytes = 0;

private:
    bool m_fail;
    goinstall::CancelToken* m_cancel;
};

} // namespace

int main(int argc, char** argv) {
    goinstall::TransportConfig config;
    bool use_session = true;
    bool cancel_first = false;
    bool cancel_token_first = false;
    int i = 1;
    for (; i < argc && std::string_view(argv[i]).starts_with("--"); ++i) {
        std::string_view a = argv[i];
        if (a == "--cafile" && i + 1 < argc) {
            config.extra_ca_file = argv[++i];
        } else if (a == "--no-session") {
            use_session = false;
        } else if (a == "--cancel-first") {
            cancel_first = true;
        } else if (a == "--cancel-token-first") {
            cancel_token_first = true;
        } else {
            std::fprintf(stderr, "unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (argc - i != 3) {
        std::fprintf(stderr,
                     "usage: %s [--cafile PEM] [--no-session] [--cancel-first | --cancel-token-first] URL "
                     "RANGE_BYTES COUNT\n",
                     argv[0]);
        return 2;
    }
    std::string url = argv[i];
    std::uint64_t size = std::strtoull(argv[i + 1], nullptr, 10);
    int count = std::atoi(argv[i + 2]);
    auto transport = goinstall::CurlTransport::create(config);
    if (!transport) {
        std::fprintf(stderr, "%s\n", transport.error().message().c_str());
        return 2;
    }
    auto session = (*transport)->session();
    int failures = 0;
    for (int n = 0; n < count; ++n) {
        goinstall::Request request;
        request.url = url;
        request.range_start = static_cast<std::uint64_t>(n) * size;
        request.range_end = request.range_start + size - 1;
        goinstall::CancelToken token;
        CountingSink sink(cancel_first && n == 0, cancel_token_first && n == 0 ? &token : nullptr);
        auto r =
            use_session ? session->fetch(request, sink, &token, {}) : (*transport)->fetch(request, sink, &token, {});
        if (r) {
            std::printf("{\"n\":%d,\"ok\":true,\"status\":%ld,\"bytes\":%llu,\"reused\":%s}\n", n, r->status,
                        static_cast<unsigned long long>(sink.bytes), r->reused_connection ? "true" : "false");
        } else {
            ++failures;
            std::printf("{\"n\":%d,\"ok\":false,\"code\":\"%s\"}\n", n, goinstall::to_string(r.error().code()));
        }
    }
    return failures == 0 ? 0 : 1;
}
