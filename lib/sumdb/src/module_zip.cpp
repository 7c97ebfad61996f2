#include "goinstall/sumdb/module_zip.hpp"

#include "goinstall/base/strings.hpp"
#include "utf8.hpp"

namespace goinstall::sumdb {
namespace {

std::unexpected<Error> bad_entry(std::string_view name, const std::string& why) {
    return fail(ErrorCode::bad_archive, "module zip entry " + sanitize_for_display(name, 200) + ": " + why);
}

// x/mod module.CheckFilePath's fileNameOK for ASCII: letters, digits and "!#$%&()+,-.=@[]^_{}~ ".
bool ascii_ok(char c) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
    return std::string_view("!#$%&()+,-.=@[]^_{}~ ").find(c) != std::string_view::npos;
}

// Why `rel` (the name after the prefix, without a directory's trailing '/') is not a clean file
// path; empty when it is.
std::string unclean(std::string_view rel) {
    if (rel.empty()) return "empty path";
    std::string_view rest = rel;
    while (!rest.empty()) {
        char32_t c = 0;
        const std::size_t n = detail::decode_utf8(rest, c);
        if (n == 0) return "invalid UTF-8";
        if (c < 0x80 && c != '/' && !ascii_ok(static_cast<char>(c)))
            return "character not allowed in a module file path";
        rest.remove_prefix(n);
    }
    for (const auto& element : split(rel, '/', true)) {
        if (element.empty() || element == "." || element == "..") return "path is not clean";
    }
    return {};
}

std::string ascii_fold(std::string_view s) { return to_lower(s); }

} // namespace

ModuleZipChecker::ModuleZipChecker(std::string_view module_path, std::string_view version, std::uint64_t max_bytes)
    : m_prefix(std::string(module_path) + "@" + std::string(version) + "/"), m_max(max_bytes) {}

Status ModuleZipChecker::check_zip_size(std::uint64_t zip_bytes) const {
    if (zip_bytes > m_max) {
        return fail(ErrorCode::bad_archive, "module zip is too large (" + std::to_string(zip_bytes) + " bytes; limit " +
                                                std::to_string(m_max) + ")");
    }
    return {};
}

Status ModuleZipChecker::check_collision(const std::string& name, bool is_dir) {
    const std::string fold = ascii_fold(name);
    if (auto it = m_folded.find(fold); it != m_folded.end()) {
        if (it->second.name != name) return bad_entry(name, "case-insensitive name collision with " + it->second.name);
        if (it->second.is_dir != is_dir) return bad_entry(name, "is both a file and a directory");
        if (!is_dir) return bad_entry(name, "appears more than once");
        return {}; // the same directory again is fine
    }
    if (const auto slash = name.rfind('/'); slash != std::string::npos) {
        if (auto ok = check_collision(name.substr(0, slash), true); !ok) return ok;
    }
    m_folded.emplace(fold, Seen{name, is_dir});
    return {};
}

Status ModuleZipChecker::check_entry(const ZipEntryInfo& entry) {
    const std::string& name = entry.name;
    if (!name.starts_with(m_prefix)) return bad_entry(name, "does not start with " + m_prefix);
    std::string rel = name.substr(m_prefix.size());
    const bool is_dir = rel.ends_with('/');
    if (is_dir) rel.pop_back();
    if (auto why = unclean(rel); !why.empty()) return bad_entry(name, why);
    if (auto ok = check_collision(rel, is_dir); !ok) return ok;
    if (!is_dir) {
        const auto slash = rel.rfind('/');
        const std::string base = slash == std::string::npos ? rel : rel.substr(slash + 1);
        if (ascii_fold(base) == "go.mod" && rel != "go.mod")
            return bad_entry(name, "go.mod file not at the module root");
    }
    if (entry.compressed_size > m_max - m_compressed || entry.uncompressed_size > m_max - m_uncompressed) {
        return bad_entry(name, "module zip contents exceed " + std::to_string(m_max) + " bytes");
    }
    m_compressed += entry.compressed_size;
    m_uncompressed += entry.uncompressed_size;
    m_declared.emplace(name, entry.uncompressed_size);
    return {};
}

Status ModuleZipChecker::add_file(std::string_view name, std::string_view sha256_hex_digest, std::uint64_t size) {
    auto it = m_declared.find(std::string(name));
    if (it == m_declared.end()) return bad_entry(name, "was not checked before extraction");
    if (it->second != size) {
        return bad_entry(name,
                         "has " + std::to_string(size) + " bytes, the zip declares " + std::to_string(it->second));
    }
    m_declared.erase(it); // a second add_file for the same entry is refused
    return m_hash.add(name, sha256_hex_digest);
}

} // namespace goinstall::sumdb
