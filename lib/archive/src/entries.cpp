#include "entries.hpp"

#include <algorithm>
#include <unordered_map>

#include <unistd.h>

#include <archive_entry.h>

#include "goinstall/base/strings.hpp"
#include "path_parts.hpp"

namespace goinstall::archive_detail {

std::string libarchive_message(struct archive* a) {
    const char* msg = archive_error_string(a);
    return sanitize_for_display(msg != nullptr ? msg : "unknown error");
}

std::unexpected<Error> corrupt(struct archive* a) {
    return fail(ErrorCode::bad_archive, "archive is corrupt or truncated: " + libarchive_message(a));
}

namespace {

std::unexpected<Error> bad_entry(std::string_view shown, std::string_view why) {
    return fail(ErrorCode::bad_archive, "unsafe entry \"" + std::string(shown) + "\" in archive: " + std::string(why));
}

std::unexpected<Error> cancelled() { return fail(ErrorCode::cancelled, "extraction was cancelled"); }

bool is_cancelled(const ExtractOptions& options) { return options.cancel != nullptr && options.cancel->cancelled(); }

// Entry names are bytes on POSIX: take the native form, or the UTF-8 form when libarchive could
// not convert it to the locale's charset.
const char* entry_name(const char* native, const char* utf8) { return native != nullptr ? native : utf8; }

// Everything one extraction needs besides the entry itself.
class Extraction {
public:
    Extraction(struct archive* a, DiskWriter& writer, const ExtractOptions& options)
        : m_archive(a), m_writer(writer), m_options(options) {}

    // Checks and writes the entry just read by archive_read_next_header.
    Status entry(struct archive_entry* e);

private:
    Status regular_file(struct archive_entry* e, const std::string& rel, std::string_view shown);
    // `visitor` (module zips) sees the data as it is written; *written_out gets the byte count. A
    // module zip entry with more bytes than it declares fails at once (no inflating past it).
    Status regular_file(struct archive_entry* e, const std::string& rel, std::string_view shown, unsigned mode,
                        ZipEntryVisitor* visitor = nullptr, std::uint64_t* written_out = nullptr);
    Status module_entry(struct archive_entry* e, const char* raw, const std::string& rel, std::string_view shown);
    Status symlink(struct archive_entry* e, const std::string& rel, std::string_view shown);
    Status hardlink(const char* raw_target, const std::string& rel, std::string_view shown);
    bool is_zip() const { return (archive_format(m_archive) & ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_ZIP; }

    struct archive* m_archive;
    DiskWriter& m_writer;
    const ExtractOptions& m_options;
    std::uint64_t m_entries = 0;
    std::uint64_t m_total_bytes = 0;
    std::unordered_map<std::string, std::uint64_t> m_links; // hard links made to each target
};

Status Extraction::entry(struct archive_entry* e) {
    const char* raw = entry_name(archive_entry_pathname(e), archive_entry_pathname_utf8(e));
    if (raw == nullptr) {
        return fail(ErrorCode::bad_archive, "archive entry has no readable name");
    }
    const std::string shown = sanitize_for_display(raw);
    if (++m_entries > m_options.limits.max_entries) {
        return bad_entry(shown,
                         "the archive has more than " + std::to_string(m_options.limits.max_entries) + " entries");
    }
    auto rel = safe_entry_path(raw, m_options.top_dir, is_zip());
    if (!rel) {
        return std::unexpected(rel.error());
    }
    if (m_options.module_zip) {
        return module_entry(e, raw, *rel, shown);
    }
    if (const char* link = entry_name(archive_entry_hardlink(e), archive_entry_hardlink_utf8(e)); link != nullptr) {
        return hardlink(link, *rel, shown);
    }
    switch (archive_entry_filetype(e)) {
    case AE_IFDIR: return m_writer.make_directory(*rel, archive_entry_perm(e), shown);
    case AE_IFREG: return regular_file(e, *rel, shown);
    case AE_IFLNK: return symlink(e, *rel, shown);
    case AE_IFCHR:
    case AE_IFBLK: return bad_entry(shown, "device nodes are not allowed");
    case AE_IFIFO: return bad_entry(shown, "FIFOs are not allowed");
    case AE_IFSOCK: return bad_entry(shown, "sockets are not allowed");
    default: return bad_entry(shown, "unknown entry type");
    }
}

// A module zip entry: a regular file below top_dir, written below "go/" with distpack's mode.
Status Extraction::module_entry(struct archive_entry* e, const char* raw, const std::string& rel,
                                std::string_view shown) {
    if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) != nullptr) {
        return bad_entry(shown, "a toolchain module holds regular files only");
    }
    std::string_view in_module = std::string_view(rel).substr(std::min(rel.size(), m_options.top_dir.size()));
    if (in_module.starts_with('/')) in_module.remove_prefix(1);
    if (in_module.empty()) return bad_entry(shown, "not a file inside the module");
    std::string out = "go/" + std::string(in_module);
    if (out.ends_with("/_go.mod")) out.replace(out.size() - 7, 7, "go.mod");
    ZipEntryVisitor* visitor = m_options.module_visitor;
    if (visitor != nullptr) {
        ZipEntryHead head;
        head.name = raw;
        head.size = archive_entry_size_is_set(e)
                        ? static_cast<std::uint64_t>(std::max<la_int64_t>(0, archive_entry_size(e)))
                        : 0;
        head.is_regular = true;
        if (auto st = visitor->begin_entry(head); !st) return st;
    }
    std::uint64_t written = 0;
    if (auto st = regular_file(e, out, shown, module_mode(in_module), visitor, &written); !st) return st;
    return visitor != nullptr ? visitor->end_entry(written) : Status{};
}

Status Extraction::regular_file(struct archive_entry* e, const std::string& rel, std::string_view shown) {
    return regular_file(e, rel, shown, archive_entry_perm(e));
}

Status Extraction::regular_file(struct archive_entry* e, const std::string& rel, std::string_view shown, unsigned mode,
                                ZipEntryVisitor* visitor, std::uint64_t* written_out) {
    const ExtractLimits& limits = m_options.limits;
    if (archive_entry_sparse_count(e) > 0) {
        return bad_entry(shown, "sparse files are not supported");
    }
    const la_int64_t declared_signed = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
    if (declared_signed < 0) {
        return bad_entry(shown, "negative size");
    }
    const auto declared = static_cast<std::uint64_t>(declared_signed);
    auto over_limits = [&](std::uint64_t size) -> Status {
        if (size > limits.max_file_bytes) {
            return bad_entry(shown,
                             "file is larger than the limit of " + std::to_string(limits.max_file_bytes) + " bytes");
        }
        if (size > limits.max_total_bytes - std::min(m_total_bytes, limits.max_total_bytes)) {
            return bad_entry(shown, "extracting it would exceed the limit of " +
                                        std::to_string(limits.max_total_bytes) + " bytes in total");
        }
        return {};
    };
    if (auto st = over_limits(declared); !st) {
        return st;
    }
    auto file = m_writer.create_file(rel, mode, shown);
    if (!file) {
        return std::unexpected(file.error());
    }
    std::uint64_t written = 0;
    for (;;) {
        if (is_cancelled(m_options)) {
            return cancelled();
        }
        const void* block = nullptr;
        std::size_t size = 0;
        la_int64_t offset = 0;
        const int r = archive_read_data_block(m_archive, &block, &size, &offset);
        if (r == ARCHIVE_EOF) {
            break;
        }
        if (r != ARCHIVE_OK) { // a zip CRC mismatch is only ARCHIVE_WARN; treat it as corruption
            return fail(ErrorCode::bad_archive, "archive is corrupt or truncated: " + libarchive_message(m_archive) +
                                                    " (in entry \"" + std::string(shown) + "\")");
        }
        if (offset < 0 || static_cast<std::uint64_t>(offset) != written) {
            return bad_entry(shown, "file data is not contiguous (sparse file?)");
        }
        written += size;
        if (auto st = over_limits(written); !st) {
            return st;
        }
        if (m_options.module_zip && written > declared) {
            return bad_entry(shown, "holds more data than its declared size of " + std::to_string(declared) + " bytes");
        }
        const std::span<const unsigned char> data{static_cast<const unsigned char*>(block), size};
        if (visitor != nullptr) {
            if (auto st = visitor->entry_data(data); !st) return st;
        }
        if (auto st = file->write(data); !st) {
            return st;
        }
    }
    if (written_out != nullptr) *written_out = written;
    if (auto st = file->finish(); !st) {
        return st;
    }
    m_total_bytes += written;
    m_writer.stats().bytes += written;
    return {};
}

Status Extraction::symlink(struct archive_entry* e, const std::string& rel, std::string_view shown) {
    const char* target = entry_name(archive_entry_symlink(e), archive_entry_symlink_utf8(e));
    if (target == nullptr || *target == '\0') {
        return bad_entry(shown, "symlink has no target");
    }
    const std::string_view target_view(target);
    const bool zip_backslash = is_zip() && target_view.find('\\') != std::string_view::npos;
    if (zip_backslash || !symlink_target_safe(rel, target_view, m_options.top_dir)) {
        return bad_entry(shown, "symlink target \"" + sanitize_for_display(target_view) +
                                    "\" is absolute, not "
                                    "normalised, or leads outside \"" +
                                    sanitize_for_display(m_options.top_dir) + "\"");
    }
    return m_writer.make_symlink(rel, target, shown);
}

Status Extraction::hardlink(const char* raw_target, const std::string& rel, std::string_view shown) {
    auto target = safe_entry_path(raw_target, m_options.top_dir, is_zip());
    if (!target) {
        return bad_entry(shown, "hard link target is unsafe: " + target.error().message());
    }
    if (++m_links[*target] > m_options.limits.max_links_per_file) {
        return bad_entry(shown, "more than " + std::to_string(m_options.limits.max_links_per_file) +
                                    " hard links to \"" + sanitize_for_display(*target) + "\"");
    }
    return m_writer.make_hardlink(rel, *target, shown);
}

} // namespace

Result<ReadArchive> open_module_zip(int fd, const std::string& shown) {
    char head[64] = {};
    const ssize_t got = ::pread(fd, head, sizeof head, 0);
    if (got < 4 || std::string_view(head, 4) != std::string_view("PK\3\4", 4)) {
        // Say what came instead when it is recognisable: proxies answer 200 with an empty body or
        // with an error or login page.
        std::string_view text(head, got > 0 ? static_cast<std::size_t>(got) : 0);
        const auto first = text.find_first_not_of(" \t\r\n");
        const char* what = got <= 0 ? ": it is empty"
                           : first != std::string_view::npos && text[first] == '<'
                               ? ": it is an HTML or XML page (an error or login page?)"
                               : ": it does not start with a zip entry header";
        return fail(ErrorCode::bad_archive, shown + " is not a module zip" + what);
    }
    ReadArchive reader(archive_read_new());
    if (!reader) return fail(ErrorCode::internal, "archive_read_new failed");
    struct archive* a = reader.get();
    if (archive_read_support_format_zip_seekable(a) != ARCHIVE_OK) {
        return fail(ErrorCode::internal, "libarchive setup failed: " + libarchive_message(a));
    }
    constexpr std::size_t k_read_block = 1U << 20;
    if (archive_read_open_fd(a, fd, k_read_block) != ARCHIVE_OK) {
        return fail(ErrorCode::bad_archive, shown + " is not a readable zip file: " + libarchive_message(a));
    }
    return reader;
}

Status check_top_dir(std::string_view top_dir) {
    const auto parts = archive_detail::path_components(top_dir);
    const bool has_dotdot = std::find(parts.begin(), parts.end(), "..") != parts.end();
    if (has_dotdot || archive_detail::join_components(parts) != top_dir) {
        return fail(ErrorCode::usage, "invalid top directory \"" + sanitize_for_display(top_dir) +
                                          R"(" (want a normalised relative path such as "go"))");
    }
    return {};
}

Result<ExtractStats> extract_entries(struct archive* a, DiskWriter& writer, const ExtractOptions& options,
                                     std::string_view what) {
    Extraction extraction(a, writer, options);
    bool any = false;
    for (;;) {
        if (is_cancelled(options)) {
            return cancelled();
        }
        struct archive_entry* e = nullptr;
        const int r = archive_read_next_header(a, &e);
        if (r == ARCHIVE_EOF) {
            break;
        }
        // ARCHIVE_WARN (e.g. a name not representable in the locale's charset) still yields a
        // usable entry; everything worse means the stream cannot be trusted.
        if (r != ARCHIVE_OK && r != ARCHIVE_WARN) {
            return corrupt(a);
        }
        any = true;
        if (auto st = extraction.entry(e); !st) {
            return std::unexpected(st.error());
        }
    }
    if (!any) {
        return fail(ErrorCode::bad_archive, "archive contains no entries: " + std::string(what));
    }
    return writer.stats();
}

} // namespace goinstall::archive_detail
