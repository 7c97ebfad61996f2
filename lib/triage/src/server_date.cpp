// The server's clock, for the clock layer: a HEAD request over TLS whose certificate is NOT checked,
// because the question is "what time does the server think it is" exactly when verification fails
// (a wrong local clock makes every certificate look expired or not yet valid). Nothing read here is
// trusted except as a date; no credentials are sent.
#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <memory>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "goinstall/base/strings.hpp"
#include "goinstall/triage/triage.hpp"

namespace goinstall::triage {

namespace {

using Clock = std::chrono::steady_clock;

struct Fd {
    int fd = -1;
    ~Fd() {
        if (fd >= 0) ::close(fd);
    }
};

struct SslFree {
    void operator()(SSL* s) const { SSL_free(s); }
    void operator()(SSL_CTX* c) const { SSL_CTX_free(c); }
};

// Waits for `events` on fd in short slices so cancellation is noticed; false on timeout/cancel.
bool wait_fd(int fd, short events, Clock::time_point deadline, const CancelToken* cancel) {
    while (true) {
        if (cancel != nullptr && cancel->cancelled()) return false;
        auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, static_cast<int>(std::min<long long>(left, 100)));
        if (n > 0) return true;
        if (n < 0 && errno != EINTR) return false;
    }
}

// Connects (non-blocking) to ip:port; the socket or an error text.
int connect_to(const std::string& ip, int port, Clock::time_point deadline, const CancelToken* cancel,
               std::string& err) {
    sockaddr_storage ss{};
    socklen_t len = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<std::uint16_t>(port));
        len = sizeof(sockaddr_in);
    } else if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<std::uint16_t>(port));
        len = sizeof(sockaddr_in6);
    } else {
        err = "not an IP address";
        return -1;
    }
    int fd = ::socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        err = std::strerror(errno);
        return -1;
    }
    if (::connect(fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 && errno != EINPROGRESS) {
        err = std::strerror(errno);
        ::close(fd);
        return -1;
    }
    if (!wait_fd(fd, POLLOUT, deadline, cancel)) {
        err = "connect timed out";
        ::close(fd);
        return -1;
    }
    int so = 0;
    socklen_t sl = sizeof so;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl);
    if (so != 0) {
        err = std::strerror(so);
        ::close(fd);
        return -1;
    }
    return fd;
}

// Runs an SSL operation to completion on a non-blocking socket; > 0 on success.
template <typename Op>
int drive(SSL* ssl, int fd, Clock::time_point deadline, const CancelToken* cancel, Op op) {
    while (true) {
        int rc = op();
        if (rc > 0) return rc;
        int e = SSL_get_error(ssl, rc);
        short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
        if (ev == 0 || !wait_fd(fd, ev, deadline, cancel)) return rc == 0 ? 0 : -1;
    }
}

} // namespace

ClockObservation fetch_server_date(const std::string& ip, int port, const std::string& host, Millis timeout,
                                   const CancelToken* cancel) {
    ClockObservation o;
    o.attempted = true;
    o.source = host;
    auto started = Clock::now();
    auto deadline = started + timeout;
    auto done = [&](std::string err) {
        o.error = std::move(err);
        o.elapsed = std::chrono::duration_cast<Millis>(Clock::now() - started);
        return o;
    };
    std::string err;
    Fd sock{connect_to(ip, port, deadline, cancel, err)};
    if (sock.fd < 0) return done(err);
    std::unique_ptr<SSL_CTX, SslFree> ctx(SSL_CTX_new(TLS_client_method()));
    if (!ctx) return done("TLS setup failed");
    SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr); // only the Date is read: see the file comment
    std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
    if (!ssl) return done("TLS setup failed");
    SSL_set_fd(ssl.get(), sock.fd);
    if (!host.empty()) SSL_set_tlsext_host_name(ssl.get(), host.c_str());
    if (drive(ssl.get(), sock.fd, deadline, cancel, [&] { return SSL_connect(ssl.get()); }) <= 0) {
        ERR_clear_error();
        return done("TLS handshake failed");
    }
    std::string req =
        "HEAD / HTTP/1.1\r\nHost: " + host + "\r\nUser-Agent: goinstall-triage\r\nConnection: close\r\n\r\n";
    if (drive(ssl.get(), sock.fd, deadline, cancel,
              [&] { return SSL_write(ssl.get(), req.data(), static_cast<int>(req.size())); }) <= 0) {
        ERR_clear_error();
        return done("sending the request failed");
    }
    std::string head;
    char buf[2048];
    while (head.size() < 16 * 1024 && head.find("\r\n\r\n") == std::string::npos) {
        int n = drive(ssl.get(), sock.fd, deadline, cancel, [&] { return SSL_read(ssl.get(), buf, sizeof buf); });
        if (n <= 0) break;
        head.append(buf, static_cast<std::size_t>(n));
    }
    ERR_clear_error();
    for (const auto& line : split(head, '\n')) {
        auto colon = line.find(':');
        if (colon == std::string::npos || !iequals(trim(std::string_view(line).substr(0, colon)), "date")) continue;
        o.server_date = parse_http_date(trim(std::string_view(line).substr(colon + 1)));
        if (o.server_date) return done("");
    }
    return done(head.empty() ? "no answer" : "no Date header");
}

} // namespace goinstall::triage
