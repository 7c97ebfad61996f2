#include "loopback_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace triage_test {

LoopbackServer::LoopbackServer(Handler handler, bool ipv6, int backlog) : m_handler(std::move(handler)), m_ipv6(ipv6) {
    std::signal(SIGPIPE, SIG_IGN); // the server side writes to clients that may have hung up (as the CLI does)
    m_fd = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (ipv6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_addr = in6addr_loopback;
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        len = sizeof *a;
    }
    if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr*>(&ss), len) != 0 || ::listen(m_fd, backlog) != 0 ||
        ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) {
        if (m_fd >= 0) ::close(m_fd);
        throw std::runtime_error("cannot listen on loopback");
    }
    m_port =
        ntohs(ipv6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    m_thread = std::thread([this] { run(); });
}

LoopbackServer::~LoopbackServer() {
    m_stop = true;
    m_thread.join();
    for (int fd : m_kept) ::close(fd);
    ::close(m_fd);
}

void LoopbackServer::note(std::string text) {
    std::lock_guard lock(m_mu);
    m_notes.push_back(std::move(text));
}

std::vector<std::string> LoopbackServer::notes() const {
    std::lock_guard lock(m_mu);
    return m_notes;
}

void LoopbackServer::run() {
    // Bounded: polls in 20 ms slices until the destructor sets m_stop; handlers are bounded by the
    // 1 s socket timeouts.
    while (!m_stop) {
        pollfd p{m_fd, POLLIN, 0};
        if (::poll(&p, 1, 20) <= 0) continue;
        int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
        if (c < 0) continue;
        ++m_accepted;
        timeval tv{1, 0};
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
        if (m_handler(c)) {
            m_kept.push_back(c);
        } else {
            ::close(c);
        }
    }
}

std::string read_head(int fd) {
    std::string got;
    char buf[1024];
    while (got.size() < 16384 && got.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        got.append(buf, static_cast<std::size_t>(n));
    }
    return got;
}

void write_all(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
        if (n <= 0) return;
        done += static_cast<std::size_t>(n);
    }
}

void drain_until_closed(int fd) {
    ::shutdown(fd, SHUT_WR);
    char buf[1024];
    for (int i = 0; i < 64 && ::recv(fd, buf, sizeof buf, 0) > 0; ++i) {}
}

// ---- certificates -----------------------------------------------------------------------------

namespace {

struct KeyFree {
    void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct CertFree {
    void operator()(X509* c) const { X509_free(c); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;

KeyPtr new_key() {
    KeyPtr k(EVP_EC_gen("P-256"));
    if (!k) throw std::runtime_error("EVP_EC_gen failed");
    return k;
}

void add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (ext == nullptr) throw std::runtime_error("bad extension " + value);
    X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
}

CertPtr make_cert(EVP_PKEY* key, const std::string& cn, const std::string& org, X509* issuer, EVP_PKEY* issuer_key,
                  long nb_days, long na_days, bool ca, const std::string& san) {
    static std::atomic<long> serial{1};
    CertPtr c(X509_new());
    X509_set_version(c.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(c.get()), serial++);
    X509_gmtime_adj(X509_getm_notBefore(c.get()), nb_days * 86400);
    X509_gmtime_adj(X509_getm_notAfter(c.get()), na_days * 86400);
    X509_set_pubkey(c.get(), key);
    X509_NAME* name = X509_get_subject_name(c.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(org.c_str()), -1, -1,
                               0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1,
                               0);
    X509* signer = issuer != nullptr ? issuer : c.get();
    X509_set_issuer_name(c.get(), X509_get_subject_name(signer));
    add_ext(c.get(), signer, NID_basic_constraints, ca ? "critical,CA:TRUE" : "CA:FALSE");
    if (ca) add_ext(c.get(), signer, NID_key_usage, "critical,keyCertSign,cRLSign");
    if (!san.empty()) add_ext(c.get(), signer, NID_subject_alt_name, san);
    if (X509_sign(c.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) == 0) {
        throw std::runtime_error("X509_sign failed");
    }
    return c;
}

void write_pem(const std::string& path, X509* cert, EVP_PKEY* key) {
    FILE* f = std::fopen(path.c_str(), "w");
    if (f == nullptr) throw std::runtime_error("cannot write " + path);
    if (cert != nullptr) PEM_write_X509(f, cert);
    if (key != nullptr) PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(f);
}

} // namespace

struct TestPki::State {
    KeyPtr ca_key;
    CertPtr ca_cert;
};

TestPki::TestPki(const std::string& ca_name) : m_state(std::make_unique<State>()) {
    char tmpl[] = "/tmp/goinstall-triage-pki-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr) throw std::runtime_error("mkdtemp failed");
    m_dir = tmpl;
    m_state->ca_key = new_key();
    m_state->ca_cert = make_cert(m_state->ca_key.get(), ca_name, "goinstall tests", nullptr, nullptr, -2, 60, true, "");
    m_ca.cert_path = m_dir + "/ca.pem";
    write_pem(m_ca.cert_path, m_state->ca_cert.get(), nullptr);
}

TestPki::~TestPki() {
    std::error_code ec;
    std::filesystem::remove_all(m_dir, ec);
}

Pem TestPki::issue(const std::string& name, const CertSpec& spec) {
    KeyPtr key = new_key();
    std::string san;
    for (const auto& d : spec.dns) san += (san.empty() ? "" : ",") + std::string("DNS:") + d;
    for (const auto& ip : spec.ips) san += (san.empty() ? "" : ",") + std::string("IP:") + ip;
    X509* issuer = spec.self_signed ? nullptr : m_state->ca_cert.get();
    EVP_PKEY* issuer_key = spec.self_signed ? nullptr : m_state->ca_key.get();
    CertPtr cert = make_cert(key.get(), spec.cn, "Leaf Org", issuer, issuer_key, spec.not_before_days,
                             spec.not_after_days, false, san);
    Pem out{m_dir + "/" + name + ".pem", m_dir + "/" + name + ".key"};
    write_pem(out.cert_path, cert.get(), nullptr);
    write_pem(out.key_path, nullptr, key.get());
    return out;
}

LoopbackServer::Handler tls_handler(const Pem& leaf) {
    std::shared_ptr<SSL_CTX> ctx(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
    if (!ctx || SSL_CTX_use_certificate_file(ctx.get(), leaf.cert_path.c_str(), SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx.get(), leaf.key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
        throw std::runtime_error("cannot load " + leaf.cert_path);
    }
    return [ctx](int fd) {
        SSL* ssl = SSL_new(ctx.get());
        SSL_set_fd(ssl, fd);
        if (SSL_accept(ssl) == 1) {
            char buf[256];
            (void)SSL_read(ssl, buf, sizeof buf); // until the client closes (or the 1 s timeout)
        }
        SSL_free(ssl);
        return false;
    };
}

} // namespace triage_test
