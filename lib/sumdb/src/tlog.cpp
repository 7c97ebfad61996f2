#include "goinstall/sumdb/tlog.hpp"

#include <bit>
#include <stdexcept>

namespace goinstall::sumdb {
namespace {

// The largest power of two strictly below n (n >= 2), and its log2 (tlog's maxpow2).
std::pair<std::int64_t, int> maxpow2(std::int64_t n) {
    int l = 0;
    while ((std::int64_t{1} << (l + 1)) < n) ++l;
    return {std::int64_t{1} << l, l};
}

// Folds hashes[0..count) from the right: node(h0, node(h1, ... h_last)).
Hash fold_right(std::span<const Hash> hashes) {
    Hash h = hashes.back();
    for (std::size_t i = hashes.size() - 1; i-- > 0;) h = node_hash(hashes[i], h);
    return h;
}

// The root hash that `proof` (consumed from its end) yields for record n of [lo, hi).
std::optional<Hash> run_record_proof(std::span<const Hash> proof, std::int64_t lo, std::int64_t hi, std::int64_t n,
                                     const Hash& leaf) {
    if (lo + 1 == hi) {
        if (!proof.empty()) return std::nullopt;
        return leaf;
    }
    if (proof.empty()) return std::nullopt;
    const Hash& sibling = proof.back();
    const auto rest = proof.first(proof.size() - 1);
    const std::int64_t k = maxpow2(hi - lo).first;
    if (n < lo + k) {
        auto th = run_record_proof(rest, lo, lo + k, n, leaf);
        if (!th) return std::nullopt;
        return node_hash(*th, sibling);
    }
    auto th = run_record_proof(rest, lo + k, hi, n, leaf);
    if (!th) return std::nullopt;
    return node_hash(sibling, *th);
}

} // namespace

std::int64_t stored_hash_index(int level, std::int64_t n) {
    // Hashes stored up to and including the level-`level` hash n: those of every record before the
    // last leaf under it, then `level` interior hashes.
    for (int l = level; l > 0; --l) n = 2 * n + 1;
    std::int64_t i = 0;
    for (; n > 0; n >>= 1) i += n;
    return i + level;
}

std::pair<int, std::int64_t> split_stored_hash_index(std::int64_t index) {
    std::int64_t n = index / 2; // the record n whose hashes hold `index` is at least index/2
    std::int64_t index_n = stored_hash_index(0, n);
    if (index_n > index) throw std::logic_error("split_stored_hash_index: bad math");
    for (;;) {
        // Record n stores 1 + trailing_zeros(n+1) hashes.
        const std::int64_t x = index_n + 1 + std::countr_zero(static_cast<std::uint64_t>(n + 1));
        if (x > index) break;
        ++n;
        index_n = x;
    }
    const int level = static_cast<int>(index - index_n);
    return {level, n >> level};
}

std::int64_t stored_hash_count(std::int64_t n) {
    if (n == 0) return 0;
    std::int64_t count = stored_hash_index(0, n - 1) + 1;
    for (auto i = static_cast<std::uint64_t>(n - 1); (i & 1) != 0; i >>= 1) ++count;
    return count;
}

std::vector<std::int64_t> sub_tree_index(std::int64_t lo, std::int64_t hi) {
    std::vector<std::int64_t> need;
    while (lo < hi) {
        const auto [k, level] = maxpow2(hi - lo + 1);
        if ((lo & (k - 1)) != 0) throw std::logic_error("sub_tree_index: unaligned range");
        need.push_back(stored_hash_index(level, lo >> level));
        lo += k;
    }
    return need;
}

Result<Hash> tree_hash(std::int64_t n, HashReader& reader) {
    if (n < 0 || n > k_max_tree_size)
        return fail(ErrorCode::checksum, "tree size " + std::to_string(n) + " out of range");
    if (n == 0) return sha256("");
    const auto indexes = sub_tree_index(0, n);
    auto hashes = reader.read_hashes(indexes);
    if (!hashes) return std::unexpected(std::move(hashes.error()));
    if (hashes->size() != indexes.size())
        return fail(ErrorCode::internal, "hash reader returned the wrong number of hashes");
    return fold_right(*hashes);
}

Status check_record_proof(std::span<const Hash> proof, const TreeHead& tree, std::int64_t index, const Hash& leaf) {
    if (index < 0 || index >= tree.size) {
        return fail(ErrorCode::usage,
                    "record " + std::to_string(index) + " is not in a tree of size " + std::to_string(tree.size));
    }
    auto root = run_record_proof(proof, 0, tree.size, index, leaf);
    if (!root || *root != tree.hash) {
        return fail(ErrorCode::checksum, "inclusion proof of record " + std::to_string(index) + " in tree " +
                                             std::to_string(tree.size) + " does not verify");
    }
    return {};
}

} // namespace goinstall::sumdb
