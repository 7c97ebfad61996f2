#pragma once
// Tiles of the checksum database's log (golang.org/x/mod/sumdb/tlog tile.go) and the reader that
// authenticates them against a signed tree head before any hash in them is used.
//
// A tile of height H at level L, number N and width W holds W consecutive hashes (32 bytes each)
// of tree level H*L starting at hash N*2^H. Its path is "tile/H/L/NNN[.p/W]": N in 3-digit groups,
// all but the last prefixed with 'x' (tile/8/0/x001/x234/067); ".p/W" only when W < 2^H.

#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "goinstall/base/error.hpp"
#include "goinstall/sumdb/tlog.hpp"

namespace goinstall::sumdb {

// The tile height sum.golang.org serves (x/mod sumdb client.go: tileHeight = 8).
inline constexpr int k_sumdb_tile_height = 8;

struct Tile {
    int height = 0;     // H, 1..30
    int level = 0;      // L, 0..63 (-1, "data" tiles of raw records, only in paths)
    std::int64_t n = 0; // N
    int width = 0;      // W, 1..2^H
    friend auto operator<=>(const Tile&, const Tile&) = default;
};

// "tile/8/0/x112/911.p/237".
std::string tile_path(const Tile& tile);

// Parses a path tile_path would print (round trip exact); nullopt otherwise.
std::optional<Tile> parse_tile_path(std::string_view path);

// The narrowest tile of height h holding the stored hash `index`.
Tile tile_for_index(int h, std::int64_t index);

// The hash at stored index `index` computed from `data`, the content of `tile` (which must be
// tile_for_index(tile.height, index) or a wider one). ErrorCode::checksum for a tile that does not
// hold the index or data shorter than tile.width hashes.
Result<Hash> hash_from_tile(const Tile& tile, std::string_view data, std::int64_t index);

// Source of tile data: a cache of verified tiles, a server, or both.
class TileReader {
public:
    virtual ~TileReader() = default;
    virtual int height() const = 0;
    // One data string per tile, each exactly tile.width * 32 bytes (TileHashReader checks this). Data
    // from a server is suspect until save_tiles is called for it.
    virtual Result<std::vector<std::string>> read_tiles(std::span<const Tile> tiles) = 0;
    // Called with tiles returned by read_tiles once they are authenticated: safe to cache now.
    virtual void save_tiles(std::span<const Tile> tiles, std::span<const std::string> data) = 0;
};

// A HashReader over the tiles of one tree (port of tlog.TileHashReader). For each request it
// fetches the tiles needed to recompute the tree's root hash plus the tiles holding the requested
// hashes and their ancestors, checks that the root matches the signed tree hash, checks every other
// tile against the hash its parent tile stores for it, and only then calls save_tiles and returns
// hashes. Inconsistent or short data fails with ErrorCode::checksum; an index not in the tree with
// ErrorCode::checksum too ("not in tree").
class TileHashReader final : public HashReader {
public:
    TileHashReader(const TreeHead& tree, TileReader& tiles) : m_tree(tree), m_tiles(tiles) {}
    Result<std::vector<Hash>> read_hashes(std::span<const std::int64_t> indexes) override;

private:
    TreeHead m_tree;
    TileReader& m_tiles;
};

// Proves that `record` (its text, final newline included) is record `id` of `tree`: the stored hash
// at stored_hash_index(0, id), read through a TileHashReader, must equal record_hash(record).
// ErrorCode::checksum when id >= tree.size or the hashes differ; tile errors pass through.
Status check_record_in_tree(const TreeHead& tree, std::int64_t id, std::string_view record, TileReader& tiles);

} // namespace goinstall::sumdb
