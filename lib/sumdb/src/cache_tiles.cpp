#include "cache_tiles.hpp"

#include "goinstall/fs/files.hpp"

namespace goinstall::sumdb::detail {
namespace {

// Reads a cached file; nullopt when it is absent or unreadable (the cache is an optimisation).
std::optional<std::string> read_cached(const std::filesystem::path& path, std::uint64_t max_bytes) {
    std::error_code ec;
    if (!std::filesystem::is_regular_file(path, ec)) return std::nullopt;
    auto data = read_file(path, max_bytes);
    if (!data) return std::nullopt;
    return std::move(*data);
}

std::size_t tile_bytes(const Tile& t) { return static_cast<std::size_t>(t.width) * k_hash_size; }

} // namespace

bool is_not_there(const Error& e) { return e.net() && (e.net()->http_status == 404 || e.net()->http_status == 410); }

Result<std::string> CacheTiles::read_tile(const Tile& tile) {
    Tile full = tile;
    full.width = 1 << tile.height;
    const std::uint64_t max = tile_bytes(full);
    // Cached tiles were authenticated before they were written, and so is any prefix of them.
    if (auto data = read_cached(m_dir / tile_path(tile), max); data && data->size() == tile_bytes(tile)) {
        m_cached.insert(tile);
        return std::move(*data);
    }
    if (tile != full) {
        if (auto data = read_cached(m_dir / tile_path(full), max); data && data->size() == tile_bytes(full)) {
            m_cached.insert(tile);
            return data->substr(0, tile_bytes(tile));
        }
    }
    auto data = m_fetcher.get(tile_path(tile));
    if (data) return std::move(*data);
    if (tile != full && is_not_there(data.error())) {
        // The partial tile is gone once the tile is complete: its prefix is the same data. Its
        // authenticity is checked like any other tile's; the full tile is not cached from here.
        if (auto whole = m_fetcher.get(tile_path(full))) {
            if (whole->size() > tile_bytes(tile)) whole->resize(tile_bytes(tile));
            return std::move(*whole);
        }
    }
    if (is_not_there(data.error())) {
        // The lookup named a record the database cannot prove: a tile it must serve is missing.
        // Not "no such module" (the lookup answered): the record stays unproven, so refused.
        Error e(ErrorCode::checksum, "the checksum database does not serve " + tile_path(tile) + " (HTTP " +
                                         std::to_string(data.error().net()->http_status) +
                                         "): the record cannot be proven to be in its log");
        e.with_net(*data.error().net());
        return std::unexpected(std::move(e));
    }
    return std::unexpected(std::move(data.error()).with_context("fetching " + tile_path(tile)));
}

Result<std::vector<std::string>> CacheTiles::read_tiles(std::span<const Tile> tiles) {
    std::vector<std::string> out;
    out.reserve(tiles.size());
    for (const Tile& t : tiles) {
        auto data = read_tile(t);
        if (!data) return std::unexpected(std::move(data.error()));
        out.push_back(std::move(*data));
    }
    return out;
}

void CacheTiles::save_tiles(std::span<const Tile> tiles, std::span<const std::string> data) {
    for (std::size_t i = 0; i < tiles.size() && i < data.size(); ++i) {
        if (!m_cached.insert(tiles[i]).second) continue; // came from the cache, or saved already
        const std::filesystem::path path = m_dir / tile_path(tiles[i]);
        if (ensure_dir(path.parent_path())) (void)write_file_atomic(path, data[i]);
    }
}

} // namespace goinstall::sumdb::detail
