#include "socket_util.hpp"

#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace goinstall::triage::detail {

Fd& Fd::operator=(Fd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.m_fd, -1));
    return *this;
}

void Fd::reset(int fd) {
    if (m_fd >= 0) ::close(m_fd);
    m_fd = fd;
}

Millis elapsed_since(SteadyClock::time_point start) {
    return std::chrono::duration_cast<Millis>(SteadyClock::now() - start);
}

Millis remaining(Deadline deadline) {
    // Rounded up: "0 ms left" must mean the deadline has passed, not that less than 1 ms remains.
    auto left = std::chrono::ceil<Millis>(deadline - SteadyClock::now());
    return std::max(left, Millis{0});
}

WaitResult wait_fd(int fd, short events, Deadline deadline, const CancelToken* cancel, short* revents) {
    // Bounded by the deadline: every slice is at most k_poll_slice and time always advances.
    for (;;) {
        if (is_cancelled(cancel)) return WaitResult::cancelled;
        Millis left = remaining(deadline);
        if (left.count() <= 0) return WaitResult::timeout;
        pollfd p{fd, events, 0};
        int n = ::poll(&p, 1, static_cast<int>(std::min(left, k_poll_slice).count()));
        if (n < 0) {
            if (errno == EINTR) continue;
            return WaitResult::error;
        }
        if (n > 0) {
            if (revents != nullptr) *revents = p.revents;
            return WaitResult::ready;
        }
    }
}

namespace {

std::string_view strip_brackets(std::string_view ip) {
    if (ip.size() >= 2 && ip.front() == '[' && ip.back() == ']') return ip.substr(1, ip.size() - 2);
    return ip;
}

} // namespace

std::optional<SockAddr> make_sockaddr(std::string_view ip_in, int port) {
    if (port < 0 || port > 65535) return std::nullopt;
    std::string ip(strip_brackets(ip_in));
    SockAddr out;
    in_addr a4{};
    if (ip.find(':') == std::string::npos) {
        if (::inet_pton(AF_INET, ip.c_str(), &a4) != 1) return std::nullopt;
        auto* sin = reinterpret_cast<sockaddr_in*>(&out.storage);
        sin->sin_family = AF_INET;
        sin->sin_port = htons(static_cast<std::uint16_t>(port));
        sin->sin_addr = a4;
        out.length = sizeof(sockaddr_in);
        return out;
    }
    std::string zone;
    if (auto pct = ip.find('%'); pct != std::string::npos) {
        zone = ip.substr(pct + 1);
        ip.resize(pct);
        if (zone.empty()) return std::nullopt;
    }
    in6_addr a6{};
    if (::inet_pton(AF_INET6, ip.c_str(), &a6) != 1) return std::nullopt;
    auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out.storage);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<std::uint16_t>(port));
    sin6->sin6_addr = a6;
    if (!zone.empty()) {
        unsigned index = ::if_nametoindex(zone.c_str());
        if (index == 0 && !zone.empty() && std::all_of(zone.begin(), zone.end(), ::isdigit)) {
            index = static_cast<unsigned>(std::stoul(zone.substr(0, 9)));
        }
        sin6->sin6_scope_id = index;
    }
    out.length = sizeof(sockaddr_in6);
    return out;
}

std::string address_text(const sockaddr* sa) {
    char buf[INET6_ADDRSTRLEN] = {};
    if (sa->sa_family == AF_INET) {
        ::inet_ntop(AF_INET, &reinterpret_cast<const sockaddr_in*>(sa)->sin_addr, buf, sizeof buf);
    } else if (sa->sa_family == AF_INET6) {
        ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(sa)->sin6_addr, buf, sizeof buf);
    }
    return buf;
}

bool is_ip_literal(std::string_view text) { return make_sockaddr(text, 0).has_value(); }

std::pair<TcpResult, Fd> connect_tcp(const std::string& ip, int port, Deadline deadline, const CancelToken* cancel) {
    auto start = SteadyClock::now();
    TcpResult r;
    r.address = std::string(strip_brackets(ip));
    r.port = port;
    auto finish = [&](TcpStatus status, int err, Fd fd = Fd()) {
        r.status = status;
        r.os_errno = err;
        r.elapsed = elapsed_since(start);
        return std::pair<TcpResult, Fd>(r, std::move(fd));
    };
    auto addr = make_sockaddr(ip, port);
    if (!addr || port == 0) return finish(TcpStatus::error, EINVAL);
    r.ipv6 = addr->family() == AF_INET6;
    if (is_cancelled(cancel)) return finish(TcpStatus::error, ECANCELED);

    Fd fd(::socket(addr->family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd.valid()) {
        int err = errno;
        return finish(classify_connect_errno(err), err);
    }
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr->storage), addr->length) == 0) {
        return finish(TcpStatus::connected, 0, std::move(fd));
    }
    if (errno != EINPROGRESS) {
        int err = errno;
        return finish(classify_connect_errno(err), err);
    }
    switch (wait_fd(fd.get(), POLLOUT, deadline, cancel)) {
    case WaitResult::timeout: return finish(TcpStatus::timeout, ETIMEDOUT);
    case WaitResult::cancelled: return finish(TcpStatus::error, ECANCELED);
    case WaitResult::error: {
        int err = errno;
        return finish(TcpStatus::error, err);
    }
    case WaitResult::ready: break;
    }
    int err = 0;
    socklen_t len = sizeof err;
    if (::getsockopt(fd.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
    if (err != 0) return finish(classify_connect_errno(err), err);
    return finish(TcpStatus::connected, 0, std::move(fd));
}

int send_all(int fd, std::string_view data, Deadline deadline, const CancelToken* cancel) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (n > 0) {
            sent += static_cast<std::size_t>(n);
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) return errno;
        switch (wait_fd(fd, POLLOUT, deadline, cancel)) {
        case WaitResult::ready: break;
        case WaitResult::timeout: return ETIMEDOUT;
        case WaitResult::cancelled: return ECANCELED;
        case WaitResult::error: return errno != 0 ? errno : EIO;
        }
    }
    return 0;
}

} // namespace goinstall::triage::detail
