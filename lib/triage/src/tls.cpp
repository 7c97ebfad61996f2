// TLS probe: OpenSSL directly on our own non-blocking socket, so that a stall after the ClientHello,
// a plain-HTTP answer and each certificate problem can be told apart (curl reports most of them
// as one error). Verification runs but never aborts the handshake (SSL_VERIFY_NONE still verifies,
// SSL_CTX_set_verify(3)), so the leaf certificate can be reported with the verification result.

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>

#include "goinstall/base/strings.hpp"
#include "tls_session.hpp"

namespace goinstall::triage {

const char* to_string(TlsStatus status) {
    switch (status) {
    case TlsStatus::ok: return "ok";
    case TlsStatus::untrusted: return "untrusted";
    case TlsStatus::expired: return "expired";
    case TlsStatus::not_yet_valid: return "not_yet_valid";
    case TlsStatus::name_mismatch: return "name_mismatch";
    case TlsStatus::handshake_failed: return "handshake_failed";
    case TlsStatus::stalled: return "stalled";
    case TlsStatus::not_tls: return "not_tls";
    case TlsStatus::connect_failed: return "connect_failed";
    }
    return "handshake_failed";
}

TlsStatus tls_status_from_verify(long code) {
    switch (code) {
    case X509_V_OK: return TlsStatus::ok;
    case X509_V_ERR_CERT_HAS_EXPIRED: return TlsStatus::expired;
    case X509_V_ERR_CERT_NOT_YET_VALID: return TlsStatus::not_yet_valid;
    case X509_V_ERR_HOSTNAME_MISMATCH:
    case X509_V_ERR_IP_ADDRESS_MISMATCH: return TlsStatus::name_mismatch;
    default: return TlsStatus::untrusted; // self-signed, unknown issuer, bad signature, weak key, ...
    }
}

namespace detail {

namespace {

// The socket under the SSL object: send() with MSG_NOSIGNAL (a peer that hangs up mid-handshake
// must not raise SIGPIPE in the caller) and a count of the bytes the peer sent.
struct SocketIo {
    int fd = -1;
    std::uint64_t bytes_in = 0;
    std::string first_bytes; // the first bytes the peer sent (up to 80), to recognise plain text
};

int sock_write(BIO* b, const char* data, int len) {
    auto* io = static_cast<SocketIo*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    ssize_t n = ::send(io->fd, data, static_cast<std::size_t>(len), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_write(b);
    return -1;
}

int sock_read(BIO* b, char* data, int len) {
    auto* io = static_cast<SocketIo*>(BIO_get_data(b));
    BIO_clear_retry_flags(b);
    ssize_t n = ::recv(io->fd, data, static_cast<std::size_t>(len), 0);
    if (n > 0) {
        io->bytes_in += static_cast<std::uint64_t>(n);
        std::size_t keep =
            std::min<std::size_t>(80 - std::min<std::size_t>(80, io->first_bytes.size()), static_cast<std::size_t>(n));
        io->first_bytes.append(data, keep);
    }
    if (n >= 0) return static_cast<int>(n);
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) BIO_set_retry_read(b);
    return -1;
}

long sock_ctrl(BIO*, int cmd, long, void*) { return cmd == BIO_CTRL_FLUSH ? 1 : 0; }

int sock_create(BIO* b) {
    BIO_set_init(b, 1);
    return 1;
}

BIO_METHOD* socket_method() {
    // Created once and kept for the life of the process.
    static BIO_METHOD* method = [] {
        BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "goinstall-triage-socket");
        if (m != nullptr) {
            BIO_meth_set_write(m, sock_write);
            BIO_meth_set_read(m, sock_read);
            BIO_meth_set_ctrl(m, sock_ctrl);
            BIO_meth_set_create(m, sock_create);
        }
        return m;
    }();
    return method;
}

std::string ssl_errors() {
    std::string out;
    for (int i = 0; i < 4; ++i) {
        unsigned long e = ERR_get_error();
        if (e == 0) break;
        char buf[256];
        ERR_error_string_n(e, buf, sizeof buf);
        if (!out.empty()) out += "; ";
        out += buf;
    }
    ERR_clear_error();
    return sanitize_for_display(out, 300);
}

// RFC 2253 order and escaping, but UTF-8 kept and ", " between parts: "CN=leaf, O=Example".
std::string one_line(const X509_NAME* name) {
    if (name == nullptr) return {};
    BIO* mem = BIO_new(BIO_s_mem());
    if (mem == nullptr) return {};
    unsigned long flags = (XN_FLAG_RFC2253 & ~XN_FLAG_SEP_MASK & ~ASN1_STRFLGS_ESC_MSB) | XN_FLAG_SEP_CPLUS_SPC;
    X509_NAME_print_ex(mem, name, 0, flags);
    char* data = nullptr;
    long len = BIO_get_mem_data(mem, &data);
    std::string out = len > 0 ? std::string(data, static_cast<std::size_t>(len)) : std::string();
    BIO_free(mem);
    return sanitize_for_display(out, 256);
}

std::optional<std::int64_t> unix_time(const ASN1_TIME* t) {
    std::tm tm{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
    return static_cast<std::int64_t>(::timegm(&tm));
}

void record_leaf(SSL* ssl, TlsResult& out) {
    X509* leaf = SSL_get0_peer_certificate(ssl);
    if (leaf == nullptr) return;
    out.issuer = one_line(X509_get_issuer_name(leaf));
    out.subject = one_line(X509_get_subject_name(leaf));
    out.not_before = unix_time(X509_get0_notBefore(leaf));
    out.not_after = unix_time(X509_get0_notAfter(leaf));
}

// Trust as transfers get it: SSL_CERT_FILE/SSL_CERT_DIR when given, else the system defaults; then
// --cacert on top (curl_transport.cpp's CURLOPT_SSL_CTX_FUNCTION). Returns notes on what failed.
std::string load_trust(SSL_CTX* ctx, const TlsProbeOptions& o) {
    std::string notes;
    if (!o.ca_file_override.empty() || !o.ca_dir_override.empty()) {
        const char* file = o.ca_file_override.empty() ? nullptr : o.ca_file_override.c_str();
        const char* dir = o.ca_dir_override.empty() ? nullptr : o.ca_dir_override.c_str();
        if (SSL_CTX_load_verify_locations(ctx, file, dir) != 1) notes += " (could not load SSL_CERT_FILE/SSL_CERT_DIR)";
    } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
        notes += " (could not load the system CA store)";
    }
    if (!o.extra_ca_file.empty() && X509_STORE_load_file(SSL_CTX_get_cert_store(ctx), o.extra_ca_file.c_str()) != 1) {
        notes += " (could not load --cacert " + sanitize_for_display(o.extra_ca_file, 120) + ")";
    }
    ERR_clear_error();
    return notes;
}

// RFC 8446 §5.1: a record starts with a content type 20..24 and legacy version major 3.
bool looks_like_tls(std::string_view first) {
    if (first.empty()) return true; // nothing to judge
    auto type = static_cast<unsigned char>(first[0]);
    return type >= 20 && type <= 24 && (first.size() < 2 || first[1] == 3);
}

// OpenSSL reads only a 5-byte record header before it gives up; the rest of the peer's line is
// still queued on the socket, so it is peeked (not consumed, not waited for).
std::string plain_text_detail(int fd, std::string_view first) {
    std::string all(first);
    char more[80];
    ssize_t n = ::recv(fd, more, sizeof more - std::min(sizeof more, all.size()), MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) all.append(more, static_cast<std::size_t>(n));
    std::string text(all.substr(0, all.find_first_of("\r\n")));
    return "the server answered in plain text: " + sanitize_for_display(text, 60);
}

bool is_not_tls_reason(unsigned long err) {
    if (ERR_GET_LIB(err) != ERR_LIB_SSL) return false;
    int reason = ERR_GET_REASON(err);
    return reason == SSL_R_WRONG_VERSION_NUMBER || reason == SSL_R_PACKET_LENGTH_TOO_LONG ||
           reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST ||
           reason == SSL_R_RECORD_LENGTH_MISMATCH;
}

} // namespace

struct TlsSession {
    SSL_CTX* ctx = nullptr;
    SSL* ssl = nullptr;
    SocketIo io;
    ~TlsSession() {
        if (ssl != nullptr) SSL_free(ssl); // frees the BIO too
        if (ctx != nullptr) SSL_CTX_free(ctx);
    }
};

void TlsSessionDeleter::operator()(TlsSession* s) const { delete s; }

TlsSessionPtr tls_handshake(int fd, const std::string& host_in, const TlsProbeOptions& options, Deadline deadline,
                            const CancelToken* cancel, TlsResult& out) {
    auto failed = [&](TlsStatus status, std::string detail) -> TlsSessionPtr {
        out.status = status;
        out.detail = std::move(detail);
        return nullptr;
    };
    TlsSessionPtr s(new TlsSession);
    s->io.fd = fd;
    ERR_clear_error();
    s->ctx = SSL_CTX_new(TLS_client_method());
    if (s->ctx == nullptr || socket_method() == nullptr)
        return failed(TlsStatus::handshake_failed, "TLS setup: " + ssl_errors());
    SSL_CTX_set_min_proto_version(s->ctx, TLS1_2_VERSION);
    std::string notes = load_trust(s->ctx, options);
    SSL_CTX_set_verify(s->ctx, SSL_VERIFY_NONE, nullptr);
    s->ssl = SSL_new(s->ctx);
    BIO* bio = s->ssl != nullptr ? BIO_new(socket_method()) : nullptr;
    if (bio == nullptr) return failed(TlsStatus::handshake_failed, "TLS setup: " + ssl_errors());
    BIO_set_data(bio, &s->io);
    SSL_set_bio(s->ssl, bio, bio);

    std::string host = host_in;
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (is_ip_literal(host)) {
        // No SNI for an address (RFC 6066 §3); the certificate must name the IP.
        X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(s->ssl), host.substr(0, host.find('%')).c_str());
    } else {
        SSL_set_tlsext_host_name(s->ssl, host.c_str());
        SSL_set_hostflags(s->ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        SSL_set1_host(s->ssl, host.c_str());
    }

    for (;;) { // bounded by the deadline: every pass either finishes or waits on the socket
        ERR_clear_error();
        int rc = SSL_connect(s->ssl);
        if (rc == 1) break;
        int err = SSL_get_error(s->ssl, rc);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            int sys = errno;
            record_leaf(s->ssl, out);
            unsigned long first = ERR_peek_error();
            if (!looks_like_tls(s->io.first_bytes)) {
                ERR_clear_error();
                return failed(TlsStatus::not_tls, plain_text_detail(fd, s->io.first_bytes));
            }
            if (first != 0 && is_not_tls_reason(first)) return failed(TlsStatus::not_tls, ssl_errors());
            std::string detail = ssl_errors();
            if (detail.empty()) {
                detail = (err == SSL_ERROR_SYSCALL && sys != 0 && rc < 0)
                             ? std::string("connection error during the handshake: ") + std::strerror(sys)
                             : "the server closed the connection during the handshake";
            }
            return failed(TlsStatus::handshake_failed, detail);
        }
        short events = err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
        switch (wait_fd(fd, events, deadline, cancel)) {
        case WaitResult::ready: break;
        case WaitResult::cancelled: return failed(TlsStatus::handshake_failed, "cancelled");
        case WaitResult::error:
            return failed(TlsStatus::handshake_failed, std::string("poll: ") + std::strerror(errno));
        case WaitResult::timeout:
            if (!looks_like_tls(s->io.first_bytes))
                return failed(TlsStatus::not_tls, plain_text_detail(fd, s->io.first_bytes));
            if (s->io.bytes_in == 0) {
                return failed(TlsStatus::stalled, "TCP connected, ClientHello sent, no answer within the timeout");
            }
            return failed(TlsStatus::handshake_failed, "the handshake did not finish within the timeout (" +
                                                           std::to_string(s->io.bytes_in) + " bytes received)");
        }
    }
    out.verify_code = SSL_get_verify_result(s->ssl);
    out.verify_text = X509_verify_cert_error_string(out.verify_code);
    out.status = tls_status_from_verify(out.verify_code);
    out.protocol = SSL_get_version(s->ssl);
    record_leaf(s->ssl, out);
    if (out.status != TlsStatus::ok) out.detail = out.verify_text + notes;
    return s;
}

int conn_write_all(int fd, TlsSession* session, std::string_view data, Deadline deadline, const CancelToken* cancel) {
    if (session == nullptr) return -send_all(fd, data, deadline, cancel);
    std::size_t done = 0;
    while (done < data.size()) {
        ERR_clear_error();
        int n = SSL_write(session->ssl, data.data() + done, static_cast<int>(data.size() - done));
        if (n > 0) {
            done += static_cast<std::size_t>(n);
            continue;
        }
        int err = SSL_get_error(session->ssl, n);
        if (err != SSL_ERROR_WANT_READ && err != SSL_ERROR_WANT_WRITE) {
            ERR_clear_error();
            return err == SSL_ERROR_SYSCALL ? -EPIPE : -EPROTO;
        }
        switch (wait_fd(fd, err == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT, deadline, cancel)) {
        case WaitResult::ready: break;
        case WaitResult::timeout: return -ETIMEDOUT;
        case WaitResult::cancelled: return -ECANCELED;
        case WaitResult::error: return -EIO;
        }
    }
    return 0;
}

long conn_read_some(int fd, TlsSession* session, char* buf, std::size_t size, Deadline deadline,
                    const CancelToken* cancel) {
    for (;;) { // bounded by the deadline
        short events = POLLIN;
        if (session == nullptr) {
            ssize_t n = ::recv(fd, buf, size, 0);
            if (n >= 0) return n;
            if (errno == EINTR) continue;
            if (errno != EAGAIN && errno != EWOULDBLOCK) return -errno;
        } else {
            ERR_clear_error();
            int n = SSL_read(session->ssl, buf, static_cast<int>(size));
            if (n > 0) return n;
            int err = SSL_get_error(session->ssl, n);
            if (err == SSL_ERROR_ZERO_RETURN) return 0;
            if (err == SSL_ERROR_WANT_WRITE) {
                events = POLLOUT;
            } else if (err != SSL_ERROR_WANT_READ) {
                unsigned long e = ERR_peek_error();
                ERR_clear_error();
                // A peer that closes without close_notify: an end of stream for our purposes.
                if (err == SSL_ERROR_SYSCALL || ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) return 0;
                return -EPROTO;
            }
        }
        switch (wait_fd(fd, events, deadline, cancel)) {
        case WaitResult::ready: break;
        case WaitResult::timeout: return -ETIMEDOUT;
        case WaitResult::cancelled: return -ECANCELED;
        case WaitResult::error: return -EIO;
        }
    }
}

} // namespace detail

TlsResult probe_tls(const std::string& ip, int port, const std::string& host, const TlsProbeOptions& options,
                    const CancelToken* cancel) {
    auto start = detail::SteadyClock::now();
    detail::Deadline deadline = start + options.timeout;
    TlsResult r;
    auto [tcp, fd] = detail::connect_tcp(ip, port, deadline, cancel);
    r.tcp = tcp;
    if (tcp.status != TcpStatus::connected) {
        r.status = TlsStatus::connect_failed;
        r.detail = std::string("TCP ") + to_string(tcp.status) + (tcp.os_errno != 0 ? ": " : "") +
                   (tcp.os_errno != 0 ? std::strerror(tcp.os_errno) : "");
    } else {
        detail::tls_handshake(fd.get(), host.empty() ? ip : host, options, deadline, cancel, r);
    }
    r.elapsed = detail::elapsed_since(start);
    return r;
}

} // namespace goinstall::triage
