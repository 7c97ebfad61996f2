#pragma once
// A scripted DNS responder on 127.0.0.1:<ephemeral> for the triage probe tests
// (docs/field-notes.md#network-triage): a thread answers each datagram with whatever the handler
// returns (nothing = stay silent). Packets are built by hand here, independently of the code under
// test (RFC 1035 §4.1).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace triage_test {

using Bytes = std::vector<unsigned char>;

inline void put16(Bytes& b, unsigned v) {
    b.push_back(static_cast<unsigned char>((v >> 8) & 0xFF));
    b.push_back(static_cast<unsigned char>(v & 0xFF));
}

inline void put_name(Bytes& b, const std::string& name) {
    std::size_t start = 0;
    while (start < name.size()) {
        std::size_t dot = name.find('.', start);
        if (dot == std::string::npos) dot = name.size();
        b.push_back(static_cast<unsigned char>(dot - start));
        b.insert(b.end(), name.begin() + static_cast<long>(start), name.begin() + static_cast<long>(dot));
        start = dot + 1;
    }
    b.push_back(0);
}

// The query as the responder sees it.
struct Query {
    std::uint16_t id = 0;
    std::uint16_t qtype = 0;
    Bytes question; // name + type + class, as sent
    std::string name;
};

inline bool parse_query(const Bytes& p, Query& q) {
    if (p.size() < 17) return false;
    q.id = static_cast<std::uint16_t>((p[0] << 8) | p[1]);
    std::size_t pos = 12;
    q.name.clear();
    while (pos < p.size() && p[pos] != 0) {
        std::size_t len = p[pos];
        if (len > 63 || pos + 1 + len >= p.size()) return false;
        if (!q.name.empty()) q.name += '.';
        q.name.append(reinterpret_cast<const char*>(&p[pos + 1]), len);
        pos += 1 + len;
    }
    if (pos + 5 > p.size()) return false;
    q.qtype = static_cast<std::uint16_t>((p[pos + 1] << 8) | p[pos + 2]);
    q.question.assign(p.begin() + 12, p.begin() + static_cast<long>(pos) + 5);
    return true;
}

// An answer to `q`: header with `rcode`, the question echoed, then one record per address (A for
// dotted IPv4, AAAA for IPv6) owned by the question's name (compression pointer to offset 12).
inline Bytes make_answer(const Query& q, int rcode, const std::vector<std::string>& addresses = {},
                         std::uint16_t id_override = 0) {
    Bytes b;
    put16(b, id_override != 0 ? id_override : q.id);
    put16(b, 0x8180 | static_cast<unsigned>(rcode)); // QR, RD, RA
    put16(b, 1);
    put16(b, static_cast<unsigned>(addresses.size()));
    put16(b, 0);
    put16(b, 0);
    b.insert(b.end(), q.question.begin(), q.question.end());
    for (const auto& a : addresses) {
        bool v6 = a.find(':') != std::string::npos;
        put16(b, 0xC00C);
        put16(b, v6 ? 28 : 1);
        put16(b, 1);
        put16(b, 0);
        put16(b, 60); // TTL
        unsigned char raw[16] = {};
        inet_pton(v6 ? AF_INET6 : AF_INET, a.c_str(), raw);
        put16(b, v6 ? 16 : 4);
        b.insert(b.end(), raw, raw + (v6 ? 16 : 4));
    }
    return b;
}

class UdpResponder {
public:
    // handler(query, n-th datagram received starting at 1) → answers to send (possibly none).
    using Handler = std::function<std::vector<Bytes>(const Query&, int)>;

    explicit UdpResponder(Handler handler) : m_handler(std::move(handler)) {
        m_fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        socklen_t len = sizeof a;
        if (m_fd < 0 || ::bind(m_fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
            ::getsockname(m_fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
            throw std::runtime_error("cannot bind the test DNS responder");
        }
        m_port = ntohs(a.sin_port);
        m_thread = std::thread([this] { run(); });
    }
    ~UdpResponder() {
        m_stop = true;
        m_thread.join();
        ::close(m_fd);
    }
    UdpResponder(const UdpResponder&) = delete;
    UdpResponder& operator=(const UdpResponder&) = delete;

    std::string address() const { return "127.0.0.1:" + std::to_string(m_port); }
    int received() const { return m_received; }
    std::vector<std::string> names() const {
        std::lock_guard lock(m_mu);
        return m_names;
    }

private:
    void run() {
        // Bounded: polls in 20 ms slices until the destructor sets m_stop.
        while (!m_stop) {
            pollfd p{m_fd, POLLIN, 0};
            if (::poll(&p, 1, 20) <= 0) continue;
            Bytes buf(4096);
            sockaddr_storage from{};
            socklen_t flen = sizeof from;
            ssize_t n = ::recvfrom(m_fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &flen);
            if (n <= 0) continue;
            buf.resize(static_cast<std::size_t>(n));
            int nth = ++m_received;
            Query q;
            if (!parse_query(buf, q)) continue;
            {
                std::lock_guard lock(m_mu);
                m_names.push_back(q.name);
            }
            for (const auto& out : m_handler(q, nth)) {
                ::sendto(m_fd, out.data(), out.size(), 0, reinterpret_cast<sockaddr*>(&from), flen);
            }
        }
    }

    Handler m_handler;
    int m_fd = -1;
    int m_port = 0;
    std::atomic<bool> m_stop{false};
    std::atomic<int> m_received{0};
    mutable std::mutex m_mu;
    std::vector<std::string> m_names;
    std::thread m_thread;
};

} // namespace triage_test
