#pragma once
// Choosing a release's installable archive for an OS/arch pair (Go names).

#include <string>
#include <string_view>
#include <vector>

#include "goinstall/platform/host.hpp"
#include "goinstall/release/index.hpp"

namespace goinstall {

// The GOARCH an index "arch" field stands for: "armv6l", "arm6" and "arm" → "arm"
// (docs/field-notes.md#release-index: linux 32-bit ARM is "armv6l", go1.6beta1 says "arm6"); other
// names go through normalize_arch.
std::string goarch_of_index_arch(std::string_view index_arch);

// The installable archive (kind "archive") of `release` for `platform`, or nullptr when none.
// platform.os/arch are normalised first (normalize_os/normalize_arch), so "x86_64" works too.
// Files whose os is not a GOOS-like name (starts with a lowercase letter) never match: the bogus
// go1 release lists os "4", arch "bootstrap" (docs/field-notes.md#release-index).
// Matching uses the index's arch field via goarch_of_index_arch, so BSD/windows go1.21–1.22 files
// with arch "armv6l" but filename "-arm." match GOARCH "arm". On windows only a .zip qualifies;
// elsewhere a .tar.gz is preferred. Among several candidates the choice is deterministic: no
// "-osxX.Y" suffix first, else the highest osx version; then a filename that spells the index arch
// ("-armv6l." over "-arm."); then index order. Returns the index's own ReleaseFile.
const ReleaseFile* find_archive(const Release& release, const Platform& platform);

// Every (os, arch) for which find_archive returns a file, sorted by os then arch, no duplicates.
std::vector<Platform> archive_platforms(const Release& release);

// The platform an index entry is built for: its os (normalize_os) and goarch_of_index_arch(arch).
Platform platform_of(const ReleaseFile& file);

// Whether `file` is built for `platform` (normalised: "x86_64" is "amd64").
bool built_for(const ReleaseFile& file, const Platform& platform);

// "linux/amd64, darwin/arm64, ..." for the archives a release has (archive_platforms).
std::string platform_list(const Release& release);

} // namespace goinstall
