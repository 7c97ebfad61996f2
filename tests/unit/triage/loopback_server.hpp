#pragma once
// Test fixtures for the TCP, TLS and proxy-hop probes: a scripted TCP server on loopback and
// certificates made in-process with OpenSSL's X509 API (a CA and leaves that are good, expired,
// not yet valid, for the wrong name, or self-signed).

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace triage_test {

// Listens on 127.0.0.1 (or ::1) at an ephemeral port; a thread accepts connections one after the
// other and runs the handler on each (a blocking socket with 1 s send/receive timeouts). The
// handler returns true to keep the connection open (silent servers) until the server stops.
class LoopbackServer {
public:
    using Handler = std::function<bool(int fd)>;
    explicit LoopbackServer(Handler handler, bool ipv6 = false, int backlog = 16);
    ~LoopbackServer();
    LoopbackServer(const LoopbackServer&) = delete;
    LoopbackServer& operator=(const LoopbackServer&) = delete;

    int port() const { return m_port; }
    std::string ip() const { return m_ipv6 ? "::1" : "127.0.0.1"; }
    int accepted() const { return m_accepted; }
    // Text the handlers recorded (e.g. the request they read), in order.
    void note(std::string text);
    std::vector<std::string> notes() const;

private:
    void run();
    Handler m_handler;
    bool m_ipv6 = false;
    int m_fd = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_accepted{0};
    std::vector<int> m_kept;
    mutable std::mutex m_mu;
    std::vector<std::string> m_notes;
    std::thread m_thread;
};

// Reads from fd until "\r\n\r\n" (or 16 KiB, EOF, or the 1 s socket timeout); returns what it read.
std::string read_head(int fd);
void write_all(int fd, const std::string& data);
// Half-closes (FIN) and reads until the peer closes or the 1 s timeout, so closing does not send
// an RST that could overtake the answer.
void drain_until_closed(int fd);

// ---- certificates -----------------------------------------------------------------------------

struct CertSpec {
    std::string cn = "localhost";
    std::vector<std::string> dns = {"localhost"};
    std::vector<std::string> ips = {"127.0.0.1", "::1"};
    long not_before_days = -1; // relative to now
    long not_after_days = 30;
    bool self_signed = false;
};

// A key pair and certificate in PEM, ready for SSL_CTX_use_*_file or as a trust file.
struct Pem {
    std::string cert_path;
    std::string key_path;
};

class TestPki {
public:
    // Makes a CA ("CN=<ca_name>, O=goinstall tests") in a fresh temp dir.
    explicit TestPki(const std::string& ca_name = "goinstall test CA");
    ~TestPki();
    TestPki(const TestPki&) = delete;
    TestPki& operator=(const TestPki&) = delete;

    const std::string& ca_file() const { return m_ca.cert_path; }
    const std::string& dir() const { return m_dir; }
    Pem issue(const std::string& name, const CertSpec& spec); // signed by the CA unless self_signed

private:
    struct State;
    std::unique_ptr<State> m_state;
    std::string m_dir;
    Pem m_ca;
};

// A TLS server handler serving `leaf` (blocking SSL_accept; ends when the client goes away).
LoopbackServer::Handler tls_handler(const Pem& leaf);

} // namespace triage_test
