#include "fake_db.hpp"

#include "goinstall/sumdb/tile.hpp"

namespace goinstall::sumdb::test {
namespace {

Error http_error(std::string_view path, long status) {
    NetDetail d;
    d.phase = NetPhase::http;
    d.http_status = status;
    d.url = "https://sum.test.example/" + std::string(path);
    return Error(ErrorCode::network, "HTTP " + std::to_string(status) + " for " + std::string(path)).with_net(d);
}

} // namespace

std::string toolchain_zip_h1(const std::string& version) { return "h1:" + to_base64(sha256(version)); }

std::string toolchain_record(const std::string& version) {
    return "golang.org/toolchain " + version + " " + toolchain_zip_h1(version) + "\n" + "golang.org/toolchain " +
           version + "/go.mod h1:8wlg68NqwW7eMnI1aABk/C2pDYXj8mrMY4TyRfiLeS0=\n";
}

std::string FakeDb::note() const { return m_signer->sign(tree_text(m_size, to_base64(m_log->root(m_size)))); }

Result<std::string> FakeDb::get(std::string_view path) {
    requests.emplace_back(path);
    const std::string p(path);
    if (not_found.contains(p)) return std::unexpected(http_error(path, 404));
    if (auto it = bodies.find(p); it != bodies.end()) return it->second;
    if (p.starts_with("lookup/")) {
        const std::string what = p.substr(7);
        const auto at = what.rfind('@');
        const std::string prefix = what.substr(0, at) + " " + what.substr(at + 1) + " ";
        for (std::int64_t id = 0; id < m_size; ++id) {
            if (m_log->record(id).starts_with(prefix))
                return std::to_string(id) + "\n" + m_log->record(id) + "\n" + note();
        }
        return std::unexpected(http_error(path, 404));
    }
    auto tile = parse_tile_path(p);
    if (!tile) return std::unexpected(http_error(path, 404));
    const TestLog& log = tiles_of_log != nullptr ? *tiles_of_log : *m_log;
    const std::int64_t size = tiles_of_size != 0 ? tiles_of_size : m_size;
    Tile full = *tile;
    full.width = 1 << tile->height;
    if (partial_tiles_missing && *tile != full && log.tile_data(full, size))
        return std::unexpected(http_error(path, 404));
    auto data = log.tile_data(*tile, size);
    if (!data) return std::unexpected(http_error(path, 404));
    return *data;
}

} // namespace goinstall::sumdb::test
