#pragma once
// The client's TileReader: verified tiles from the cache directory, others from the database (a
// missing partial tile is replaced by the prefix of the full one); save_tiles writes authenticated
// tiles to the cache.

#include <filesystem>
#include <set>

#include "goinstall/sumdb/client.hpp"
#include "goinstall/sumdb/tile.hpp"

namespace goinstall::sumdb::detail {

class CacheTiles final : public TileReader {
public:
    CacheTiles(SumdbFetcher& fetcher, std::filesystem::path cache_dir)
        : m_fetcher(fetcher), m_dir(std::move(cache_dir)) {}

    int height() const override { return k_sumdb_tile_height; }
    Result<std::vector<std::string>> read_tiles(std::span<const Tile> tiles) override;
    // Best effort: a tile that cannot be written is fetched again next time.
    void save_tiles(std::span<const Tile> tiles, std::span<const std::string> data) override;

private:
    Result<std::string> read_tile(const Tile& tile);
    SumdbFetcher& m_fetcher;
    std::filesystem::path m_dir;
    std::set<Tile> m_cached; // tiles read from the cache: already saved
};

// True when `e` is an HTTP 404 or 410 from the fetcher.
bool is_not_there(const Error& e);

} // namespace goinstall::sumdb::detail
