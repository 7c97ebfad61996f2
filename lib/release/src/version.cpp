#include "goinstall/release/version.hpp"

#include <charconv>

namespace goinstall {
namespace {

// Far above any real Go number; keeps int arithmetic safe and rejects "huge numbers".
constexpr int k_max_component = 999999;

// Consumes a decimal number without leading zeros from the front of `s`.
std::optional<int> take_number(std::string_view& s) {
    std::size_t n = 0;
    while (n < s.size() && s[n] >= '0' && s[n] <= '9') ++n;
    if (n == 0 || n > 6 || (n > 1 && s[0] == '0')) return std::nullopt;
    int value = 0;
    std::from_chars(s.data(), s.data() + n, value);
    if (value > k_max_component) return std::nullopt;
    s.remove_prefix(n);
    return value;
}

} // namespace

std::optional<Version> parse_version(std::string_view s) {
    std::string_view rest = s;
    if (rest.starts_with("go")) rest.remove_prefix(2);
    const std::string_view body = rest;

    Version v;
    int* parts[] = {&v.major, &v.minor, &v.patch};
    int count = 0;
    while (true) {
        auto n = take_number(rest);
        if (!n) return std::nullopt;
        *parts[count++] = *n;
        if (rest.empty() || rest.front() != '.') break;
        if (count == 3) return std::nullopt; // "go1.21.3.4"
        rest.remove_prefix(1);
    }
    if (!rest.empty()) {
        // A pre-release follows the minor or patch number: go1.21rc4, go1.9.2rc2 (never go1rc1).
        if (count < 2) return std::nullopt;
        if (rest.starts_with("beta")) {
            v.pre = Version::Pre::beta;
            rest.remove_prefix(4);
        } else if (rest.starts_with("rc")) {
            v.pre = Version::Pre::rc;
            rest.remove_prefix(2);
        } else {
            return std::nullopt;
        }
        auto n = take_number(rest);
        if (!n || !rest.empty()) return std::nullopt;
        v.pre_num = *n;
    }
    v.text = "go";
    v.text += body;
    return v;
}

std::strong_ordering compare(const Version& a, const Version& b) {
    if (auto c = a.major <=> b.major; std::is_neq(c)) return c;
    if (auto c = a.minor <=> b.minor; std::is_neq(c)) return c;
    if (auto c = a.patch <=> b.patch; std::is_neq(c)) return c;
    if (auto c = a.pre <=> b.pre; std::is_neq(c)) return c;
    return a.pre_num <=> b.pre_num;
}

std::string to_string(const Version& v) {
    if (!v.text.empty()) return v.text;
    std::string out = "go" + std::to_string(v.major);
    // From 1.21 on the first release of a line is go1.N.0, before it was go1.N
    // (docs/field-notes.md#release-index).
    const bool new_scheme = v.major > 1 || v.minor >= 21;
    // Appends piecewise: `"." + std::to_string(n)` trips GCC 12's false -Wrestrict at -O2.
    auto append = [&out](const char* sep, int n) {
        out += sep;
        out += std::to_string(n);
    };
    if (v.minor != 0 || v.patch != 0 || v.pre != Version::Pre::none) append(".", v.minor);
    if (v.patch != 0 || (new_scheme && v.is_stable())) append(".", v.patch);
    if (v.pre == Version::Pre::beta) append("beta", v.pre_num);
    if (v.pre == Version::Pre::rc) append("rc", v.pre_num);
    return out;
}

} // namespace goinstall
