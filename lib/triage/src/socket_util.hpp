#pragma once
// Private helpers shared by the probes: an owning file descriptor, deadlines, a poll() wait that
// honours a CancelToken, IP-literal parsing and a non-blocking TCP connect that hands back the
// socket (the TLS and proxy probes continue on it).

#include <sys/socket.h>

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "goinstall/triage/probes.hpp"

namespace goinstall::triage::detail {

using SteadyClock = std::chrono::steady_clock;
using Deadline = SteadyClock::time_point;

// Longest single poll() slice, so a plain cancel() (flag only, e.g. from a signal handler) is
// noticed within this time.
inline constexpr Millis k_poll_slice{50};

class Fd {
public:
    Fd() = default;
    explicit Fd(int fd) : m_fd(fd) {}
    Fd(Fd&& o) noexcept : m_fd(std::exchange(o.m_fd, -1)) {}
    Fd& operator=(Fd&& o) noexcept;
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    ~Fd() { reset(); }

    int get() const { return m_fd; }
    bool valid() const { return m_fd >= 0; }
    void reset(int fd = -1);

private:
    int m_fd = -1;
};

inline Deadline deadline_after(Millis timeout) { return SteadyClock::now() + timeout; }
Millis elapsed_since(SteadyClock::time_point start);
Millis remaining(Deadline deadline); // never negative

enum class WaitResult { ready, timeout, cancelled, error };
// Waits for `events` (POLLIN/POLLOUT) on fd until the deadline, in slices of k_poll_slice, checking
// `cancel` between slices. `revents` receives the last poll's revents when ready.
WaitResult wait_fd(int fd, short events, Deadline deadline, const CancelToken* cancel, short* revents = nullptr);

inline bool is_cancelled(const CancelToken* cancel) { return cancel != nullptr && cancel->cancelled(); }

// An IPv4 or IPv6 literal (IPv6 optionally in brackets and with a %zone) plus port as a sockaddr.
struct SockAddr {
    sockaddr_storage storage{};
    socklen_t length = 0;
    int family() const { return storage.ss_family; }
};
std::optional<SockAddr> make_sockaddr(std::string_view ip, int port);
// The textual form of an address (without port, zone dropped).
std::string address_text(const sockaddr* sa);
// True for an IPv4 literal or an IPv6 literal (brackets and %zone allowed).
bool is_ip_literal(std::string_view text);

// A non-blocking TCP connect bounded by the deadline. On success the socket is returned (still
// non-blocking) together with a TcpResult whose status is connected.
std::pair<TcpResult, Fd> connect_tcp(const std::string& ip, int port, Deadline deadline, const CancelToken* cancel);

// Sends all of `data` on a non-blocking socket (MSG_NOSIGNAL). Returns 0 or an errno value
// (ETIMEDOUT when the deadline passes, ECANCELED when cancelled).
int send_all(int fd, std::string_view data, Deadline deadline, const CancelToken* cancel);

// System resolution (getaddrinfo on a detached helper thread), shared by resolve_system and the
// proxy probe.
DnsResult resolve_with_deadline(const std::string& host, Deadline deadline, const CancelToken* cancel);

} // namespace goinstall::triage::detail
