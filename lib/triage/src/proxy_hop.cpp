#include "goinstall/triage/probes.hpp"

namespace goinstall::triage {

const char* to_string(ProxyHopStatus status) {
    switch (status) {
    case ProxyHopStatus::ok: return "ok";
    case ProxyHopStatus::unresolvable: return "unresolvable";
    case ProxyHopStatus::unreachable: return "unreachable";
    case ProxyHopStatus::auth_required: return "auth_required";
    case ProxyHopStatus::forbidden: return "forbidden";
    case ProxyHopStatus::closed: return "closed";
    case ProxyHopStatus::bad_status: return "bad_status";
    case ProxyHopStatus::tls_to_plain: return "tls_to_plain";
    case ProxyHopStatus::timeout: return "timeout";
    case ProxyHopStatus::error: return "error";
    }
    return "error";
}

ProxyHopResult probe_proxy(const ProxySpec& proxy, const std::string&, int, Millis, const CancelToken*) {
    ProxyHopResult r;
    r.proxy = proxy.display();
    r.detail = "not implemented";
    return r;
}

} // namespace goinstall::triage
