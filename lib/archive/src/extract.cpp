#include "goinstall/archive/extract.hpp"
#include "goinstall/archive/stream_extract.hpp"

#include <cerrno>
#include <memory>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>

#include "disk_writer.hpp"
#include "entries.hpp"
#include "unique_fd.hpp"

namespace goinstall {

using archive_detail::DiskWriter;
using archive_detail::UniqueFd;

namespace {

// Bytes handed to libarchive per read(2): big enough to keep syscall overhead negligible against
// gzip decoding of a ~65 MB archive, small enough to poll cancellation often.
constexpr std::size_t k_read_block = 1U << 20;

using archive_detail::ReadArchive;

using archive_detail::corrupt;

// A module zip: the zip reader alone, from the central directory (as read_zip_entries hashes it).
Result<ExtractStats> extract_module_zip(const UniqueFd& fd, const std::filesystem::path& archive,
                                        const std::filesystem::path& dest_dir, const ExtractOptions& options) {
    auto reader = archive_detail::open_module_zip(fd.get(), archive.filename().string());
    if (!reader) return std::unexpected(reader.error());
    auto writer = DiskWriter::open(dest_dir);
    if (!writer) return std::unexpected(writer.error());
    struct archive* a = reader->get();
    return archive_detail::extract_entries(a, *writer, options, archive.string());
}

} // namespace

Result<ExtractStats> extract_archive(const std::filesystem::path& archive, const std::filesystem::path& dest_dir,
                                     const ExtractOptions& options) {
    if (auto st = archive_detail::check_top_dir(options.top_dir); !st) {
        return std::unexpected(st.error());
    }
    UniqueFd fd(::open(archive.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid()) {
        return std::unexpected(errno_error(errno, "opening", archive.string()));
    }
    if (options.module_zip) return extract_module_zip(fd, archive, dest_dir, options);
    // A gzip stream (every .tar.gz) goes through the two-thread decoder; zip and plain tar through
    // libarchive alone.
    unsigned char magic[2] = {0, 0};
    if (::pread(fd.get(), magic, sizeof magic, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        FdSource source(fd.get(), archive.string());
        return extract_tar_gz_stream(source, dest_dir, options);
    }
    char ustar[5] = {};
    const bool tar = ::pread(fd.get(), ustar, sizeof ustar, 257) == 5 && std::string_view(ustar, 5) == "ustar";
    if (!tar) {
        if (auto st = archive_detail::check_zip_unix_types(fd.get(), archive.filename().string()); !st) {
            return std::unexpected(st.error());
        }
    }
    auto writer = DiskWriter::open(dest_dir);
    if (!writer) {
        return std::unexpected(writer.error());
    }
    ReadArchive reader(archive_read_new());
    if (!reader) {
        return fail(ErrorCode::internal, "archive_read_new failed");
    }
    struct archive* a = reader.get();
    // Only what Go releases use, to keep libarchive's attack surface small.
    if (archive_read_support_format_tar(a) != ARCHIVE_OK || archive_read_support_format_zip(a) != ARCHIVE_OK) {
        return fail(ErrorCode::internal, "libarchive setup failed: " + archive_detail::libarchive_message(a));
    }
    if (archive_read_open_fd(a, fd.get(), k_read_block) != ARCHIVE_OK) {
        return corrupt(a);
    }
    return archive_detail::extract_entries(a, *writer, options, archive.string());
}

std::uint64_t gzip_isize(const std::filesystem::path& path) {
    const UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    unsigned char head[2] = {0, 0}, tail[4] = {0, 0, 0, 0};
    struct stat st {};
    const bool ok = fd.valid() && ::fstat(fd.get(), &st) == 0 && st.st_size >= 18 &&
                    ::pread(fd.get(), head, 2, 0) == 2 && ::pread(fd.get(), tail, 4, st.st_size - 4) == 4 &&
                    head[0] == 0x1f && head[1] == 0x8b;
    return ok ? (std::uint64_t{tail[0]} | std::uint64_t{tail[1]} << 8 | std::uint64_t{tail[2]} << 16 |
                 std::uint64_t{tail[3]} << 24)
              : 0;
}

} // namespace goinstall
