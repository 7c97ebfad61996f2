#pragma once
// Transparency-log arithmetic of the checksum database (golang.org/x/mod/sumdb/tlog; RFC 6962).
//
// A log of N records is a Merkle tree whose hashes are "stored" in one sequence: record n's leaf
// hash, then every interior hash that record completes. stored_hash_index(level, n) is the
// position of the n-th hash at `level` (level 0 = leaf hashes).

#include <cstdint>
#include <span>
#include <utility>
#include <vector>

#include "goinstall/base/error.hpp"
#include "goinstall/sumdb/hash.hpp"
#include "goinstall/sumdb/signed_note.hpp"

namespace goinstall::sumdb {

// Largest tree size these functions accept: keeps every stored-hash index below 2^63.
inline constexpr std::int64_t k_max_tree_size = std::int64_t{1} << 61;

// Index of the n-th hash at `level` in the stored-hash sequence. n and level must be valid for a
// tree no larger than k_max_tree_size.
std::int64_t stored_hash_index(int level, std::int64_t n);

// The inverse: the (level, n) stored at `index`.
std::pair<int, std::int64_t> split_stored_hash_index(std::int64_t index);

// How many hashes a log of n records stores.
std::int64_t stored_hash_count(std::int64_t n);

// The stored-hash indexes whose hashes, folded from the right with node_hash, give the hash of
// the records [lo, hi) (lo must be aligned as in RFC 6962's decomposition; lo=0 always is).
std::vector<std::int64_t> sub_tree_index(std::int64_t lo, std::int64_t hi);

// Source of stored hashes by index. Implementations that fetch data must authenticate it first
// (TileHashReader does).
class HashReader {
public:
    virtual ~HashReader() = default;
    // Exactly one hash per index, in order, or an error.
    virtual Result<std::vector<Hash>> read_hashes(std::span<const std::int64_t> indexes) = 0;
};

// The RFC 6962 root hash of the first n records (SHA-256 of nothing for n = 0). Fails with what
// the reader returns, or internal when it returns the wrong number of hashes.
Result<Hash> tree_hash(std::int64_t n, HashReader& reader);

// Checks an RFC 6962 audit path (leaf to root, as tlog.RecordProof and c2sp.org/tlog-proof list
// it) for record `index` with leaf hash `leaf` in `tree`. ErrorCode::checksum when the path does
// not lead to tree.hash or has the wrong length; usage when index is not below tree.size.
Status check_record_proof(std::span<const Hash> proof, const TreeHead& tree, std::int64_t index, const Hash& leaf);

} // namespace goinstall::sumdb
