#pragma once
// go.sum's "h1:" hash (golang.org/x/mod/sumdb/dirhash Hash1): for every file, sorted by name
// bytewise, the line "<hex SHA-256 of its bytes>  <name>\n"; the hash is "h1:" + base64 of the
// SHA-256 of all the lines. For a module zip the names are the zip entry names, prefix included.

#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "goinstall/base/error.hpp"

namespace goinstall::sumdb {

class Hash1Builder {
public:
    // Adds one file by name and the 64 lowercase hex digits of its SHA-256. Fails (bad_archive) for
    // a name containing '\n' (dirhash refuses those) or a malformed digest.
    Status add(std::string_view name, std::string_view sha256_hex);
    // "h1:<base64>" over the files added so far (in name order, whatever the order of add).
    std::string finish() const;

private:
    std::vector<std::pair<std::string, std::string>> m_files; // name, hex digest
};

// Hash1 of files given with their contents (name, data).
Result<std::string> hash1(std::span<const std::pair<std::string_view, std::string_view>> files);

// The go.sum hash of a go.mod file's contents (Hash1 of the single file "go.mod").
std::string go_mod_hash(std::string_view go_mod);

// 64 lowercase hex digits of SHA-256(data).
std::string sha256_hex(std::string_view data);

} // namespace goinstall::sumdb
