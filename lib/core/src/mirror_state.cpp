// The mirror directory's record of verified files (see mirror_sync.hpp).

#include <cstdint>

#include "goinstall/base/strings.hpp"
#include "goinstall/core/mirror_sync.hpp"
#include "goinstall/release/index.hpp"

namespace goinstall {

namespace {

// One plain path component without spaces (the state file separates its fields by spaces).
bool plain_file_name(std::string_view name) { return is_plain_file_name(name) && name.find(' ') == name.npos; }

std::optional<std::int64_t> parse_i64(std::string_view s) {
    bool neg = !s.empty() && s.front() == '-';
    auto u = parse_u64(neg ? s.substr(1) : s);
    if (!u || *u > static_cast<std::uint64_t>(INT64_MAX)) return std::nullopt;
    return neg ? -static_cast<std::int64_t>(*u) : static_cast<std::int64_t>(*u);
}

} // namespace

MirrorState parse_mirror_state(std::string_view text) {
    MirrorState out;
    for (const auto& line : split(text, '\n')) {
        if (line.empty() || line.front() == '#') continue;
        auto parts = split(line, ' ');
        if (parts.size() != 4) continue;
        auto size = parse_u64(parts[1]);
        auto mtime = parse_i64(parts[2]);
        if (!is_hex(parts[0], 64) || !size || !mtime || !plain_file_name(parts[3])) continue;
        out[parts[3]] = VerifiedFile{to_lower(parts[0]), *size, *mtime};
    }
    return out;
}

std::string format_mirror_state(const MirrorState& state) {
    std::string out = "# goinstall mirror state v1: sha256 size mtime_ns filename\n";
    for (const auto& [name, f] : state) {
        if (!plain_file_name(name) || !is_hex(f.sha256, 64)) continue;
        out += f.sha256 + " " + std::to_string(f.size) + " " + std::to_string(f.mtime_ns) + " " + name + "\n";
    }
    return out;
}

} // namespace goinstall
