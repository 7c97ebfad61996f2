// TileHashReader: the tile planning and authentication of x/mod sumdb/tlog TileHashReader.

#include <map>

#include "goinstall/sumdb/tile.hpp"
#include "tile_math.hpp"

namespace goinstall::sumdb {
namespace detail {

std::optional<Tile> tile_parent(Tile t, int k, std::int64_t n) {
    t.level += k;
    const int shift = t.level * t.height;
    if (shift >= 62) return std::nullopt; // no tree this large
    t.n >>= k * t.height;
    t.width = 1 << t.height;
    const std::int64_t max = n >> shift; // hashes the tree has at this tile level
    const std::int64_t first = t.n << t.height;
    if (first + t.width >= max) {
        if (first >= max) return std::nullopt;
        t.width = static_cast<int>(max - first);
    }
    return t;
}

} // namespace detail

namespace {

std::unexpected<Error> inconsistent(const Tile& tile, std::int64_t tree_size) {
    return fail(ErrorCode::checksum,
                "downloaded inconsistent tile " + tile_path(tile) + " for tree " + std::to_string(tree_size));
}

std::unexpected<Error> bad_math(const std::string& what) { return fail(ErrorCode::internal, "tile planning: " + what); }

} // namespace

Result<std::vector<Hash>> TileHashReader::read_hashes(std::span<const std::int64_t> indexes) {
    const int h = m_tiles.height();
    const std::int64_t n = m_tree.size;
    if (h < 1 || h > 30) return bad_math("tile height " + std::to_string(h));
    if (n <= 0 || n > k_max_tree_size) {
        return fail(ErrorCode::checksum, "no hashes to read in a tree of size " + std::to_string(n));
    }
    std::map<Tile, std::size_t> order; // tile → position in `tiles`
    std::vector<Tile> tiles;

    // First the tiles holding the hashes that recompute the root; if it matches, they are authentic.
    const std::vector<std::int64_t> stx = sub_tree_index(0, n);
    std::vector<std::size_t> stx_tile(stx.size());
    for (std::size_t i = 0; i < stx.size(); ++i) {
        auto tile = detail::tile_parent(tile_for_index(h, stx[i]), 0, n);
        if (!tile) return bad_math("no tile for root hash " + std::to_string(stx[i]));
        auto [it, added] = order.try_emplace(*tile, tiles.size());
        if (added) tiles.push_back(*tile);
        stx_tile[i] = it->second;
    }
    // Several root hashes can share a tile, so fewer tiles than root hashes may be planned; every tile
    // from here on is authenticated against its parent below. (x/mod's loop starts at len(stx), the
    // number of root hashes, which skips the first tiles planned here whenever root hashes share
    // tiles: for tree 28905453 it checks none of them.)
    const std::size_t root_tiles = tiles.size();

    // Then the tiles holding the requested hashes, each after the ancestors that authenticate it.
    std::vector<std::size_t> index_tile(indexes.size());
    for (std::size_t i = 0; i < indexes.size(); ++i) {
        const std::int64_t x = indexes[i];
        if (x < 0 || x >= stored_hash_index(0, n)) {
            return fail(ErrorCode::checksum, "hash " + std::to_string(x) + " is not in tree " + std::to_string(n));
        }
        const Tile tile = tile_for_index(h, x);
        int k = 0;
        for (;; ++k) { // walk up to the first ancestor already planned
            if (k > 64) return bad_math("lost the parent of " + tile_path(tile));
            auto p = detail::tile_parent(tile, k, n);
            if (!p) continue;
            if (auto it = order.find(*p); it != order.end()) {
                if (k == 0) index_tile[i] = it->second;
                break;
            }
        }
        for (--k; k >= 0; --k) { // and back down, parents first
            auto p = detail::tile_parent(tile, k, n);
            if (!p || p->width != (1 << p->height)) return bad_math("a tile with a parent is not full");
            order.emplace(*p, tiles.size());
            if (k == 0) index_tile[i] = tiles.size();
            tiles.push_back(*p);
        }
    }

    auto data = m_tiles.read_tiles(tiles);
    if (!data) return std::unexpected(std::move(data.error()));
    if (data->size() != tiles.size()) return bad_math("the tile reader returned the wrong number of tiles");
    for (std::size_t i = 0; i < tiles.size(); ++i) {
        if ((*data)[i].size() != static_cast<std::size_t>(tiles[i].width) * k_hash_size) {
            return fail(ErrorCode::checksum, "tile " + tile_path(tiles[i]) + " has " +
                                                 std::to_string((*data)[i].size()) + " bytes, want " +
                                                 std::to_string(tiles[i].width * k_hash_size));
        }
    }

    // The root tiles against the signed tree hash.
    auto root = hash_from_tile(tiles[stx_tile.back()], (*data)[stx_tile.back()], stx.back());
    if (!root) return std::unexpected(std::move(root.error()));
    Hash th = *root;
    for (std::size_t i = stx.size() - 1; i-- > 0;) {
        auto part = hash_from_tile(tiles[stx_tile[i]], (*data)[stx_tile[i]], stx[i]);
        if (!part) return std::unexpected(std::move(part.error()));
        th = node_hash(*part, th);
    }
    if (th != m_tree.hash) return inconsistent(tiles[stx_tile.back()], n); // at least one is wrong

    // Every other tile against the hash its (already authenticated) parent stores for it.
    for (std::size_t i = root_tiles; i < tiles.size(); ++i) {
        const Tile& tile = tiles[i];
        auto p = detail::tile_parent(tile, 1, n);
        auto it = p ? order.find(*p) : order.end();
        if (it == order.end()) return bad_math("lost the parent of " + tile_path(tile));
        auto expected = hash_from_tile(*p, (*data)[it->second], stored_hash_index(p->level * p->height, tile.n));
        if (!expected) return bad_math("lost the hash of " + tile_path(tile));
        if (*expected != detail::tile_subtree_hash((*data)[i])) return inconsistent(tile, n);
    }

    m_tiles.save_tiles(tiles, *data);

    std::vector<Hash> out;
    out.reserve(indexes.size());
    for (std::size_t i = 0; i < indexes.size(); ++i) {
        const std::size_t j = index_tile[i];
        auto hash = hash_from_tile(tiles[j], (*data)[j], indexes[i]);
        if (!hash) return bad_math("lost hash " + std::to_string(indexes[i]));
        out.push_back(*hash);
    }
    return out;
}

} // namespace goinstall::sumdb
