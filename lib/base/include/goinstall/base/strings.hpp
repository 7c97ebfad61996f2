#pragma once
// Small string helpers shared by every module.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace goinstall {

std::string_view trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep, bool keep_empty = false);
std::string to_lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);

// Lowercase hex of bytes.
std::string to_hex(std::span<const unsigned char> bytes);
// True when s is exactly `digits` hex digits (either case).
bool is_hex(std::string_view s, std::size_t digits);

// Parses a non-negative decimal integer that fits in uint64; nullopt for anything else.
std::optional<std::uint64_t> parse_u64(std::string_view s);

// Replaces control characters and invalid UTF-8 with '?' and truncates to max_len bytes
// (appending "..."), so a server's words can be printed safely on one line.
std::string sanitize_for_display(std::string_view s, std::size_t max_len = 200);

// "1.5 MiB" style.
std::string human_bytes(std::uint64_t n);

} // namespace goinstall
