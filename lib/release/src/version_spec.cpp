#include "goinstall/release/version_spec.hpp"

#include <algorithm>

#include "goinstall/base/strings.hpp"

namespace goinstall {

Result<VersionSpec> parse_version_spec(std::string_view s) {
    // Surrounding whitespace is dropped so a spec read from a file (".go-version\n") works.
    const std::string_view typed = trim(s);
    VersionSpec spec;
    spec.text = std::string(typed);
    if (iequals(typed, "latest") || iequals(typed, "stable")) {
        spec.kind = VersionSpec::Kind::latest;
        return spec;
    }
    auto version = parse_version(typed);
    if (!version) {
        std::string msg = "'";
        msg += sanitize_for_display(typed, 80);
        msg += "' is not a Go version (try 1.21.3, 1.21, or latest)";
        return fail(ErrorCode::usage, std::move(msg));
    }
    // "1.21" / "go1.21" (two numbers, no pre-release) names a line; everything else, including
    // "go1" and "1.22rc1", names one release.
    const auto dots = std::count(version->text.begin(), version->text.end(), '.');
    spec.kind = (dots == 1 && version->is_stable()) ? VersionSpec::Kind::line : VersionSpec::Kind::exact;
    spec.version = std::move(*version);
    return spec;
}

bool spec_allows(const VersionSpec& spec, const Version& v) {
    switch (spec.kind) {
    case VersionSpec::Kind::latest: return true;
    case VersionSpec::Kind::exact: return spec.version == v;
    case VersionSpec::Kind::line: return same_line(spec.version, v);
    }
    return false;
}

} // namespace goinstall
