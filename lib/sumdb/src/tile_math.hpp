#pragma once
// Tile arithmetic shared by tile.cpp and tile_hash_reader.cpp.

#include <cstdint>
#include <string_view>

#include "goinstall/sumdb/tile.hpp"

namespace goinstall::sumdb::detail {

// tile_for_index, plus the [start, end) range of hashes in the tile whose subtree is the index's.
Tile tile_for_index_range(int h, std::int64_t index, std::int64_t& start, std::int64_t& end);

// The root of the 2^k hashes in data (32 bytes each, k >= 0).
Hash tile_subtree_hash(std::string_view data);

// t's k-th ancestor tile in a tree of n records (k = 0: t widened to what the tree holds), or
// nullopt when the tree has no such tile (x/mod tlog tileParent).
std::optional<Tile> tile_parent(Tile t, int k, std::int64_t n);

} // namespace goinstall::sumdb::detail
