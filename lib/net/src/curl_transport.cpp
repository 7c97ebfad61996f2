#include "goinstall/net/curl_transport.hpp"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>
#include <sys/socket.h>
#include <unistd.h>
#include <vector>
#include <mutex>

#include "curl_errors.hpp"
#include "goinstall/net/ca_bundle.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/base/url.hpp"

namespace goinstall {

namespace {

constexpr std::size_t k_error_body_cap = 4096;

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The sockets of one transfer, so that cancellation can shut them down: a shutdown() aborts a
// connect() in progress on Linux (inet_shutdown disconnects a SYN_SENT socket), which curl would
// otherwise only notice at its next progress tick, up to a second later.
struct SocketSet {
    std::mutex mu;
    std::vector<curl_socket_t> fds;
    bool cancelled = false;
    // The response being received rides an HTTP/2 connection (its status line says so); false
    // again while curl opens a new socket (a redirect to another host). See fetch_with's cancel
    // subscription.
    bool multiplexed = false;
};

// State shared with curl's callbacks during one fetch.
struct Transfer {
    CURL* curl = nullptr;
    BodySink* sink = nullptr;
    const CancelToken* cancel = nullptr;
    const ProgressFn* progress = nullptr;
    std::uint64_t max_body = 0;
    Response response;
    bool head_delivered = false;
    bool error_body_full = false;
    std::optional<Error> sink_error;
    std::chrono::steady_clock::time_point last_progress{};
    SocketSet* sockets = nullptr;
};

size_t on_header(char* buffer, size_t size, size_t nitems, void* userdata) {
    auto* t = static_cast<Transfer*>(userdata);
    std::string_view line(buffer, size * nitems);
    if (line.starts_with("HTTP/")) {
        // A new response (after a redirect or a 100 Continue): forget the previous headers.
        t->response.headers.clear();
        std::lock_guard lock(t->sockets->mu);
        t->sockets->multiplexed = line.starts_with("HTTP/2");
        return size * nitems;
    }
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        auto name = to_lower(trim(line.substr(0, colon)));
        auto value = std::string(trim(line.substr(colon + 1)));
        t->response.headers[name] = value;
    }
    return size * nitems;
}

bool status_ok(long status) { return status == 0 || (status >= 200 && status < 300); }

Status deliver_head(Transfer& t) {
    long status = 0;
    curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &status);
    t.response.status = status;
    char* eff = nullptr;
    curl_easy_getinfo(t.curl, CURLINFO_EFFECTIVE_URL, &eff);
    if (eff != nullptr) {
        t.response.effective_url = eff;
    }
    t.head_delivered = true;
    if (status_ok(status)) {
        return t.sink->on_response(t.response);
    }
    return {};
}

size_t on_write(char* ptr, size_t size, size_t nmemb, void* userdata) {
    auto* t = static_cast<Transfer*>(userdata);
    size_t n = size * nmemb;
    if (t->cancel != nullptr && t->cancel->cancelled()) {
        return 0; // stop at once, not at the next progress tick (an HTTP/2 stream's socket stays open)
    }
    if (!t->head_delivered) {
        if (auto st = deliver_head(*t); !st) {
            t->sink_error = st.error();
            return 0;
        }
    }
    if (!status_ok(t->response.status)) {
        auto room = k_error_body_cap - std::min(k_error_body_cap, t->response.error_body.size());
        t->response.error_body.append(ptr, std::min(room, n));
        if (t->response.error_body.size() >= k_error_body_cap) {
            t->error_body_full = true; // enough to explain the error; stop reading
            return 0;
        }
        return n;
    }
    if (t->max_body != 0 && t->response.body_bytes + n > t->max_body) {
        t->sink_error = Error(ErrorCode::network, "response is larger than the " + human_bytes(t->max_body) +
                                                      " allowed for " + redact_url(t->response.effective_url));
        return 0;
    }
    auto st = t->sink->on_data({reinterpret_cast<const unsigned char*>(ptr), n});
    if (!st) {
        t->sink_error = st.error();
        return 0;
    }
    t->response.body_bytes += n;
    return n;
}

int on_progress(void* userdata, curl_off_t dltotal, curl_off_t dlnow, curl_off_t, curl_off_t) {
    auto* t = static_cast<Transfer*>(userdata);
    if (t->cancel != nullptr && t->cancel->cancelled()) {
        return 1;
    }
    if (t->progress != nullptr && *t->progress) {
        auto now = std::chrono::steady_clock::now();
        if (now - t->last_progress >= std::chrono::milliseconds(200)) {
            t->last_progress = now;
            (*t->progress)(static_cast<std::uint64_t>(dlnow), static_cast<std::uint64_t>(dltotal));
        }
    }
    return 0;
}

CURLcode on_ssl_ctx(CURL*, void* ssl_ctx, void* userdata) {
    const auto* file = static_cast<const std::string*>(userdata);
    X509_STORE* store = SSL_CTX_get_cert_store(static_cast<SSL_CTX*>(ssl_ctx));
    if (X509_STORE_load_file(store, file->c_str()) != 1) {
        return CURLE_SSL_CACERT_BADFILE;
    }
    return CURLE_OK;
}

long proxy_auth_mask(const std::string& name) {
    if (name == "basic") return static_cast<long>(CURLAUTH_BASIC);
    if (name == "digest") return static_cast<long>(CURLAUTH_DIGEST);
    if (name == "ntlm") return static_cast<long>(CURLAUTH_NTLM);
    if (name == "negotiate") return static_cast<long>(CURLAUTH_NEGOTIATE);
    return static_cast<long>(CURLAUTH_ANY);
}

curl_socket_t on_open_socket(void* userdata, curlsocktype, struct curl_sockaddr* addr) {
    auto* set = static_cast<SocketSet*>(userdata);
    std::lock_guard lock(set->mu);
    if (set->cancelled) return CURL_SOCKET_BAD;
    set->multiplexed = false;
    curl_socket_t fd = ::socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
    if (fd != CURL_SOCKET_BAD) set->fds.push_back(fd);
    return fd;
}

int on_close_socket(void* userdata, curl_socket_t fd) {
    auto* set = static_cast<SocketSet*>(userdata);
    std::lock_guard lock(set->mu);
    std::erase(set->fds, fd);
    return ::close(fd);
}

struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct EasyDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

} // namespace

Result<std::unique_ptr<CurlTransport>> CurlTransport::create(TransportConfig config) {
    global_init();
    if (config.user_agent.empty()) {
        config.user_agent = std::string("goinstall/") + GOINSTALL_VERSION;
    }
    if (!config.extra_ca_file.empty()) {
        // Check the file up front so a typo is a clear usage error, not a TLS failure later.
        if (auto st = check_ca_file(config.extra_ca_file); !st) return std::unexpected(st.error());
    }
    return std::unique_ptr<CurlTransport>(new CurlTransport(std::move(config)));
}

CurlTransport::~CurlTransport() = default;

// One curl easy handle and the sockets it has open: a TransportSession, and what one plain fetch
// uses for its one request. Kept by a session, it keeps curl's connection cache, DNS cache and
// TLS session for all its requests: a range after the first rides the kept-alive connection (no
// TCP slow start, no TLS handshake again). One handle per session, not one shared connection
// cache (CURLSH with CURL_LOCK_DATA_CONNECT), because libcurl does not support sharing a
// connection cache between threads that transfer at the same time, and the sessions of a
// segmented download run on parallel workers. Nor are sessions multiplexed as HTTP/2 streams over
// one connection: each worker has its own TCP connection on purpose, since on a lossy path
// several TCP streams (each with its own congestion window) carry more than one.
struct CurlEasy final : TransportSession {
    explicit CurlEasy(CurlTransport& owner) : transport(owner) {}
    Result<Response> fetch(const Request& request, BodySink& sink, const CancelToken* cancel,
                           const ProgressFn& progress) override {
        if (!handle) return fail(ErrorCode::internal, "curl_easy_init failed");
        return transport.fetch_on(*this, request, sink, cancel, progress);
    }

    CurlTransport& transport;
    // Declared before the handle so it outlives it: curl_easy_cleanup closes a kept-alive
    // connection through on_close_socket, which touches the set.
    SocketSet sockets;
    std::unique_ptr<CURL, EasyDeleter> handle{curl_easy_init()};
};

std::unique_ptr<TransportSession> CurlTransport::session() { return std::make_unique<CurlEasy>(*this); }

Result<Response> CurlTransport::fetch(const Request& request, BodySink& sink, const CancelToken* cancel,
                                      const ProgressFn& progress) {
    return CurlEasy(*this).fetch(request, sink, cancel, progress); // a fresh handle: nothing is kept
}

Result<Response> CurlTransport::fetch_on(CurlEasy& easy, const Request& request, BodySink& sink,
                                         const CancelToken* cancel, const ProgressFn& progress) {
    ProxyChoice choice = m_config.proxy ? m_config.proxy->choose(request.url) : ProxyChoice{};
    auto result = fetch_with(easy, request, sink, cancel, progress, choice);
    // A PAC answer lists fallbacks ("PROXY a; SOCKS5 b; DIRECT"): when a proxy cannot be reached at
    // all (nothing was received), try the next one, as browsers do.
    for (const auto& next : choice.alternatives) {
        if (result || result.error().code() == ErrorCode::proxy_auth || !result.error().net() ||
            result.error().net()->phase != NetPhase::proxy) {
            break;
        }
        ProxyChoice alt = choice;
        alt.proxy = next;
        alt.reason += "; the previous proxy failed";
        result = fetch_with(easy, request, sink, cancel, progress, alt);
    }
    return result;
}

Result<Response> CurlTransport::fetch_with(CurlEasy& easy, const Request& request, BodySink& sink,
                                           const CancelToken* cancel, const ProgressFn& progress,
                                           const ProxyChoice& choice) {
    CURL* c = easy.handle.get();
    SocketSet& sockets = easy.sockets;
    // Every option is set again for this request; what survives a reset is the connection, DNS
    // and TLS session caches. A cancelled earlier request does not poison this one: curl closed
    // the connection it aborted, and the set forgets that cancellation.
    curl_easy_reset(c);
    // And again when done, so that no option keeps pointing at this call's locals while the
    // handle waits for the next request (the connection keeps its own close-socket callback).
    struct ResetAfter {
        CURL* c;
        ~ResetAfter() { curl_easy_reset(c); }
    } reset_after{c};
    {
        std::lock_guard lock(sockets.mu);
        sockets.cancelled = false;
        sockets.multiplexed = false;
    }
    Transfer t;
    t.curl = c;
    t.sockets = &sockets;
    t.sink = &sink;
    t.cancel = cancel;
    t.progress = &progress;
    t.max_body = request.limits.max_body_bytes;

    char errbuf[CURL_ERROR_SIZE] = {0};
    std::unique_ptr<curl_slist, SlistDeleter> headers;
    for (const auto& [name, value] : request.headers) {
        headers.reset(curl_slist_append(headers.release(), (name + ": " + value).c_str()));
    }
    if (request.range_start > 0 && !request.if_range.empty()) {
        headers.reset(curl_slist_append(headers.release(), ("If-Range: " + request.if_range).c_str()));
    }

    curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
    // HTTP/2 where the server offers it over TLS (libcurl's default since 7.62 when built with
    // nghttp2, said here so it does not depend on the build); one stream per session, see CurlSession.
    curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_2TLS));
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, m_config.user_agent.c_str());
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, static_cast<long>(request.max_redirects));
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, request.secure_only ? "https,file" : "http,https,file");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, request.secure_only ? "https" : "http,https");
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.limits.connect_timeout.count()));
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, request.limits.stall_bytes_per_second);
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, static_cast<long>(request.limits.stall_time.count()));
    if (request.limits.total_timeout.count() > 0) {
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.limits.total_timeout.count()));
    }
    if (request.limits.max_body_bytes > 0) {
        curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(request.limits.max_body_bytes));
    }
    if (request.allow_compression && request.range_start == 0 && request.range_end == 0) {
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, ""); // every encoding curl was built with
    }
    // CURLOPT_RANGE rather than RESUME_FROM: curl then hands us a 200 or an odd Content-Range
    // instead of failing with CURLE_RANGE_ERROR, and the sink applies the
    // docs/field-notes.md#retry-timeouts-resume rules (restart on the same 200 response; refuse a
    // 206 that starts elsewhere).
    std::string range;
    if (request.range_start > 0 || request.range_end > 0) {
        range = std::to_string(request.range_start) + "-" +
                (request.range_end > 0 ? std::to_string(request.range_end) : std::string());
        curl_easy_setopt(c, CURLOPT_RANGE, range.c_str());
    }
    if (headers) {
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
    }
    // --resolve: curl then never asks DNS for these host:port pairs (the proxy's name included).
    std::unique_ptr<curl_slist, SlistDeleter> pins;
    for (const auto& pin : m_config.resolve) {
        pins.reset(curl_slist_append(pins.release(), to_curl_resolve(pin).c_str()));
    }
    if (pins) {
        curl_easy_setopt(c, CURLOPT_RESOLVE, pins.get());
    }
    // Proxy: our decision only. An empty CURLOPT_PROXY disables curl's reading of *_proxy variables,
    // and an empty CURLOPT_NOPROXY its reading of NO_PROXY.
    // The credentials ride in the proxy URL, percent-encoded (ProxySpec::curl_url_with_credentials):
    // libcurl decodes a URL's userinfo exactly once in every version. CURLOPT_PROXYUSERNAME and
    // CURLOPT_PROXYPASSWORD are no good: libcurl before 8.8.0 URL-decodes them although they are
    // documented as taken as-is (curl issue #13265, fixed by PR #13270), and 7.88 decodes them
    // once more for the request it resends after a 407 to a plain-HTTP GET (seen with squid).
    std::string proxy_url = choice.proxy ? choice.proxy->curl_url_with_credentials() : std::string();
    curl_easy_setopt(c, CURLOPT_PROXY, proxy_url.c_str());
    curl_easy_setopt(c, CURLOPT_NOPROXY, "");
    if (choice.proxy) {
        curl_easy_setopt(c, CURLOPT_PROXYAUTH, proxy_auth_mask(m_config.proxy->proxy_auth()));
        if (!m_config.extra_ca_file.empty()) {
            curl_easy_setopt(c, CURLOPT_PROXY_CAINFO, m_config.extra_ca_file.c_str()); // an https:// proxy's CA
        }
    }
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, &t);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, &t);
    if (!m_config.ca_file_override.empty()) {
        curl_easy_setopt(c, CURLOPT_CAINFO, m_config.ca_file_override.c_str());
    }
    if (!m_config.ca_dir_override.empty()) {
        curl_easy_setopt(c, CURLOPT_CAPATH, m_config.ca_dir_override.c_str());
    }
    if (!m_config.extra_ca_file.empty()) {
#if LIBCURL_VERSION_NUM >= 0x075700
        curl_easy_setopt(c, CURLOPT_CA_CACHE_TIMEOUT, 0L); // the store is modified per handle
#endif
        curl_easy_setopt(c, CURLOPT_SSL_CTX_FUNCTION, on_ssl_ctx);
        curl_easy_setopt(c, CURLOPT_SSL_CTX_DATA, &m_config.extra_ca_file);
    }

    curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
    curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, &sockets);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETFUNCTION, on_close_socket);
    curl_easy_setopt(c, CURLOPT_CLOSESOCKETDATA, &sockets);
    int subscription = -1;
    if (cancel != nullptr) {
        // Once an HTTP/2 response has begun, the sockets stay open: curl resets just this stream
        // (RST_STREAM) at its next write or progress callback (at most a second apart), and the
        // connection stays usable for the session's next request. A shutdown() would kill it
        // for nothing (nginx: "client prematurely closed connection while processing HTTP/2
        // connection"; tests/integration/test_http2.py). An HTTP/1.x connection is closed after
        // an aborted transfer anyway.
        subscription = cancel->subscribe([&sockets] {
            std::lock_guard lock(sockets.mu);
            sockets.cancelled = true;
            if (sockets.multiplexed) return;
            for (auto fd : sockets.fds) ::shutdown(fd, SHUT_RDWR);
        });
    }
    auto started = std::chrono::steady_clock::now();
    CURLcode rc = curl_easy_perform(c);
    if (subscription >= 0) {
        cancel->unsubscribe(subscription);
    }
    t.response.elapsed =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
    char* ip = nullptr;
    if (curl_easy_getinfo(c, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK && ip != nullptr) {
        t.response.primary_ip = ip;
    }
    // No new connection for this request: it rode one an earlier request of the handle opened.
    long connects = 0;
    t.response.reused_connection = curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects) == CURLE_OK &&
                                   connects == 0 && !request.url.starts_with("file:");

    if (t.sink_error) {
        return std::unexpected(std::move(*t.sink_error));
    }
    if (rc != CURLE_OK && cancel != nullptr && cancel->cancelled()) {
        // Whatever curl saw (an aborted connect, a callback abort), the cause was cancellation.
        return fail(ErrorCode::cancelled, "cancelled while fetching " + redact_url(request.url));
    }
    if (rc == CURLE_WRITE_ERROR && t.error_body_full) {
        rc = CURLE_OK;
    }
    if (rc == CURLE_FILE_COULDNT_READ_FILE) {
        // A missing file:// file is the local equivalent of a 404.
        t.response.status = 404;
        t.response.error_body = errbuf;
        t.response.effective_url = request.url;
        return t.response;
    }
    if (rc != CURLE_OK) {
        return std::unexpected(curl_failure(c, rc, errbuf, request, cancel, choice, t.response.header("location")));
    }
    if (!t.head_delivered) {
        // An empty body: the write callback never ran (the status is read here, and a 2xx head is
        // handed to the sink).
        if (auto st = deliver_head(t); !st) {
            return std::unexpected(st.error());
        }
    }
    if (choice.proxy && (t.response.status == 407 || (t.response.status == 401 && request.url.starts_with("http:")))) {
        // A plain-HTTP request through the proxy: the 407 is the proxy's own answer (with or without a body).
        return std::unexpected(proxy_auth_error(request, choice));
    }
    return t.response;
}

} // namespace goinstall
