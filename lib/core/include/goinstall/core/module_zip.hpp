#pragma once
// Toolchain module zips in the pipeline: the h1: hash of a zip on disk (checked with Go's zip rules
// on the same entries extraction reads), and the digest rule for a module zip (checksum database
// and --sha256).

#include <filesystem>
#include <string>
#include <string_view>

#include "goinstall/archive/zip_entries.hpp"
#include "goinstall/base/cancel.hpp"
#include "goinstall/base/error.hpp"
#include "goinstall/sumdb/module_zip.hpp"
#include "goinstall/verify/sha256.hpp"

namespace goinstall {

// A zip entry visitor that applies ModuleZipChecker's rules to each entry and computes the zip's
// h1: over exactly the entries and bytes it is shown. module_zip_h1 uses it on a file; the pipeline
// passes one to extraction (ExtractOptions::module_visitor), so that what was written to staging is
// hashed again and compared before the commit.
class ModuleZipHasher final : public ZipEntryVisitor {
public:
    ModuleZipHasher(std::string_view module_path, std::string_view version) : m_checker(module_path, version) {}
    Status begin_entry(const ZipEntryHead& head) override;
    Status entry_data(std::span<const unsigned char> data) override;
    Status end_entry(std::uint64_t bytes) override;
    sumdb::ModuleZipChecker& checker() { return m_checker; }
    // The h1: of every entry seen (after the checker's whole-zip checks).
    Result<std::string> h1() { return m_checker.hash1(); }

private:
    sumdb::ModuleZipChecker m_checker;
    Sha256 m_hash;
    std::string m_name;
};

// "h1:..." of the module zip at `path` for module_path@version (x/mod dirhash.HashZip), after
// ModuleZipChecker's checks on every entry (prefix, clean and unique names, nested go.mod, 500 MiB
// caps on the file and on the uncompressed total). bad_archive for anything that is not such a
// zip (an HTML page, a truncated file); cancelled via `cancel`.
Result<std::string> module_zip_h1(const std::filesystem::path& path, std::string_view module_path,
                                  std::string_view version, const CancelToken* cancel = nullptr);

// Splits "golang.org/toolchain@v0.0.1-go1.21.3.linux-amd64" into module path and version;
// usage error without an '@' between two non-empty parts.
Result<std::pair<std::string, std::string>> split_module_prefix(std::string_view prefix);

// Whether `s` is a well-formed "h1:" hash ("h1:" + base64 of 32 bytes).
bool is_h1_hash(std::string_view s);

// What a module zip must match.
struct ModuleDigest {
    std::string h1;        // "h1:..." (empty: only the SHA-256 is known)
    std::string sha256;    // lowercase hex (empty unless --sha256 gave one)
    std::string authority; // who vouched: `authority` as given, or "--sha256"
};

// The digest rule of the module route (one function, so the CLI and tests share it):
//  - `given` (--sha256) may be empty, an "h1:" hash or 64 hex digits of the zip's SHA-256; anything
//    else is a usage error;
//  - with the checksum database's hash (`db_h1` non-empty): it is the h1 to match; a given h1 must
//    equal it (checksum error naming both); a given SHA-256 is checked as well;
//  - without it (GOSUMDB=off): refused with no_checksum unless something was given — as the go
//    command refuses toolchain downloads with GOSUMDB=off — and then the given digest is the one
//    to match, vouched for by "--sha256".
// `what` names the zip in messages ("golang.org/toolchain@v0.0.1-go1.21.3.linux-amd64").
Result<ModuleDigest> module_zip_digest(const std::string& db_h1, const std::string& authority, const std::string& given,
                                       const std::string& what);

} // namespace goinstall
