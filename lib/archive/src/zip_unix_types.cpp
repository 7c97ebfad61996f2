// check_zip_unix_types: the file types a zip's central directory records, read without libarchive.
// libarchive 3.6's zip reader reports an entry whose Unix mode says FIFO as a regular file (found
// by reading one back: mode 010644 → 0100644), so extraction alone would write it as an empty
// file where a tar's FIFO is refused. Layout: PKWARE APPNOTE.TXT 6.3.10, sections 4.3.12 (central
// directory file header), 4.3.14-4.3.16 (zip64 end record and locator, end of central directory).

#include "entries.hpp"

#include <algorithm>
#include <cstdint>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include "goinstall/base/strings.hpp"

namespace goinstall::archive_detail {

namespace {

constexpr std::uint32_t k_eocd_sig = 0x06054b50;
constexpr std::uint32_t k_zip64_locator_sig = 0x07064b50;
constexpr std::uint32_t k_zip64_eocd_sig = 0x06064b50;
constexpr std::uint32_t k_central_sig = 0x02014b50;
constexpr std::size_t k_eocd_size = 22;
constexpr std::size_t k_max_comment = 0xFFFF;
constexpr std::size_t k_central_size = 46;
constexpr unsigned k_made_by_unix = 3; // APPNOTE 4.4.2.2
// A Go toolchain's central directory is ~1.5 MB (14,000 entries); far more is not a toolchain.
constexpr std::uint64_t k_max_central_bytes = 256ULL << 20;

std::uint64_t le(const unsigned char* p, int bytes) {
    std::uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

bool read_at(int fd, std::uint64_t offset, unsigned char* buf, std::size_t n) {
    std::size_t done = 0;
    while (done < n) {
        const ssize_t r = ::pread(fd, buf + done, n - done, static_cast<off_t>(offset + done));
        if (r <= 0) return false;
        done += static_cast<std::size_t>(r);
    }
    return true;
}

std::unexpected<Error> unreadable(const std::string& shown, const char* why) {
    return fail(ErrorCode::bad_archive, "archive is corrupt or truncated: " + shown + ": " + why);
}

const char* refused_type(unsigned type) {
    switch (type) {
    case 0: // no type recorded: libarchive decides from the name
    case S_IFREG:
    case S_IFDIR:
    case S_IFLNK: return nullptr;
    case S_IFIFO: return "FIFOs are not allowed";
    case S_IFCHR:
    case S_IFBLK: return "device nodes are not allowed";
    case S_IFSOCK: return "sockets are not allowed";
    default: return "unknown entry type";
    }
}

} // namespace

Status check_zip_unix_types(int fd, const std::string& shown) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || st.st_size < static_cast<off_t>(k_eocd_size)) {
        return unreadable(shown, "too short for a zip");
    }
    const auto size = static_cast<std::uint64_t>(st.st_size);
    const std::size_t tail_len = static_cast<std::size_t>(std::min<std::uint64_t>(size, k_eocd_size + k_max_comment));
    std::vector<unsigned char> tail(tail_len);
    if (!read_at(fd, size - tail_len, tail.data(), tail_len)) return unreadable(shown, "cannot read its end");
    std::size_t at = tail_len - k_eocd_size + 1;
    do {
        --at;
    } while (at > 0 && le(&tail[at], 4) != k_eocd_sig);
    if (le(&tail[at], 4) != k_eocd_sig) return {}; // not a zip that libarchive's seekable reader reads
    std::uint64_t count = le(&tail[at + 10], 2);
    std::uint64_t cd_size = le(&tail[at + 12], 4);
    std::uint64_t cd_offset = le(&tail[at + 16], 4);
    const std::uint64_t eocd_pos = size - tail_len + at;
    if (count == 0xFFFF || cd_size == 0xFFFFFFFF || cd_offset == 0xFFFFFFFF) {
        unsigned char loc[20];
        unsigned char rec[56];
        if (eocd_pos < sizeof loc || !read_at(fd, eocd_pos - sizeof loc, loc, sizeof loc) ||
            le(loc, 4) != k_zip64_locator_sig || !read_at(fd, le(loc + 8, 8), rec, sizeof rec) ||
            le(rec, 4) != k_zip64_eocd_sig) {
            return unreadable(shown, "bad zip64 end of central directory");
        }
        count = le(rec + 32, 8);
        cd_size = le(rec + 40, 8);
        cd_offset = le(rec + 48, 8);
    }
    if (cd_size > k_max_central_bytes || cd_offset > size || cd_size > size - cd_offset) {
        return unreadable(shown, "central directory out of bounds");
    }
    std::vector<unsigned char> cd(static_cast<std::size_t>(cd_size));
    if (!read_at(fd, cd_offset, cd.data(), cd.size())) return unreadable(shown, "cannot read the central directory");
    std::size_t pos = 0;
    for (std::uint64_t i = 0; i < count; ++i) {
        if (cd.size() - pos < k_central_size || le(&cd[pos], 4) != k_central_sig) {
            return unreadable(shown, "bad central directory entry");
        }
        const unsigned char* h = &cd[pos];
        const std::size_t name_len = le(h + 28, 2);
        const std::size_t skip = k_central_size + name_len + le(h + 30, 2) + le(h + 32, 2);
        if (cd.size() - pos < skip) return unreadable(shown, "bad central directory entry");
        const auto type = static_cast<unsigned>((le(h + 38, 4) >> 16) & S_IFMT);
        if (le(h + 5, 1) == k_made_by_unix) {
            if (const char* why = refused_type(type)) {
                const std::string_view name(reinterpret_cast<const char*>(h + k_central_size), name_len);
                return fail(ErrorCode::bad_archive,
                            "unsafe entry \"" + sanitize_for_display(name) + "\" in archive: " + why);
            }
        }
        pos += skip;
    }
    return {};
}

} // namespace goinstall::archive_detail
