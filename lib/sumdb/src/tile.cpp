#include "goinstall/sumdb/tile.hpp"

#include <charconv>
#include <cstdio>

#include "goinstall/base/strings.hpp"
#include "tile_math.hpp"

namespace goinstall::sumdb {
namespace {

constexpr std::int64_t k_path_base = 1000; // x/mod tlog: three digits per path element

std::optional<std::int64_t> parse_int(std::string_view s) {
    std::int64_t v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || end != s.data() + s.size() || s.empty()) return std::nullopt;
    return v;
}

} // namespace

std::string tile_path(const Tile& tile) {
    char buf[16];
    std::int64_t n = tile.n;
    std::snprintf(buf, sizeof buf, "%03lld", static_cast<long long>(n % k_path_base));
    std::string digits = buf;
    while (n >= k_path_base) {
        n /= k_path_base;
        std::snprintf(buf, sizeof buf, "x%03lld/", static_cast<long long>(n % k_path_base));
        digits.insert(0, buf);
    }
    std::string out = "tile/" + std::to_string(tile.height) + "/";
    out += tile.level == -1 ? std::string("data") : std::to_string(tile.level);
    out += "/" + digits;
    if (tile.width != (1 << tile.height)) out += ".p/" + std::to_string(tile.width);
    return out;
}

std::optional<Tile> parse_tile_path(std::string_view path) {
    auto parts = split(path, '/', true);
    if (parts.size() < 4 || parts[0] != "tile") return std::nullopt;
    Tile t;
    auto h = parse_int(parts[1]);
    if (!h || *h < 1 || *h > 30) return std::nullopt;
    t.height = static_cast<int>(*h);
    if (parts[2] == "data") {
        t.level = -1;
    } else {
        auto l = parse_int(parts[2]);
        if (!l || *l < 0 || *l > 63) return std::nullopt;
        t.level = static_cast<int>(*l);
    }
    t.width = 1 << t.height;
    if (parts[parts.size() - 2].ends_with(".p")) {
        auto w = parse_int(parts.back());
        if (!w || *w <= 0 || *w >= t.width) return std::nullopt;
        t.width = static_cast<int>(*w);
        parts.pop_back();
        parts.back().resize(parts.back().size() - 2);
    }
    for (std::size_t i = 3; i < parts.size(); ++i) {
        std::string_view s = parts[i];
        if (s.starts_with('x')) s.remove_prefix(1);
        auto nn = parse_int(s);
        if (!nn || *nn < 0 || *nn >= k_path_base || t.n > (INT64_MAX - *nn) / k_path_base) return std::nullopt;
        t.n = t.n * k_path_base + *nn;
    }
    if (tile_path(t) != path) return std::nullopt; // only the canonical spelling
    return t;
}

namespace detail {

// tile_for_index plus the [start, end) hash range inside the tile that hashes to the index.
Tile tile_for_index_range(int h, std::int64_t index, std::int64_t& start, std::int64_t& end) {
    auto [level, n] = split_stored_hash_index(index);
    Tile t;
    t.height = h;
    t.level = level / h;
    level -= t.level * h; // level within the tile
    t.n = (n << level) >> h;
    n -= (t.n << h) >> level; // n within the tile at that level
    t.width = static_cast<int>((n + 1) << level);
    start = n << level;
    end = (n + 1) << level;
    return t;
}

// The root of the 2^k hashes in data (a full subtree of the tile).
Hash tile_subtree_hash(std::string_view data) {
    if (data.size() == k_hash_size) {
        Hash h{};
        std::copy(data.begin(), data.end(), h.begin());
        return h;
    }
    const std::size_t half = data.size() / 2;
    return node_hash(tile_subtree_hash(data.substr(0, half)), tile_subtree_hash(data.substr(half)));
}

} // namespace detail

Tile tile_for_index(int h, std::int64_t index) {
    std::int64_t start = 0, end = 0;
    return detail::tile_for_index_range(h, index, start, end);
}

Result<Hash> hash_from_tile(const Tile& tile, std::string_view data, std::int64_t index) {
    if (tile.height < 1 || tile.height > 30 || tile.level < 0 || tile.level >= 64 || tile.width < 1 ||
        tile.width > (1 << tile.height)) {
        return fail(ErrorCode::checksum, "invalid tile " + tile_path(tile));
    }
    if (data.size() < static_cast<std::size_t>(tile.width) * k_hash_size) {
        return fail(ErrorCode::checksum,
                    "tile " + tile_path(tile) + " is too short (" + std::to_string(data.size()) + " bytes)");
    }
    std::int64_t start = 0, end = 0;
    const Tile t1 = detail::tile_for_index_range(tile.height, index, start, end);
    if (tile.level != t1.level || tile.n != t1.n || tile.width < t1.width) {
        return fail(ErrorCode::checksum,
                    "hash " + std::to_string(index) + " is in " + tile_path(t1) + ", not in " + tile_path(tile));
    }
    return detail::tile_subtree_hash(data.substr(static_cast<std::size_t>(start) * k_hash_size,
                                                 static_cast<std::size_t>(end - start) * k_hash_size));
}

Status check_record_in_tree(const TreeHead& tree, std::int64_t id, std::string_view record, TileReader& tiles) {
    if (id < 0 || id >= tree.size) {
        return fail(ErrorCode::checksum,
                    "cannot validate record " + std::to_string(id) + " in a tree of size " + std::to_string(tree.size));
    }
    TileHashReader reader(tree, tiles);
    const std::int64_t index[] = {stored_hash_index(0, id)};
    auto hashes = reader.read_hashes(index);
    if (!hashes) return std::unexpected(std::move(hashes.error()));
    if ((*hashes)[0] != record_hash(record)) {
        return fail(ErrorCode::checksum, "record " + std::to_string(id) + " is not the one in tree " +
                                             std::to_string(tree.size) +
                                             ": the server's record data is not authenticated");
    }
    return {};
}

} // namespace goinstall::sumdb
