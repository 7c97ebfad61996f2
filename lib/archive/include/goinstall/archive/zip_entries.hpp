#pragma once
// Reading a zip's entries without writing anything: for hashing a module zip (its h1:) with the
// same reader, and so the same entries, that extraction uses.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>

#include "goinstall/base/cancel.hpp"
#include "goinstall/base/error.hpp"

namespace goinstall {

struct ZipEntryHead {
    std::string name;        // as stored (raw bytes; the UTF-8 form when no native one)
    std::uint64_t size = 0;  // declared uncompressed size (0 when the zip does not say)
    bool is_dir = false;     // a directory entry
    bool is_regular = false; // a regular file (false for directories and anything else)
};

class ZipEntryVisitor {
public:
    virtual ~ZipEntryVisitor() = default;
    // Before an entry's data. An error stops the reading and is returned unchanged.
    virtual Status begin_entry(const ZipEntryHead& head) = 0;
    // The entry's data in order, decompressed.
    virtual Status entry_data(std::span<const unsigned char> data) = 0;
    // After the last of its data; `bytes` is how many were read.
    virtual Status end_entry(std::uint64_t bytes) = 0;
};

// Reads every entry of the zip at `path` (only zip; the central directory is read, as extraction
// does) and hands it to `visitor`. bad_archive for a file that is not a readable zip, is corrupt or
// truncated, or holds no entries; errno_error for open failures; cancelled via `cancel`.
Status read_zip_entries(const std::filesystem::path& path, ZipEntryVisitor& visitor,
                        const CancelToken* cancel = nullptr);

} // namespace goinstall
