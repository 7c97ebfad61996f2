#pragma once
// The one place where error codes become process exit codes. Documented in README.md and --help;
// scripts depend on these numbers, so they never change meaning.

#include "goinstall/base/error.hpp"

namespace goinstall::cli {

enum ExitCode : int {
    k_exit_ok = 0,
    k_exit_internal = 1,
    k_exit_usage = 2,
    k_exit_not_found = 3,
    k_exit_network = 4,
    k_exit_tls = 5,
    k_exit_proxy_auth = 6,
    k_exit_checksum = 7,
    k_exit_bad_archive = 8,
    k_exit_disk_full = 9,
    k_exit_filesystem = 10,
    k_exit_lock_timeout = 11,
    k_exit_security = 12, // the checksum database showed two inconsistent trees (proof printed)
    // goinstall doctor only (a report, not an error): works but degraded / does not work.
    k_exit_doctor_degraded = 20,
    k_exit_doctor_failed = 21,
    k_exit_cancelled = 130,
};

int exit_code_for(ErrorCode code);

// The table printed by --help and README: "  2  usage: ..." lines.
const char* exit_code_help();

} // namespace goinstall::cli
