#pragma once
// Checking, committing, switching and removing toolchains. Every change to what users see is a
// single rename, so an interruption leaves either the old state or the new one.

#include <chrono>
#include <filesystem>
#include <string>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/install/layout.hpp"
#include "goinstall/platform/env.hpp"
#include "goinstall/platform/host.hpp"

namespace goinstall {

// How check_toolchain checks a tree.
struct ToolchainCheck {
    // Run `<dir>/bin/go version` (the tree is for this host).
    bool run_go = false;
    // The GOOS the tree is for: "windows" requires bin/go.exe, any other bin/go. "" means the host's
    // when run_go, and otherwise unknown (either binary is accepted).
    std::string target_os;
    // For the whole `go version` child, its exit included.
    std::chrono::milliseconds timeout{std::chrono::seconds(30)};
    const CancelToken* cancel = nullptr;
    // What bin/go's environment is made from (see run_go_version); null: the process environment.
    const Env* env = nullptr;
};

// Checks an extracted tree: <dir>/VERSION (its first line, read bounded) names `version`, the target
// OS's go binary is a regular file in <dir>/bin, and — when check.run_go — `<dir>/bin/go version`
// prints "go version <version> ..." within check.timeout (run_go_version). Fails with toolchain_check
// saying what was found instead, or with cancelled (within ~50 ms of check.cancel being set; the
// child's process group is killed).
Status check_toolchain(const std::filesystem::path& dir, const std::string& version, const ToolchainCheck& check);

// The same with the target OS the host's when run_go (unknown otherwise) and the process environment.
Status check_toolchain(const std::filesystem::path& dir, const std::string& version, bool run_go,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30),
                       const CancelToken* cancel = nullptr);

// Runs `<go> version` through run_subprocess (subprocess.hpp): `env` (null: the process environment)
// without GOROOT/GOFLAGS/GOENV/GOTOOLCHAIN plus GOTOOLCHAIN=local and GOENV=off, stderr merged into
// stdout, one deadline `timeout` for the whole child, output capped at 64 KiB, in its own process
// group that is killed whole at the deadline or on cancellation. Returns its first output line.
// Fails with toolchain_check (cannot start, timed out, printed too much, non-zero exit or signal) or
// cancelled (also when the child died of the signal that cancelled us).
Result<std::string> run_go_version(const std::filesystem::path& go_binary, std::chrono::milliseconds timeout,
                                   const CancelToken* cancel = nullptr, const Env* env = nullptr);

// Moves the checked tree `staged` into its place for `version` atomically, replacing an existing
// tree by exchange; the old tree is removed afterwards. The directory is fsynced.
Status commit_toolchain(const Layout& layout, const std::filesystem::path& staged, const std::string& version);

// Points <root>/current at an installed version (atomic symlink replace). Fails with not_found,
// listing what is installed, when it is not installed.
Status use_version(const Layout& layout, const std::string& version);

// Removes an installed version: renamed aside first (atomic), then deleted. When it was active,
// `current` is removed too and `was_active` is set.
Status uninstall_version(const Layout& layout, const std::string& version, bool* was_active = nullptr);

// A .part not written to for this long is abandoned: clean_leftovers removes it.
inline constexpr std::chrono::hours k_part_max_age{24 * 7};

// Removes leftovers of interrupted runs: staging directories, trees renamed aside, temporaries of
// the `current` switch, and in the downloads directory everything but resumable .part files (and
// their .meta) younger than k_part_max_age. Call with the root lock held.
void clean_leftovers(const Layout& layout);

// Whether clean_leftovers would remove anything (a cheap directory scan; takes no lock).
bool has_leftovers(const Layout& layout);

} // namespace goinstall
