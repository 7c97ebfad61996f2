#include "goinstall/base/events.hpp"

namespace goinstall {

const char* to_string(EventKind kind) {
    switch (kind) {
    case EventKind::info: return "info";
    case EventKind::warning: return "warning";
    case EventKind::index_source: return "index_source";
    case EventKind::resolved: return "resolved";
    case EventKind::download_start: return "download_start";
    case EventKind::progress: return "progress";
    case EventKind::attempt: return "attempt";
    case EventKind::retry: return "retry";
    case EventKind::failover: return "failover";
    case EventKind::verified: return "verified";
    case EventKind::extracted: return "extracted";
    case EventKind::installed: return "installed";
    case EventKind::already_installed: return "already_installed";
    case EventKind::switched: return "switched";
    case EventKind::route: return "route";
    }
    return "info";
}

} // namespace goinstall
