#pragma once
// Picking the release a VersionSpec means.

#include <cstddef>
#include <string>
#include <vector>

#include "goinstall/base/error.hpp"
#include "goinstall/release/index.hpp"
#include "goinstall/release/version_spec.hpp"

namespace goinstall {

// Returns a pointer into `index` (valid while the index lives).
// latest → the newest stable release (index flag and version both stable); with include_unstable,
// the newest release of any kind. include_unstable affects only Kind::latest.
// exact → the release whose Version equals spec.version ("1.20.0" finds go1.20).
// line → the newest stable release of the line, else the newest unstable one of it.
// Not found → ErrorCode::not_found: "go1.21.99 is not in the release index (closest: go1.21.13,
// go1.21.12, go1.22.0)"; the parenthesis is omitted when there is nothing close.
Result<const Release*> resolve(const ReleaseIndex& index, const VersionSpec& spec, bool include_unstable = false);

// Up to `max` version texts near `wanted`, for error messages: releases of wanted's own line first
// (newest first; stable ones only when wanted is stable and the line has any; when wanted is a
// beta/rc, the line's betas/rcs come before its stable releases), keeping one slot
// for neighbours when there are any; then the oldest release of the nearest line above and the
// newest release of the nearest line below (stable preferred); then the rest of the own line.
// Never lists a release equal to `wanted`.
std::vector<std::string> close_matches(const ReleaseIndex& index, const Version& wanted, std::size_t max = 3);

} // namespace goinstall
