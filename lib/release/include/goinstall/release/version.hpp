#pragma once
// Go release versions ("go1.21.3", "go1.21rc4", "go1") and their total order.

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace goinstall {

struct Version {
    int major = 0, minor = 0, patch = 0;
    enum class Pre { beta, rc, none }; // order matters: beta < rc < final
    Pre pre = Pre::none;
    int pre_num = 0;  // go1.21rc4 → pre=rc, pre_num=4; go1.9.2rc2 → patch 2, rc 2
    std::string text; // canonical "go1.21.3" as given (with "go" prefix); ignored by comparisons
    bool is_stable() const { return pre == Pre::none; }
};

// Parses "go1.21.3", "1.21.3", "go1", "1.21rc4", "go1.9.2rc2", "1.20.0" (optional "go" prefix, then
// 1–3 dot-separated decimal numbers without leading zeros, then optionally "beta<N>" or "rc<N>"
// after the minor or patch number). "1.20.0" == "go1.20": before 1.21 the first release of a line
// is go1.N, from 1.21 on it is go1.N.0 (docs/field-notes.md#release-index), so a missing patch
// means 0. Returns nullopt for anything else: empty, "1.x", "go1.21.3.4", "1.21-rc1", surrounding
// whitespace, upper case, numbers above 999999.
std::optional<Version> parse_version(std::string_view s);

// Orders by (major, minor, patch, pre, pre_num); `text` is ignored.
// go1 < go1.2.2 < go1.21rc4 < go1.21.0 < go1.21.3; go1.9.2rc2 < go1.9.2; go1.20 == go1.20.0.
std::strong_ordering compare(const Version& a, const Version& b);

inline std::strong_ordering operator<=>(const Version& a, const Version& b) { return compare(a, b); }
inline bool operator==(const Version& a, const Version& b) { return std::is_eq(compare(a, b)); }

// v.text when set; otherwise the canonical Go name built from the numbers: "go1", "go1.20",
// "go1.21.0" (from 1.21 on a stable release always shows its patch), "go1.9.2rc2", "go1.21rc4".
std::string to_string(const Version& v);

// True when both are in the same release line (same major and minor).
inline bool same_line(const Version& a, const Version& b) { return a.major == b.major && a.minor == b.minor; }

} // namespace goinstall
