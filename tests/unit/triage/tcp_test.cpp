// probe_tcp against loopback sockets the test opens, and the errno classification.

#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <thread>

#include "goinstall/triage/probes.hpp"
#include "loopback_server.hpp"

using namespace goinstall::triage;
using namespace std::chrono_literals;
using triage_test::LoopbackServer;

namespace {

bool have_ipv6_loopback() {
    int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0) return false;
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_loopback;
    bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

int closed_port() {
    LoopbackServer s([](int) { return false; });
    return s.port();
}

} // namespace

TEST_CASE("classify_connect_errno", "[triage][tcp]") {
    // clang-format off
    auto [err, status] = GENERATE(table<int, TcpStatus>({
        {0, TcpStatus::connected},
        {ECONNREFUSED, TcpStatus::refused},
        {ETIMEDOUT, TcpStatus::timeout},
        {ENETUNREACH, TcpStatus::unreachable},
        {EHOSTUNREACH, TcpStatus::unreachable},
        {EADDRNOTAVAIL, TcpStatus::unreachable},
        {EAFNOSUPPORT, TcpStatus::unreachable},
        {ENETDOWN, TcpStatus::unreachable},
        {EACCES, TcpStatus::error},
        {EPERM, TcpStatus::error},
    }));
    // clang-format on
    CHECK(classify_connect_errno(err) == status);
}

TEST_CASE("probe_tcp: a listening socket connects, a closed port is refused", "[triage][tcp]") {
    LoopbackServer server([](int) { return false; });
    // 30 s timeouts: the outcome is what is checked; elapsed only has to be far from them.
    TcpResult ok = probe_tcp("127.0.0.1", server.port(), 30s, nullptr);
    CHECK(ok.status == TcpStatus::connected);
    CHECK(ok.address == "127.0.0.1");
    CHECK(ok.port == server.port());
    CHECK_FALSE(ok.ipv6);
    CHECK(ok.os_errno == 0);
    CHECK(ok.elapsed < 10s); // not the 30 s timeout (3x margin)

    TcpResult refused = probe_tcp("127.0.0.1", closed_port(), 30s, nullptr);
    CHECK(refused.status == TcpStatus::refused);
    CHECK(refused.os_errno == ECONNREFUSED);
    CHECK(refused.elapsed < 10s); // refused at once, not after the 30 s timeout
}

TEST_CASE("probe_tcp over IPv6 loopback", "[triage][tcp]") {
    if (!have_ipv6_loopback()) {
        WARN("no ::1 on this machine: IPv6 case skipped");
        return;
    }
    LoopbackServer server([](int) { return false; }, true);
    auto ip = GENERATE(as<std::string>{}, "::1", "[::1]");
    TcpResult r = probe_tcp(ip, server.port(), 1000ms, nullptr);
    CHECK(r.status == TcpStatus::connected);
    CHECK(r.ipv6);
    CHECK(r.address == "::1");
    CHECK(probe_tcp(ip, closed_port(), 1000ms, nullptr).status == TcpStatus::refused);
}

TEST_CASE("probe_tcp: a full accept queue drops the SYN, which is a timeout", "[triage][tcp]") {
    // docs/field-notes.md#network-triage: a listen(fd, 0) socket that never accepts; once its queue
    // holds a connection, Linux drops further SYNs, so a connect neither succeeds nor is refused.
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    REQUIRE(::listen(fd, 0) == 0);
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    int port = ntohs(a.sin_port);
    // Fill the queue (bounded: at most 8 filler connections, each given 100 ms).
    std::vector<TcpResult> fillers;
    for (int i = 0; i < 8; ++i) {
        fillers.push_back(probe_tcp("127.0.0.1", port, 100ms, nullptr));
        if (fillers.back().status == TcpStatus::timeout) break;
    }
    REQUIRE(fillers.back().status == TcpStatus::timeout); // the queue is full
    TcpResult r = probe_tcp("127.0.0.1", port, 250ms, nullptr);
    ::close(fd);
    CHECK(r.status == TcpStatus::timeout);
    CHECK(r.os_errno == ETIMEDOUT);
    CHECK(r.elapsed >= 240ms); // a lower bound: load only lengthens it
    CHECK(r.elapsed < 10s);    // its 250 ms timeout, not the kernel's SYN retries (~2 min)
}

TEST_CASE("probe_tcp: cancellation and bad input", "[triage][tcp]") {
    goinstall::CancelToken token;
    token.cancel();
    TcpResult c = probe_tcp("127.0.0.1", 9, 1000ms, &token);
    CHECK(c.status == TcpStatus::error);
    CHECK(c.os_errno == ECANCELED);

    for (std::string bad : {"localhost", "", "1.2.3.4.5", "::g"}) {
        TcpResult r = probe_tcp(bad, 80, 100ms, nullptr);
        CHECK(r.status == TcpStatus::error);
        CHECK(r.os_errno == EINVAL);
    }
    CHECK(probe_tcp("127.0.0.1", 0, 100ms, nullptr).os_errno == EINVAL);
    CHECK(probe_tcp("127.0.0.1", 70000, 100ms, nullptr).os_errno == EINVAL);
}
