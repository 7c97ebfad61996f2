// Module zips in the pipeline (contract in module_zip.hpp).

#include "goinstall/core/module_zip.hpp"

#include <sys/stat.h>

#include <cerrno>

#include "goinstall/archive/zip_entries.hpp"
#include "goinstall/base/strings.hpp"
#include "goinstall/sumdb/base64.hpp"
#include "goinstall/sumdb/module_zip.hpp"
#include "goinstall/verify/sha256.hpp"

namespace goinstall {

Status ModuleZipHasher::begin_entry(const ZipEntryHead& head) {
    m_name = head.name;
    m_hash.reset();
    return m_checker.check_entry(sumdb::ZipEntryInfo{head.name, 0, head.size});
}

Status ModuleZipHasher::entry_data(std::span<const unsigned char> data) {
    m_hash.update(data);
    return {};
}

Status ModuleZipHasher::end_entry(std::uint64_t bytes) {
    return m_checker.add_file(m_name, m_hash.hex_digest(), bytes);
}

Result<std::string> module_zip_h1(const std::filesystem::path& path, std::string_view module_path,
                                  std::string_view version, const CancelToken* cancel) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::unexpected(errno_error(errno, "cannot read", path.string()));
    ModuleZipHasher visitor(module_path, version);
    if (auto ok = visitor.checker().check_zip_size(static_cast<std::uint64_t>(st.st_size)); !ok) {
        return std::unexpected(ok.error());
    }
    if (auto ok = read_zip_entries(path, visitor, cancel); !ok) {
        return std::unexpected(
            std::move(ok.error())
                .with_context("checking the module zip " + std::string(module_path) + "@" + std::string(version)));
    }
    return visitor.h1();
}

Result<std::pair<std::string, std::string>> split_module_prefix(std::string_view prefix) {
    const auto at = prefix.rfind('@');
    if (at == std::string_view::npos || at == 0 || at + 1 == prefix.size()) {
        return fail(ErrorCode::usage, "not a module@version prefix: " + sanitize_for_display(prefix));
    }
    return std::pair{std::string(prefix.substr(0, at)), std::string(prefix.substr(at + 1))};
}

bool is_h1_hash(std::string_view s) {
    if (!s.starts_with("h1:")) return false;
    auto raw = sumdb::base64_decode(s.substr(3));
    return raw && raw->size() == 32;
}

Result<ModuleDigest> module_zip_digest(const std::string& db_h1, const std::string& authority, const std::string& given,
                                       const std::string& what) {
    const std::string trimmed(trim(given));
    std::string given_h1, given_sha;
    if (is_h1_hash(trimmed)) {
        given_h1 = trimmed;
    } else if (is_hex(trimmed, 64)) {
        given_sha = to_lower(trimmed);
    } else if (!trimmed.empty()) {
        return fail(ErrorCode::usage,
                    "--sha256 " + sanitize_for_display(trimmed, 80) +
                        " is neither a module zip's h1: hash (h1:<base64>) nor a SHA-256 (64 hex digits)");
    }
    ModuleDigest out;
    if (!db_h1.empty()) {
        if (!given_h1.empty() && given_h1 != db_h1) {
            return fail(ErrorCode::checksum, "--sha256 " + given_h1 + " does not match " + authority +
                                                 ", which gives " + db_h1 + " for " + what);
        }
        out.h1 = db_h1;
        out.sha256 = given_sha;
        out.authority = authority;
        return out;
    }
    if (given_h1.empty() && given_sha.empty()) {
        return fail(ErrorCode::no_checksum,
                    "checksum database disabled by GOSUMDB=off: refusing to install " + what +
                        " unverified (the go command refuses toolchain downloads without the checksum database too); "
                        "unset GOSUMDB, or pass --sha256 with the zip's h1: hash or its SHA-256 from a trusted source");
    }
    out.h1 = given_h1;
    out.sha256 = given_sha;
    out.authority = "--sha256";
    return out;
}

} // namespace goinstall
