#pragma once
// Signed notes (golang.org/x/mod/sumdb/note) and the checksum database's tree note.
//
// A note is UTF-8 text ending in '\n', a blank line, then one or more signature lines
// "— <name> <base64(key hash (4 bytes, big-endian) || signature)>\n". The signature covers the text
// including its final newline. A verifier key is "<name>+<8 hex key hash>+<base64(0x01 || Ed25519
// public key)>"; the key hash is the first 4 bytes of SHA-256(name || "\n" || 0x01 || public key).

#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "goinstall/base/error.hpp"
#include "goinstall/sumdb/hash.hpp"

namespace goinstall::sumdb {

// The verifier key of sum.golang.org, as cmd/go knows it (golang/go src/cmd/go/internal/modfetch/key.go).
inline constexpr std::string_view k_sum_golang_org_key =
    "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8";

struct VerifierKey {
    std::string name;           // "sum.golang.org"
    std::uint32_t key_hash = 0; // 0x033de0ae
    std::array<unsigned char, 32> public_key{};
    std::string text; // the key as given
};

// The key hash of a key named `name` whose bytes (algorithm byte included) are `key`.
std::uint32_t key_hash(std::string_view name, std::span<const unsigned char> key);

// Parses a verifier key. Fails (usage, message "malformed verifier key ...", or "... hash does not
// match") for a bad name (empty, whitespace, '+', invalid UTF-8), a key hash that is not 8 hex digits
// or does not match the key, bad base64, an algorithm other than Ed25519 (0x01) or a wrong length.
Result<VerifierKey> parse_verifier_key(std::string_view vkey);

// Checks that `msg` is a well-formed note carrying a valid signature by `key` and returns its text
// (everything before the blank line, final newline included). Signatures by other keys (another
// name or key hash) are ignored; at most 100 signature lines. Fails with ErrorCode::checksum when
// the note is malformed (control characters, invalid UTF-8, no blank line, a signature line without
// "— ", bad base64, fewer than 5 signature bytes), when `key`'s signature is invalid, or when no
// signature is by `key`.
Result<std::string> open_note(std::string_view msg, const VerifierKey& key);

// A tree head: the log's size and its RFC 6962 root hash.
struct TreeHead {
    std::int64_t size = 0;
    Hash hash{};
    friend bool operator==(const TreeHead&, const TreeHead&) = default;
};

// Parses the text of a tree note, "go.sum database tree\n<N>\n<base64 hash>\n" (further lines are
// ignored, as Go does for forward compatibility). N is canonical decimal (no sign, no leading zero).
// Fails with ErrorCode::checksum when malformed.
Result<TreeHead> parse_tree_text(std::string_view text);

// A tree head whose note was verified, and the note itself (kept as proof for fork reports).
struct SignedTree {
    TreeHead tree;
    std::string note;
};

// open_note then parse_tree_text.
Result<SignedTree> open_tree_note(std::string_view msg, const VerifierKey& key);

} // namespace goinstall::sumdb
