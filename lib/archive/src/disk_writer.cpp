#include "disk_writer.hpp"

#include <cerrno>
#include <fstream>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "goinstall/base/strings.hpp"

namespace goinstall::archive_detail {

namespace {

// The process umask without changing it (umask(2) can only read by also writing, which races
// with other threads creating files). Linux ≥ 4.7 reports it in /proc/self/status; elsewhere we
// return nullopt and callers chmod explicitly.
std::optional<mode_t> read_umask() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line)) {
        if (line.starts_with("Umask:")) {
            try {
                return static_cast<mode_t>(std::stoul(line.substr(6), nullptr, 8) & 0777U);
            } catch (const std::exception&) {
                return std::nullopt;
            }
        }
    }
    return std::nullopt;
}

Error bad(std::string_view shown, std::string_view why) {
    return Error(ErrorCode::bad_archive, "unsafe entry \"" + std::string(shown) + "\" in archive: " + std::string(why));
}

} // namespace

const char* to_string(NodeKind kind) {
    switch (kind) {
    case NodeKind::directory: return "directory";
    case NodeKind::file: return "file";
    case NodeKind::symlink: return "symlink";
    }
    return "file";
}

Status OutputFile::write(std::span<const unsigned char> data) {
    while (!data.empty()) {
        ssize_t n = ::write(m_fd.get(), data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return std::unexpected(errno_error(errno, "writing", m_display));
        }
        data = data.subspan(static_cast<std::size_t>(n));
    }
    return {};
}

Status OutputFile::finish() {
    if (::close(m_fd.release()) != 0 && errno != EINTR) {
        return std::unexpected(errno_error(errno, "closing", m_display));
    }
    return {};
}

Result<DiskWriter> DiskWriter::open(const std::filesystem::path& dest_dir) {
    UniqueFd root(::open(dest_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!root.valid()) {
        return std::unexpected(errno_error(errno, "opening destination directory", dest_dir.string()));
    }
    return DiskWriter(std::move(root), dest_dir, read_umask());
}

DiskWriter::DiskWriter(UniqueFd root, std::filesystem::path root_path, std::optional<mode_t> umask_bits)
    : m_root(std::move(root)), m_root_path(std::move(root_path)), m_umask(umask_bits) {}

std::string DiskWriter::display(std::string_view rel) const { return (m_root_path / rel).string(); }

Error DiskWriter::creation_error(int err, std::string_view rel, std::string_view shown, const char* what) const {
    if (err == EEXIST) {
        return bad(shown, "already exists in the destination (a duplicate or case-colliding name)");
    }
    if (err == EMLINK) {
        return bad(shown, "too many hard links to one file for the file system");
    }
    if (err == ENAMETOOLONG) {
        return bad(shown, "name too long for the file system");
    }
    return errno_error(err, what, display(rel));
}

Status DiskWriter::check_new(const std::string& rel, std::string_view shown, std::string_view what) const {
    auto it = m_tree.find(rel);
    if (it == m_tree.end()) {
        return {};
    }
    if (it->second.kind == Kind::directory) {
        return std::unexpected(bad(shown, "would replace a directory with a " + std::string(what)));
    }
    return std::unexpected(bad(shown, std::string("duplicate entry (a ") + to_string(it->second.kind) +
                                          " of this name was already extracted)"));
}

Status DiskWriter::create_directory(std::string_view rel, mode_t mode, std::string_view shown) {
    const std::string path(rel);
    if (::mkdirat(m_root.get(), path.c_str(), mode) == 0) {
        if (umask_strips(mode) && ::fchmodat(m_root.get(), path.c_str(), mode, 0) != 0) {
            return std::unexpected(errno_error(errno, "setting the mode of", display(rel)));
        }
        m_tree.emplace(path, Node{Kind::directory, mode});
        ++m_stats.dirs;
        return {};
    }
    const int err = errno;
    if (err != EEXIST) {
        return std::unexpected(errno_error(err, "creating directory", display(rel)));
    }
    struct stat st {};
    if (::fstatat(m_root.get(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return std::unexpected(errno_error(errno, "inspecting", display(rel)));
    }
    if (!S_ISDIR(st.st_mode)) {
        return std::unexpected(bad(shown, "path component \"" + sanitize_for_display(rel) +
                                              "\" already exists in the destination and is not a directory"));
    }
    // A directory that was already in dest_dir (or a case-insensitive alias of one we made).
    m_tree.emplace(path, Node{Kind::directory, static_cast<mode_t>(st.st_mode & 07777)});
    return {};
}

Status DiskWriter::ensure_parents(const std::string& rel, std::string_view shown) {
    const auto slash = rel.rfind('/');
    if (slash == std::string::npos) {
        return {};
    }
    const std::string_view parent = std::string_view(rel).substr(0, slash);
    if (parent == m_last_parent) {
        return {}; // verified for the previous entry; recorded kinds never change
    }
    std::size_t pos = 0;
    while (pos != std::string_view::npos) {
        pos = rel.find('/', pos + 1);
        const std::string_view ancestor = std::string_view(rel).substr(0, pos == std::string::npos ? rel.size() : pos);
        if (ancestor.size() > parent.size()) {
            break;
        }
        auto it = m_tree.find(ancestor);
        if (it == m_tree.end()) {
            if (auto st = create_directory(ancestor, 0755, shown); !st) {
                return st;
            }
            continue;
        }
        if (it->second.kind != Kind::directory) {
            return std::unexpected(bad(shown, std::string("path passes through the extracted ") +
                                                  to_string(it->second.kind) + " \"" + sanitize_for_display(ancestor) +
                                                  "\""));
        }
    }
    m_last_parent.assign(parent);
    return {};
}

Status DiskWriter::make_directory(const std::string& rel, mode_t mode, std::string_view shown) {
    mode = (mode & k_max_mode) | 0700;
    if (auto st = ensure_parents(rel, shown); !st) {
        return st;
    }
    auto it = m_tree.find(rel);
    if (it == m_tree.end()) {
        if (auto st = create_directory(rel, mode, shown); !st) {
            return st;
        }
        it = m_tree.find(rel); // a directory that already existed keeps its mode until below
    }
    if (it->second.kind != Kind::directory) {
        return std::unexpected(
            bad(shown, std::string("would replace a ") + to_string(it->second.kind) + " with a directory"));
    }
    if (it->second.mode != mode) {
        if (::fchmodat(m_root.get(), rel.c_str(), mode, 0) != 0) {
            return std::unexpected(errno_error(errno, "setting the mode of", display(rel)));
        }
        it->second.mode = mode;
    }
    return {};
}

Result<OutputFile> DiskWriter::create_file(const std::string& rel, mode_t mode, std::string_view shown) {
    mode &= k_max_mode;
    if (auto st = ensure_parents(rel, shown); !st) {
        return std::unexpected(st.error());
    }
    if (auto st = check_new(rel, shown, "file"); !st) {
        return std::unexpected(st.error());
    }
    // O_EXCL|O_NOFOLLOW: never open something that exists, least of all through a symlink.
    UniqueFd fd(::openat(m_root.get(), rel.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!fd.valid()) {
        return std::unexpected(creation_error(errno, rel, shown, "creating"));
    }
    m_tree.emplace(rel, Node{Kind::file, mode});
    if (umask_strips(mode) && ::fchmod(fd.get(), mode) != 0) {
        return std::unexpected(errno_error(errno, "setting the mode of", display(rel)));
    }
    ++m_stats.files;
    return OutputFile(std::move(fd), display(rel));
}

Status DiskWriter::make_symlink(const std::string& rel, const std::string& target, std::string_view shown) {
    if (auto st = ensure_parents(rel, shown); !st) {
        return st;
    }
    if (auto st = check_new(rel, shown, "symlink"); !st) {
        return st;
    }
    if (::symlinkat(target.c_str(), m_root.get(), rel.c_str()) != 0) {
        return std::unexpected(creation_error(errno, rel, shown, "creating symlink"));
    }
    m_tree.emplace(rel, Node{Kind::symlink, 0777});
    ++m_stats.symlinks;
    return {};
}

Status DiskWriter::make_hardlink(const std::string& rel, const std::string& target_rel, std::string_view shown) {
    auto target = m_tree.find(target_rel);
    if (target == m_tree.end() || target->second.kind != Kind::file) {
        return std::unexpected(bad(shown, "hard link target \"" + sanitize_for_display(target_rel) +
                                              "\" is not a regular file extracted earlier"));
    }
    const mode_t target_mode = target->second.mode; // creating parents may rehash m_tree
    if (auto st = ensure_parents(rel, shown); !st) {
        return st;
    }
    if (auto st = check_new(rel, shown, "hard link"); !st) {
        return st;
    }
    // Flags 0: link the file itself; never follow a symlink.
    if (::linkat(m_root.get(), target_rel.c_str(), m_root.get(), rel.c_str(), 0) != 0) {
        return std::unexpected(creation_error(errno, rel, shown, "creating hard link"));
    }
    m_tree.emplace(rel, Node{Kind::file, target_mode});
    ++m_stats.hardlinks;
    return {};
}

} // namespace goinstall::archive_detail
