#pragma once
// Streaming SHA-256 (FIPS 180-4) and the checks built on it. OpenSSL stays behind this header.

#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/error.hpp"

namespace goinstall {

// Incremental SHA-256 over OpenSSL EVP. Move-only; a moved-from object may only be destroyed or
// assigned to. Allocation or OpenSSL initialisation failure throws (a bug or out of memory, never
// a property of the input).
class Sha256 {
public:
    Sha256();
    ~Sha256();
    Sha256(Sha256&& other) noexcept;
    Sha256& operator=(Sha256&& other) noexcept;
    Sha256(const Sha256&) = delete;
    Sha256& operator=(const Sha256&) = delete;

    // Feeds more bytes of the message.
    void update(std::span<const unsigned char> data);
    void update(std::string_view data);

    // Finalises and returns the digest as 64 lowercase hex digits. Afterwards the object is reset
    // and hashes a new, empty message (calling reset() as well is harmless).
    std::string hex_digest();

    // Discards everything fed so far.
    void reset();

private:
    struct Impl;
    std::unique_ptr<Impl> m_impl;
};

// Hashes the whole file at `path` in 1 MiB reads and returns 64 lowercase hex digits. Polls
// `cancel` between reads (ErrorCode::cancelled); I/O failures come from errno_error (filesystem,
// permission, ...) naming the path.
Result<std::string> sha256_file(const std::filesystem::path& path, const CancelToken* cancel = nullptr);

// Succeeds when both are 64 hex digits and equal ignoring case. Otherwise ErrorCode::checksum with
// the message "checksum mismatch for <what>: expected <expected>, got <actual>".
Status check_sha256(std::string_view what, std::string_view expected_hex, std::string_view actual_hex);

// The SHA-256 an artifact must match, from the authority's digest and --sha256 (one rule for every
// route and verb): both given → they must agree (checksum error naming both); only --sha256 → it;
// neither → no_checksum saying how to supply one. `given` must already be validated hex.
Result<std::string> expected_sha256(const std::string& authority_sha, const std::string& authority,
                                    const std::string& given, const std::string& filename);

} // namespace goinstall
