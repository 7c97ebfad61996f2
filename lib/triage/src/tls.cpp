#include "goinstall/triage/probes.hpp"

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

TlsResult probe_tls(const std::string&, int, const std::string&, const TlsProbeOptions&, const CancelToken*) {
    TlsResult r;
    r.detail = "not implemented";
    return r;
}

} // namespace goinstall::triage
