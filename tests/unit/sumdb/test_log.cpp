#include "test_log.hpp"

#include <algorithm>
#include <bit>

namespace goinstall::sumdb::test {

void TestLog::append(std::string record) {
    const std::int64_t n = size();
    Hash h = record_hash(record);
    m_leaves.push_back(h);
    m_stored.push_back(h);
    // Record n completes one interior hash per trailing 1 bit of n: pair with the left sibling.
    const int completes = std::countr_zero(static_cast<std::uint64_t>(n + 1));
    for (int level = 0; level < completes; ++level) {
        const Hash& left = m_stored.at(static_cast<std::size_t>(stored_hash_index(level, (n >> level) - 1)));
        h = node_hash(left, h);
        m_stored.push_back(h);
    }
    m_records.push_back(std::move(record));
}

void TestLog::grow_to(std::int64_t n, const std::string& prefix) {
    while (size() < n) append(prefix + std::to_string(size()) + " h1:AAAA\n");
}

Hash TestLog::mth(std::int64_t lo, std::int64_t hi) const {
    if (hi - lo == 1) return m_leaves.at(static_cast<std::size_t>(lo));
    std::int64_t k = 1;
    while (k * 2 < hi - lo) k *= 2; // the largest power of two < n (RFC 6962 §2.1)
    return node_hash(mth(lo, lo + k), mth(lo + k, hi));
}

Hash TestLog::root(std::int64_t n) const { return n == 0 ? sha256("") : mth(0, n); }

std::optional<std::string> TestLog::tile_data(const Tile& tile, std::int64_t n) const {
    const int level = tile.level * tile.height;
    const std::int64_t first = tile.n << tile.height;
    if (first + tile.width > (n >> level)) return std::nullopt;
    std::string out;
    for (int i = 0; i < tile.width; ++i) {
        const Hash& h = m_stored.at(static_cast<std::size_t>(stored_hash_index(level, first + i)));
        out.append(reinterpret_cast<const char*>(h.data()), h.size());
    }
    return out;
}

Result<std::vector<std::string>> FakeTiles::read_tiles(std::span<const Tile> tiles) {
    std::vector<std::string> out;
    for (const Tile& t : tiles) {
        const std::string path = tile_path(t);
        requested.push_back(path);
        if (std::find(missing.begin(), missing.end(), path) != missing.end()) {
            return fail(ErrorCode::network, path + ": 404");
        }
        if (auto it = overrides.find(path); it != overrides.end()) {
            out.push_back(it->second);
            continue;
        }
        auto data = m_log.tile_data(t, m_size);
        if (!data) return fail(ErrorCode::network, path + ": 404 (not in the served tree)");
        out.push_back(std::move(*data));
    }
    return out;
}

void FakeTiles::save_tiles(std::span<const Tile> tiles, std::span<const std::string>) {
    for (const Tile& t : tiles) saved.push_back(tile_path(t));
}

Result<std::vector<std::string>> RecordingTiles::read_tiles(std::span<const Tile> tiles) {
    for (const Tile& t : tiles) requested.push_back(tile_path(t));
    return fail(ErrorCode::network, "recording only");
}

} // namespace goinstall::sumdb::test
