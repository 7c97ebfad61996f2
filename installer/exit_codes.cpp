#include "exit_codes.hpp"

namespace goinstall::cli {

int exit_code_for(ErrorCode code) {
    switch (code) {
    case ErrorCode::internal: return k_exit_internal;
    case ErrorCode::usage: return k_exit_usage;
    case ErrorCode::not_found: return k_exit_not_found;
    case ErrorCode::index_invalid:
    case ErrorCode::network: return k_exit_network;
    case ErrorCode::tls: return k_exit_tls;
    case ErrorCode::proxy_auth: return k_exit_proxy_auth;
    case ErrorCode::checksum:
    case ErrorCode::no_checksum: return k_exit_checksum;
    case ErrorCode::security: return k_exit_security;
    case ErrorCode::bad_archive:
    case ErrorCode::toolchain_check: return k_exit_bad_archive;
    case ErrorCode::disk_full: return k_exit_disk_full;
    case ErrorCode::filesystem:
    case ErrorCode::permission: return k_exit_filesystem;
    case ErrorCode::lock_timeout: return k_exit_lock_timeout;
    case ErrorCode::cancelled: return k_exit_cancelled;
    }
    return k_exit_internal;
}

const char* exit_code_help() {
    return "Exit codes:\n"
           "    0  success (also: already installed)\n"
           "    1  internal error (a bug: please report it)\n"
           "    2  usage: bad command line, flag, environment or config file value\n"
           "    3  not found: version not in the release index, no archive for this OS/arch, or not installed\n"
           "    4  network: the index or the archive could not be fetched\n"
           "    5  TLS: certificate or handshake failure\n"
           "    6  proxy authentication required or refused\n"
           "    7  checksum mismatch, or no checksum to verify against\n"
           "    8  the archive is corrupt or unsafe, or the toolchain in it does not work\n"
           "    9  disk full\n"
           "   10  filesystem error or permission denied\n"
           "   11  timed out waiting for another goinstall (--lock-timeout)\n"
           "   12  SECURITY ERROR: the checksum database contradicted itself (two inconsistent signed trees)\n"
           "   20  doctor: degraded (works, but something is wrong or slow)\n"
           "   21  doctor: failed (the index or every mirror cannot be reached)\n"
           "  130  cancelled (SIGINT/SIGTERM)\n";
}

} // namespace goinstall::cli
