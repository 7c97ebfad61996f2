#pragma once
// Standard base64 (RFC 4648 §4, with '=' padding), as Go's base64.StdEncoding writes it. Used for
// the checksum database's keys, signatures, hashes and go.sum "h1:" values.

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace goinstall::sumdb {

// Encodes bytes with padding.
std::string base64_encode(std::span<const unsigned char> bytes);

// Decodes padded standard base64. nullopt for a length that is not a multiple of 4, a character
// outside the alphabet (whitespace included), or misplaced padding. Like Go's StdEncoding, non-zero
// bits after the last full byte are accepted.
std::optional<std::string> base64_decode(std::string_view text);

} // namespace goinstall::sumdb
