#include "goinstall/sumdb/dirhash.hpp"

#include <algorithm>

#include "goinstall/base/strings.hpp"
#include "goinstall/sumdb/hash.hpp"

namespace goinstall::sumdb {

std::string sha256_hex(std::string_view data) { return to_hex(sha256(data)); }

Status Hash1Builder::add(std::string_view name, std::string_view sha256_hex_digest) {
    if (name.find('\n') != std::string_view::npos) {
        return fail(ErrorCode::bad_archive, "file name " + sanitize_for_display(name, 200) + " contains a newline");
    }
    if (!is_hex(sha256_hex_digest, 64)) return fail(ErrorCode::internal, "malformed SHA-256 for " + std::string(name));
    m_files.emplace_back(std::string(name), to_lower(sha256_hex_digest));
    return {};
}

std::string Hash1Builder::finish() const {
    std::vector<const std::pair<std::string, std::string>*> sorted;
    sorted.reserve(m_files.size());
    for (const auto& f : m_files) sorted.push_back(&f);
    // Bytewise order, as Go's sort.Strings: std::string compares char_traits<char>, which compares
    // as unsigned char.
    std::sort(sorted.begin(), sorted.end(), [](const auto* a, const auto* b) { return a->first < b->first; });
    std::string summary;
    for (const auto* f : sorted) {
        summary += f->second;
        summary += "  ";
        summary += f->first;
        summary += '\n';
    }
    return "h1:" + to_base64(sha256(summary));
}

Result<std::string> hash1(std::span<const std::pair<std::string_view, std::string_view>> files) {
    Hash1Builder builder;
    for (const auto& [name, data] : files) {
        if (auto ok = builder.add(name, sha256_hex(data)); !ok) return std::unexpected(std::move(ok.error()));
    }
    return builder.finish();
}

std::string go_mod_hash(std::string_view go_mod) {
    Hash1Builder builder;
    (void)builder.add("go.mod", sha256_hex(go_mod));
    return builder.finish();
}

} // namespace goinstall::sumdb
