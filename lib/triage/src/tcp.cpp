// TCP probe: one non-blocking connect, classified by errno (refused / timeout / unreachable).

#include <cerrno>

#include "goinstall/triage/probes.hpp"
#include "socket_util.hpp"

namespace goinstall::triage {

const char* to_string(TcpStatus status) {
    switch (status) {
    case TcpStatus::connected: return "connected";
    case TcpStatus::refused: return "refused";
    case TcpStatus::timeout: return "timeout";
    case TcpStatus::unreachable: return "unreachable";
    case TcpStatus::error: return "error";
    }
    return "error";
}

TcpStatus classify_connect_errno(int err) {
    switch (err) {
    case 0: return TcpStatus::connected;
    case ECONNREFUSED: return TcpStatus::refused;
    case ETIMEDOUT: return TcpStatus::timeout;
    case ENETUNREACH:
    case EHOSTUNREACH:
    case EADDRNOTAVAIL:
    case EAFNOSUPPORT:
    case ENETDOWN:
    case EHOSTDOWN: return TcpStatus::unreachable;
    default: return TcpStatus::error;
    }
}

TcpResult probe_tcp(const std::string& ip, int port, Millis timeout, const CancelToken* cancel) {
    // The socket closes when the returned Fd goes out of scope.
    return detail::connect_tcp(ip, port, detail::deadline_after(timeout), cancel).first;
}

} // namespace goinstall::triage
