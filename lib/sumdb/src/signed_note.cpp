#include "goinstall/sumdb/signed_note.hpp"

#include <charconv>
#include <cstdio>

#include "crypto.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/sumdb/base64.hpp"
#include "utf8.hpp"

namespace goinstall::sumdb {
namespace {

constexpr unsigned char k_alg_ed25519 = 0x01;              // x/mod sumdb/note: algEd25519
constexpr std::string_view k_sig_prefix = "\xE2\x80\x94 "; // "— " (U+2014 EM DASH, space)
constexpr std::size_t k_max_signatures = 100;              // x/mod sumdb/note Open's limit
constexpr std::string_view k_tree_prefix = "go.sum database tree\n";
constexpr std::size_t k_max_tree_text = 1000000; // x/mod sumdb/tlog ParseTree's limit

std::span<const unsigned char> bytes_of(std::string_view s) {
    return {reinterpret_cast<const unsigned char*>(s.data()), s.size()};
}

std::string hex8(std::uint32_t v) {
    char buf[9];
    std::snprintf(buf, sizeof buf, "%08x", v);
    return buf;
}

std::unexpected<Error> bad_key(std::string_view vkey, std::string_view why) {
    return fail(ErrorCode::usage,
                "malformed verifier key '" + sanitize_for_display(vkey, 120) + "': " + std::string(why));
}

std::unexpected<Error> bad_note(std::string_view why) {
    return fail(ErrorCode::checksum, "checksum database note: " + std::string(why));
}

std::uint32_t big_endian32(std::string_view b) {
    return (std::uint32_t{static_cast<unsigned char>(b[0])} << 24) |
           (std::uint32_t{static_cast<unsigned char>(b[1])} << 16) |
           (std::uint32_t{static_cast<unsigned char>(b[2])} << 8) | std::uint32_t{static_cast<unsigned char>(b[3])};
}

} // namespace

std::uint32_t key_hash(std::string_view name, std::span<const unsigned char> key) {
    unsigned char digest[32];
    const std::string_view parts[] = {name, "\n", {reinterpret_cast<const char*>(key.data()), key.size()}};
    detail::sha256_parts(parts, digest);
    return big_endian32({reinterpret_cast<const char*>(digest), 4});
}

Result<VerifierKey> parse_verifier_key(std::string_view vkey) {
    const auto plus1 = vkey.find('+');
    if (plus1 == std::string_view::npos) return bad_key(vkey, "want name+hash+key");
    const auto plus2 = vkey.find('+', plus1 + 1);
    if (plus2 == std::string_view::npos) return bad_key(vkey, "want name+hash+key");
    const std::string_view name = vkey.substr(0, plus1);
    const std::string_view hash16 = vkey.substr(plus1 + 1, plus2 - plus1 - 1);
    const std::string_view key64 = vkey.substr(plus2 + 1);
    if (!detail::is_valid_note_name(name)) return bad_key(vkey, "bad name");
    if (!is_hex(hash16, 8)) return bad_key(vkey, "key hash is not 8 hex digits");
    auto key = base64_decode(key64);
    if (!key || key->empty()) return bad_key(vkey, "key is not base64");
    std::uint32_t hash = 0;
    std::from_chars(hash16.data(), hash16.data() + hash16.size(), hash, 16);
    if (hash != key_hash(name, bytes_of(*key))) return bad_key(vkey, "key hash does not match the key");
    if (static_cast<unsigned char>((*key)[0]) != k_alg_ed25519) return bad_key(vkey, "unknown key algorithm");
    VerifierKey out;
    if (key->size() != 1 + out.public_key.size()) return bad_key(vkey, "Ed25519 key is not 32 bytes");
    out.name = std::string(name);
    out.key_hash = hash;
    std::copy(key->begin() + 1, key->end(), out.public_key.begin());
    out.text = std::string(vkey);
    return out;
}

Result<std::string> open_note(std::string_view msg, const VerifierKey& key) {
    if (!detail::is_note_text(msg)) return bad_note("malformed (control characters or invalid UTF-8)");
    const auto split = msg.rfind("\n\n");
    if (split == std::string_view::npos) return bad_note("malformed (no blank line before the signatures)");
    const std::string_view text = msg.substr(0, split + 1);
    std::string_view sigs = msg.substr(split + 2);
    if (sigs.empty() || sigs.back() != '\n') return bad_note("malformed (no signature lines)");

    const std::string who = key.name + "+" + hex8(key.key_hash);
    bool verified = false;
    std::size_t count = 0;
    while (!sigs.empty()) {
        const auto nl = sigs.find('\n');
        std::string_view line = sigs.substr(0, nl);
        sigs.remove_prefix(nl + 1);
        if (!line.starts_with(k_sig_prefix)) return bad_note("malformed signature line");
        line.remove_prefix(k_sig_prefix.size());
        const auto space = line.find(' ');
        const std::string_view name = line.substr(0, space);
        const std::string_view b64 = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
        auto sig = base64_decode(b64);
        if (b64.empty() || !sig || sig->size() < 5 || !detail::is_valid_note_name(name)) {
            return bad_note("malformed signature line");
        }
        if (++count > k_max_signatures) return bad_note("malformed (too many signatures)");
        if (name != key.name || big_endian32(*sig) != key.key_hash) continue; // another signer's
        if (verified) continue; // a repeated signature by our key, as Go ignores it
        if (!detail::ed25519_verify(key.public_key, text, bytes_of(*sig).subspan(4))) {
            return bad_note("invalid signature for key " + who);
        }
        verified = true;
    }
    if (!verified) return bad_note("no signature by key " + who);
    return std::string(text);
}

Result<TreeHead> parse_tree_text(std::string_view text) {
    if (!text.starts_with(k_tree_prefix) || text.size() > k_max_tree_text) return bad_note("not a tree note");
    std::string_view rest = text.substr(k_tree_prefix.size());
    const auto nl1 = rest.find('\n');
    if (nl1 == std::string_view::npos) return bad_note("malformed tree note");
    const std::string_view size_text = rest.substr(0, nl1);
    rest.remove_prefix(nl1 + 1);
    const auto nl2 = rest.find('\n');
    if (nl2 == std::string_view::npos) return bad_note("malformed tree note");
    const std::string_view hash_text = rest.substr(0, nl2);

    auto size = parse_u64(size_text);
    if (!size || *size > static_cast<std::uint64_t>(INT64_MAX) || (size_text.size() > 1 && size_text[0] == '0')) {
        return bad_note("malformed tree size '" + sanitize_for_display(size_text, 40) + "'");
    }
    auto hash = parse_hash(hash_text);
    if (!hash) return bad_note("malformed tree hash");
    return TreeHead{static_cast<std::int64_t>(*size), *hash};
}

Result<SignedTree> open_tree_note(std::string_view msg, const VerifierKey& key) {
    auto text = open_note(msg, key);
    if (!text) return std::unexpected(std::move(text.error()));
    auto tree = parse_tree_text(*text);
    if (!tree) return std::unexpected(std::move(tree.error()));
    return SignedTree{*tree, std::string(msg)};
}

} // namespace goinstall::sumdb
