#pragma once
// Checking, committing, switching and removing toolchains. Every change to what users see is a
// single rename, so an interruption leaves either the old state or the new one.

#include <chrono>
#include <filesystem>
#include <string>

#include "goinstall/base/error.hpp"
#include "goinstall/install/layout.hpp"
#include "goinstall/platform/host.hpp"

namespace goinstall {

// Checks an extracted tree: <dir>/VERSION names `version`, <dir>/bin/go exists, and — when
// `run_go` (the tree is for this host) — `<dir>/bin/go version` prints "go version <version> ..."
// within `timeout`. Fails with toolchain_check saying what was found instead.
Status check_toolchain(const std::filesystem::path& dir, const std::string& version, bool run_go,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30));

// Runs `<go> version` with a clean Go environment (GOTOOLCHAIN=local, no GOROOT/GOFLAGS) and returns
// its first output line.
Result<std::string> run_go_version(const std::filesystem::path& go_binary, std::chrono::milliseconds timeout);

// Moves the checked tree `staged` into its place for `version` atomically, replacing an existing
// tree by exchange; the old tree is removed afterwards. The directory is fsynced.
Status commit_toolchain(const Layout& layout, const std::filesystem::path& staged, const std::string& version);

// Points <root>/current at an installed version (atomic symlink replace). Fails with not_found,
// listing what is installed, when it is not installed.
Status use_version(const Layout& layout, const std::string& version);

// Removes an installed version: renamed aside first (atomic), then deleted. When it was active,
// `current` is removed too and `was_active` is set.
Status uninstall_version(const Layout& layout, const std::string& version, bool* was_active = nullptr);

// Removes leftovers of interrupted runs: staging directories and trees renamed aside. Call with the
// root lock held.
void clean_leftovers(const Layout& layout);

} // namespace goinstall
