#pragma once
// Checking, committing, switching and removing toolchains. Every change to what users see is a
// single rename, so an interruption leaves either the old state or the new one.

#include <chrono>
#include <filesystem>
#include <string>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/install/layout.hpp"
#include "goinstall/platform/host.hpp"

namespace goinstall {

// Checks an extracted tree: <dir>/VERSION names `version`, <dir>/bin/go exists, and — when
// `run_go` (the tree is for this host) — `<dir>/bin/go version` prints "go version <version> ..."
// within `timeout`. Fails with toolchain_check saying what was found instead, or with cancelled
// (within ~50 ms of `cancel` being set; the child is killed).
Status check_toolchain(const std::filesystem::path& dir, const std::string& version, bool run_go,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30),
                       const CancelToken* cancel = nullptr);

// Runs `<go> version` with a clean Go environment (GOTOOLCHAIN=local, no GOROOT/GOFLAGS) in its own
// process group and returns its first output line. On timeout or cancellation the group is killed;
// cancellation (also when the child died of the same signal) is ErrorCode::cancelled.
Result<std::string> run_go_version(const std::filesystem::path& go_binary, std::chrono::milliseconds timeout,
                                   const CancelToken* cancel = nullptr);

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
