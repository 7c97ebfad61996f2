#pragma once
// A transparency log built in memory for tests: records, their stored hashes in tlog order, an
// independent RFC 6962 tree hash, and the tiles a server of any tree size would serve.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "goinstall/sumdb/tile.hpp"

namespace goinstall::sumdb::test {

class TestLog {
public:
    // Appends a record (its text should end in '\n'); stores its leaf hash and the interior hashes
    // it completes, as tlog.StoredHashes does.
    void append(std::string record);
    // Appends records "<prefix> <i>\n" until the log has n records.
    void grow_to(std::int64_t n, const std::string& prefix = "example.com/m v1.0.");

    std::int64_t size() const { return static_cast<std::int64_t>(m_records.size()); }
    const std::string& record(std::int64_t i) const { return m_records.at(static_cast<std::size_t>(i)); }
    std::int64_t stored_count() const { return static_cast<std::int64_t>(m_stored.size()); }

    // MTH(records[0, n)) by RFC 6962 §2.1's recursive definition (not the tlog arithmetic).
    Hash root(std::int64_t n) const;
    TreeHead head(std::int64_t n) const { return {n, root(n)}; }

    // What a server of tree size n serves for `tile`: its width * 32 bytes, or nullopt when that
    // tree has fewer hashes at the tile's place.
    std::optional<std::string> tile_data(const Tile& tile, std::int64_t n) const;

private:
    Hash mth(std::int64_t lo, std::int64_t hi) const;
    std::vector<std::string> m_records;
    std::vector<Hash> m_leaves;
    std::vector<Hash> m_stored;
};

// A TileReader serving a TestLog at one tree size. `overrides` replace a tile's bytes by path (to
// corrupt or truncate it); `missing` paths fail like a 404. Records what was requested and saved.
class FakeTiles final : public TileReader {
public:
    FakeTiles(const TestLog& log, std::int64_t served_size, int height = k_sumdb_tile_height)
        : m_log(log), m_size(served_size), m_height(height) {}

    int height() const override { return m_height; }
    Result<std::vector<std::string>> read_tiles(std::span<const Tile> tiles) override;
    void save_tiles(std::span<const Tile> tiles, std::span<const std::string> data) override;

    std::map<std::string, std::string> overrides;
    std::vector<std::string> missing;
    std::vector<std::string> requested;
    std::vector<std::string> saved;

private:
    const TestLog& m_log;
    std::int64_t m_size;
    int m_height;
};

// A TileReader that only records the tiles it is asked for and fails.
class RecordingTiles final : public TileReader {
public:
    int height() const override { return k_sumdb_tile_height; }
    Result<std::vector<std::string>> read_tiles(std::span<const Tile> tiles) override;
    void save_tiles(std::span<const Tile>, std::span<const std::string>) override {}
    std::vector<std::string> requested;
};

} // namespace goinstall::sumdb::test
