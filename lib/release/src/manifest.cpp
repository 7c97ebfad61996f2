#include "goinstall/release/manifest.hpp"

#include <algorithm>
#include <ctime>
#include <optional>

#include <nlohmann/json.hpp>

#include "goinstall/base/strings.hpp"
#include "goinstall/fs/files.hpp"
#include "goinstall/release/version.hpp"

namespace goinstall {

namespace {

using nlohmann::json;

// Reads an optional string field; returns a problem when present with another type.
std::optional<std::string> read_string(const json& obj, const char* key, std::string& out) {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return std::nullopt;
    if (!it->is_string()) return std::string("\"") + key + "\" is not a string";
    out = it->get<std::string>();
    return std::nullopt;
}

std::optional<std::string> read_all(const json& j, ArchiveManifest& m) {
    if (!j.is_object()) return std::string("not a JSON object");
    auto fmt = j.find("goinstall_manifest");
    if (fmt == j.end() || !fmt->is_number_integer() || fmt->get<std::int64_t>() != k_manifest_format) {
        return "\"goinstall_manifest\" is not " + std::to_string(k_manifest_format) + " (not a goinstall manifest?)";
    }
    std::string version;
    for (auto [key, field] : {std::pair{"version", &version},
                              {"os", &m.file.os},
                              {"arch", &m.file.arch},
                              {"filename", &m.file.filename},
                              {"sha256", &m.file.sha256},
                              {"kind", &m.file.kind},
                              {"index_source", &m.index_source},
                              {"index_fetched_at", &m.index_fetched_at},
                              {"mirror", &m.mirror},
                              {"mirror_url", &m.mirror_url},
                              {"downloaded_at", &m.downloaded_at}}) {
        if (auto bad = read_string(j, key, *field)) return bad;
    }
    if (!parse_version(version)) return "\"version\" '" + sanitize_for_display(version, 40) + "' is not a Go version";
    m.version = version;
    m.file.version = version;
    if (!is_plain_file_name(m.file.filename)) {
        return "\"filename\" '" + sanitize_for_display(m.file.filename, 80) + "' is not a plain file name";
    }
    if (!is_hex(m.file.sha256, 64)) return std::string("\"sha256\" is not 64 hex digits");
    m.file.sha256 = to_lower(m.file.sha256);
    auto size = j.find("size");
    if (size == j.end() || !size->is_number_unsigned()) return std::string("\"size\" is not a non-negative integer");
    m.file.size = size->get<std::uint64_t>();
    if (m.file.kind.empty()) m.file.kind = "archive";
    return std::nullopt;
}

} // namespace

std::string serialize_manifest(const ArchiveManifest& m) {
    nlohmann::ordered_json out = {
        {"goinstall_manifest", k_manifest_format},
        {"version", m.version},
        {"os", m.file.os},
        {"arch", m.file.arch},
        {"filename", m.file.filename},
        {"sha256", m.file.sha256},
        {"size", m.file.size},
        {"kind", m.file.kind.empty() ? std::string("archive") : m.file.kind},
        {"index_source", m.index_source},
        {"index_fetched_at", m.index_fetched_at},
        {"mirror", m.mirror},
        {"mirror_url", m.mirror_url},
        {"downloaded_at", m.downloaded_at},
    };
    return out.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

Result<ArchiveManifest> parse_manifest(std::string_view text, std::string_view source) {
    auto doc = json::parse(text.begin(), text.end(), nullptr, false);
    ArchiveManifest m;
    std::optional<std::string> problem =
        doc.is_discarded() ? std::optional<std::string>("not valid JSON") : read_all(doc, m);
    if (problem) {
        return fail(ErrorCode::no_checksum, "manifest " + std::string(source) + ": " + *problem);
    }
    return m;
}

std::string rfc3339_utc(std::chrono::system_clock::time_point t) {
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::filesystem::path manifest_path_for(const std::filesystem::path& archive) {
    auto p = archive;
    p += ".manifest.json";
    return p;
}

Result<ArchiveManifest> read_manifest(const std::filesystem::path& path) {
    auto text = read_file(path, k_max_manifest_bytes);
    if (!text) return std::unexpected(text.error());
    return parse_manifest(*text, path.string());
}

} // namespace goinstall
