#include "goinstall/triage/probes.hpp"

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

TcpResult probe_tcp(const std::string& ip, int port, Millis, const CancelToken*) {
    TcpResult r;
    r.address = ip;
    r.port = port;
    return r;
}

} // namespace goinstall::triage
