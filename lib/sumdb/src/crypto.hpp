#pragma once
// The OpenSSL calls of lib/sumdb, kept behind plain functions.

#include <span>
#include <string_view>

namespace goinstall::sumdb::detail {

// Writes SHA-256 of the concatenated parts into out (32 bytes). Throws std::runtime_error when
// OpenSSL fails (out of memory: never a property of the input).
void sha256_parts(std::span<const std::string_view> parts, unsigned char* out);

// True when `signature` (64 bytes) is a valid Ed25519 (RFC 8032) signature of `message` by the
// 32-byte `public_key`. Any other length, an invalid key or a bad signature gives false.
bool ed25519_verify(std::span<const unsigned char> public_key, std::string_view message,
                    std::span<const unsigned char> signature);

} // namespace goinstall::sumdb::detail
