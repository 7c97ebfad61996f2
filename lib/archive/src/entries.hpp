#pragma once
// The entry loop shared by file and stream extraction: every check of extract.hpp is made here and
// in DiskWriter, whatever feeds libarchive.

#include <memory>
#include <string>
#include <string_view>

#include <archive.h>

#include "disk_writer.hpp"
#include "goinstall/archive/extract.hpp"

namespace goinstall::archive_detail {

// Reads every entry of the opened archive `a` and writes it through `writer` (see extract.hpp for
// the checks and errors). `what` names the archive in the "contains no entries" message.
Result<ExtractStats> extract_entries(struct archive* a, DiskWriter& writer, const ExtractOptions& options,
                                     std::string_view what);
// libarchive's last error message, sanitised for display.
std::string libarchive_message(struct archive* a);
// bad_archive "archive is corrupt or truncated: <libarchive's message>".
std::unexpected<Error> corrupt(struct archive* a);
struct ReadArchiveDeleter {
    void operator()(struct archive* a) const { archive_read_free(a); }
};
using ReadArchive = std::unique_ptr<struct archive, ReadArchiveDeleter>;

// The one way a module zip is read, for its h1: (read_zip_entries) and for extraction alike: the
// file must start with a zip local file header ("PK\3\4": anything before the first entry, a tar
// or a gzip stream, reads differently by its start and by its central directory), and only
// libarchive's seekable zip reader (the central directory) is enabled. bad_archive otherwise,
// naming `shown`.
Result<ReadArchive> open_module_zip(int fd, const std::string& shown);
// For a file libarchive may read as a zip: bad_archive naming the first entry whose Unix mode in the
// central directory is a FIFO, device, socket or unknown type (libarchive reports a FIFO as a
// regular file), or when a central directory is found but cannot be walked. No end of central
// directory record: success (not a zip; libarchive decides). `shown` names the file in messages.
Status check_zip_unix_types(int fd, const std::string& shown);
// usage error unless top_dir is a normalised relative path.
Status check_top_dir(std::string_view top_dir);

} // namespace goinstall::archive_detail
