#pragma once
// The hashes of the checksum database's transparency log (RFC 6962 §2.1, SHA-256).

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace goinstall::sumdb {

inline constexpr std::size_t k_hash_size = 32;
using Hash = std::array<unsigned char, k_hash_size>;

// SHA-256 of `data`.
Hash sha256(std::string_view data);

// RFC 6962 leaf hash: SHA-256(0x00 || record). A lookup's record text includes its final newline.
Hash record_hash(std::string_view record);

// RFC 6962 interior node hash: SHA-256(0x01 || left || right).
Hash node_hash(const Hash& left, const Hash& right);

// Standard padded base64 of the 32 bytes (44 characters), as Go's tlog.Hash.String prints it.
std::string to_base64(const Hash& hash);

// Parses 44 characters of padded base64 that decode to exactly 32 bytes; nullopt otherwise.
std::optional<Hash> parse_hash(std::string_view base64);

} // namespace goinstall::sumdb
