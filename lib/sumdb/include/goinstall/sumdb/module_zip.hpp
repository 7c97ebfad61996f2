#pragma once
// Checks on a module zip's entries as an archive reader streams them (the rules of
// golang.org/x/mod/zip checkZip for one module version), and its h1: hash over the same entries.
// No zip parsing here: the reader (lib/archive) hands each entry's name and sizes before extracting
// it, and its SHA-256 after.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "goinstall/base/error.hpp"
#include "goinstall/sumdb/dirhash.hpp"

namespace goinstall::sumdb {

// x/mod zip.MaxZipFile: 500 MiB, for the zip file and for the total of its uncompressed sizes.
inline constexpr std::uint64_t k_max_module_zip = std::uint64_t{500} << 20;

struct ZipEntryInfo {
    std::string name;                    // as stored: "golang.org/toolchain@v0.0.1-go1.21.3.linux-amd64/bin/go"
    std::uint64_t compressed_size = 0;   // as declared by the zip
    std::uint64_t uncompressed_size = 0; // as declared by the zip
};

class ModuleZipChecker {
public:
    // module_path and version name the module the zip must hold ("golang.org/toolchain",
    // "v0.0.1-go1.21.3.linux-amd64"); max_bytes caps the zip and its uncompressed total.
    ModuleZipChecker(std::string_view module_path, std::string_view version,
                     std::uint64_t max_bytes = k_max_module_zip);

    // The zip file's size. bad_archive above max_bytes.
    Status check_zip_size(std::uint64_t zip_bytes) const;

    // Call before extracting an entry. bad_archive when its name does not start with
    // "<module>@<version>/"; is not clean (empty, ".", ".." elements, "//", a trailing '/' on a file,
    // a backslash); has a character x/mod refuses (control characters, invalid UTF-8, any of
    // "*<>?`'\"|:" ); repeats an earlier name or differs from one only in ASCII case; names a file
    // where another entry put a directory or the other way round; is a go.mod (any case) other than
    // the root's lower-case "go.mod"; or brings the declared compressed or uncompressed totals above
    // max_bytes. Directory entries (name ending in '/') are allowed, as x/mod allows them.
    Status check_entry(const ZipEntryInfo& entry);

    // Call after extracting an entry that check_entry accepted (directories included, as
    // dirhash.HashZip hashes every entry): the SHA-256 of the bytes read and their count, which must
    // equal the declared uncompressed size (bad_archive otherwise).
    Status add_file(std::string_view name, std::string_view sha256_hex_digest, std::uint64_t size);

    // "h1:..." over every entry passed to add_file; compare it with the authenticated hash.
    std::string hash1() const { return m_hash.finish(); }

    // The prefix every entry name must have: "<module>@<version>/".
    const std::string& prefix() const { return m_prefix; }

private:
    struct Seen {
        std::string name;
        bool is_dir = false;
    };
    Status check_collision(const std::string& name, bool is_dir);

    std::string m_prefix;
    std::uint64_t m_max;
    std::uint64_t m_compressed = 0;
    std::uint64_t m_uncompressed = 0;
    std::map<std::string, Seen> m_folded;            // ASCII-lowercased path → first spelling
    std::map<std::string, std::uint64_t> m_declared; // accepted entry → declared size
    Hash1Builder m_hash;
};

} // namespace goinstall::sumdb
