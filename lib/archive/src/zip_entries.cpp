#include "goinstall/archive/zip_entries.hpp"

#include <memory>

#include <fcntl.h>

#include <archive.h>
#include <archive_entry.h>

#include "entries.hpp"
#include "goinstall/base/strings.hpp"
#include "unique_fd.hpp"

namespace goinstall {

using archive_detail::corrupt;

Status read_zip_entries(const std::filesystem::path& path, ZipEntryVisitor& visitor, const CancelToken* cancel) {
    archive_detail::UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) return std::unexpected(errno_error(errno, "opening", path.string()));
    auto reader = archive_detail::open_module_zip(fd.get(), path.filename().string());
    if (!reader) return std::unexpected(reader.error());
    struct archive* a = reader->get();
    std::uint64_t entries = 0;
    while (true) {
        if (cancel != nullptr && cancel->cancelled())
            return fail(ErrorCode::cancelled, "reading the zip was cancelled");
        struct archive_entry* e = nullptr;
        const int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) break;
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) return corrupt(a);
        ++entries;
        ZipEntryHead head;
        const char* native = archive_entry_pathname(e);
        const char* utf8 = native != nullptr ? nullptr : archive_entry_pathname_utf8(e);
        head.name = native != nullptr ? native : (utf8 != nullptr ? utf8 : "");
        head.size = archive_entry_size_is_set(e) ? static_cast<std::uint64_t>(archive_entry_size(e)) : 0;
        const auto type = archive_entry_filetype(e);
        head.is_dir = type == AE_IFDIR;
        head.is_regular = type == AE_IFREG;
        if (auto st = visitor.begin_entry(head); !st) return st;
        std::uint64_t bytes = 0;
        const void* block = nullptr;
        std::size_t len = 0;
        la_int64_t offset = 0;
        while (true) {
            const int d = archive_read_data_block(a, &block, &len, &offset);
            if (d == ARCHIVE_EOF) break;
            if (d != ARCHIVE_OK) return corrupt(a); // a CRC mismatch is only ARCHIVE_WARN: corrupt, as extraction says
            if (static_cast<std::uint64_t>(offset) != bytes) {
                return fail(ErrorCode::bad_archive, "sparse data in zip entry \"" + head.name + "\"");
            }
            bytes += len;
            if (bytes > head.size) { // never inflate past the declared size (a zip bomb's cost)
                return fail(ErrorCode::bad_archive, "zip entry \"" + sanitize_for_display(head.name) +
                                                        "\" holds more data than its declared size of " +
                                                        std::to_string(head.size) + " bytes");
            }
            if (auto st = visitor.entry_data({static_cast<const unsigned char*>(block), len}); !st) return st;
            if (cancel != nullptr && cancel->cancelled()) {
                return fail(ErrorCode::cancelled, "reading the zip was cancelled");
            }
        }
        if (auto st = visitor.end_entry(bytes); !st) return st;
    }
    if (entries == 0) return fail(ErrorCode::bad_archive, path.filename().string() + " contains no entries");
    return {};
}

} // namespace goinstall
