#pragma once
// What the user asked for on the command line: "latest", an exact version, or a release line.

#include <string>
#include <string_view>

#include "goinstall/base/error.hpp"
#include "goinstall/release/version.hpp"

namespace goinstall {

struct VersionSpec {
    // latest: "latest"/"stable" (any case) → the newest stable release.
    // exact:  "1.21.3", "go1.21.3", "1.22rc1", "go1" → that version (Version equality).
    // line:   "1.21", "go1.21" → the newest stable 1.21.x; if the line has no stable release yet,
    //         its newest unstable one.
    enum class Kind { latest, exact, line };
    Kind kind = Kind::latest;
    Version version;  // meaningful for exact and line
    std::string text; // what the user typed
};

// Fails with ErrorCode::usage and a one-line message quoting the (sanitised) input:
// "'1.x' is not a Go version (try 1.21.3, 1.21, or latest)".
Result<VersionSpec> parse_version_spec(std::string_view s);

// Whether `v` satisfies the spec: any for latest, the same line for a line spec, equal for exact.
bool spec_allows(const VersionSpec& spec, const Version& v);

} // namespace goinstall
