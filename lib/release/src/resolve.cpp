#include "goinstall/release/resolve.hpp"

#include <algorithm>
#include <optional>

namespace goinstall {
namespace {

using Line = std::pair<int, int>;

Line line_of(const Version& v) { return {v.major, v.minor}; }

// The releases of one line, newest first (the index is sorted newest first).
std::vector<const Release*> releases_of(const ReleaseIndex& index, Line line) {
    std::vector<const Release*> out;
    for (const auto& r : index.releases)
        if (line_of(r.version) == line) out.push_back(&r);
    return out;
}

bool is_stable(const Release& r) { return r.stable && r.version.is_stable(); }

// Stable members only, unless there are none (or the caller wants unstable ones too).
std::vector<const Release*> prefer_stable(std::vector<const Release*> rs, bool keep_unstable) {
    if (keep_unstable || std::none_of(rs.begin(), rs.end(), [](auto* r) { return is_stable(*r); })) return rs;
    std::erase_if(rs, [](auto* r) { return !is_stable(*r); });
    return rs;
}

// The nearest line strictly above (up) or below `line` that has any release.
std::optional<Line> nearest_line(const ReleaseIndex& index, Line line, bool up) {
    std::optional<Line> best;
    for (const auto& r : index.releases) {
        const Line l = line_of(r.version);
        if (up ? l <= line : l >= line) continue;
        if (!best || (up ? l < *best : l > *best)) best = l;
    }
    return best;
}

std::string not_found_message(const ReleaseIndex& index, const Version& wanted) {
    std::string msg = to_string(wanted) + " is not in the release index";
    auto close = close_matches(index, wanted);
    if (close.empty()) return msg;
    msg += " (closest: ";
    for (std::size_t i = 0; i < close.size(); ++i) msg += (i ? ", " : "") + close[i];
    return msg + ")";
}

} // namespace

Result<const Release*> resolve(const ReleaseIndex& index, const VersionSpec& spec, bool include_unstable) {
    switch (spec.kind) {
    case VersionSpec::Kind::latest:
        for (const auto& r : index.releases)
            if (include_unstable || is_stable(r)) return &r;
        return fail(ErrorCode::not_found, include_unstable ? "the release index lists no release"
                                                           : "the release index lists no stable release");
    case VersionSpec::Kind::exact:
        for (const auto& r : index.releases)
            if (r.version == spec.version) return &r;
        break;
    case VersionSpec::Kind::line: {
        auto line = prefer_stable(releases_of(index, line_of(spec.version)), false);
        if (!line.empty()) return line.front();
        break;
    }
    }
    return fail(ErrorCode::not_found, not_found_message(index, spec.version));
}

std::vector<std::string> close_matches(const ReleaseIndex& index, const Version& wanted, std::size_t max) {
    const Line line = line_of(wanted);
    auto same = prefer_stable(releases_of(index, line), !wanted.is_stable());
    if (!wanted.is_stable()) // a wanted rc/beta is closest to its line's other rc/betas
        std::stable_partition(same.begin(), same.end(), [](auto* r) { return !is_stable(*r); });
    std::erase_if(same, [&](auto* r) { return r->version == wanted; });

    std::vector<const Release*> neighbours;
    if (auto up = nearest_line(index, line, true)) {
        auto rs = prefer_stable(releases_of(index, *up), false);
        neighbours.push_back(rs.back()); // the line's first release: go1.22.0 after go1.21.x
    }
    if (auto down = nearest_line(index, line, false)) {
        auto rs = prefer_stable(releases_of(index, *down), false);
        neighbours.push_back(rs.front()); // the line's newest release
    }

    std::vector<std::string> out;
    auto add = [&](const Release* r) {
        if (out.size() < max) out.push_back(to_string(r->version));
    };
    // Keep one slot for a neighbour when there is one (and room for more than one match).
    const std::size_t own_first = neighbours.empty() || max < 2 ? max : max - 1;
    std::size_t taken = 0;
    for (; taken < same.size() && taken < own_first; ++taken) add(same[taken]);
    for (auto* r : neighbours) add(r);
    for (; taken < same.size(); ++taken) add(same[taken]);
    return out;
}

} // namespace goinstall
