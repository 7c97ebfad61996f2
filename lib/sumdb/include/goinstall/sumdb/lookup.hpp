#pragma once
// The checksum database's lookup response and the go.sum lines taken from it — only once its record
// is proven to be in a tree whose note verified.

#include <cstdint>
#include <string>
#include <string_view>

#include "goinstall/base/error.hpp"
#include "goinstall/sumdb/signed_note.hpp"
#include "goinstall/sumdb/tile.hpp"

namespace goinstall::sumdb {

// A lookup response as received: nothing in it is trusted yet.
struct LookupResponse {
    std::int64_t id = 0; // the record's number in the log
    std::string record;  // the record's text, final newline included
    std::string note;    // the signed tree note that follows the blank line
};

// Parses "<id>\n<record lines>\n\n<signed note>" (x/mod sumdb/tlog ParseRecord). Fails with
// ErrorCode::checksum for an empty body, an id that is not a canonical non-negative decimal, no blank
// line, or record text with control characters, invalid UTF-8 or an empty line.
Result<LookupResponse> parse_lookup(std::string_view body);

// A record proven to be record id() of tree(), whose note verified. Only prove_record makes one.
class ProvenRecord {
public:
    std::int64_t id() const { return m_id; }
    const std::string& text() const { return m_text; }
    const SignedTree& tree() const { return m_tree; }

private:
    ProvenRecord(std::int64_t id, std::string text, SignedTree tree)
        : m_id(id), m_text(std::move(text)), m_tree(std::move(tree)) {}
    friend Result<ProvenRecord> prove_record(const LookupResponse& response, const SignedTree& tree, TileReader& tiles);
    std::int64_t m_id;
    std::string m_text;
    SignedTree m_tree;
};

// Proves response.record is record response.id of `tree` (check_record_in_tree). The caller has
// verified tree.note (open_tree_note) and checked it against its cached tree head.
Result<ProvenRecord> prove_record(const LookupResponse& response, const SignedTree& tree, TileReader& tiles);

// The two go.sum hashes of a module version, "h1:<base64 of 32 bytes>" each.
struct ModuleHashes {
    std::string zip;    // "<path> <version> h1:..."
    std::string go_mod; // "<path> <version>/go.mod h1:..."
};

// The hashes for module_path@version from a proven record: exactly one "<path> <version> h1:..."
// line and exactly one "<path> <version>/go.mod h1:..." line. Fails with ErrorCode::checksum when
// the record is another module's (no line for it), has a line for it that is malformed or not h1,
// or has either line missing or repeated.
Result<ModuleHashes> module_hashes(const ProvenRecord& record, std::string_view module_path, std::string_view version);

// True for "h1:" followed by the padded base64 of 32 bytes.
bool is_h1_hash(std::string_view s);

} // namespace goinstall::sumdb
