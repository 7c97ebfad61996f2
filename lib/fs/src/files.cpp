#include "goinstall/fs/files.hpp"

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fcntl.h>
#include <random>
#include <csignal>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/fs.h>
#include <sys/syscall.h>
#endif

namespace goinstall {

namespace {

std::string random_suffix() {
    static thread_local std::mt19937_64 rng{std::random_device{}() ^ static_cast<std::uint64_t>(::getpid())};
    static const char* chars = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::string s;
    for (int i = 0; i < 8; ++i) {
        s.push_back(chars[rng() % 36]);
    }
    return s;
}

// ".<name>.tmp-<pid>-<random>": the writer's pid lets a later run tell an orphan (its writer was
// killed mid-write) from a temporary that a live process is still writing.
std::string temp_suffix() { return ".tmp-" + std::to_string(::getpid()) + "-" + random_suffix(); }

Status write_all(int fd, std::string_view data, const fs::path& path) {
    while (!data.empty()) {
        auto n = ::write(fd, data.data(), data.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return std::unexpected(errno_error(errno, "cannot write", path.string()));
        }
        data.remove_prefix(static_cast<std::size_t>(n));
    }
    return {};
}

int rename_exchange(const fs::path& a, const fs::path& b) {
#if defined(__linux__) && defined(SYS_renameat2) && defined(RENAME_EXCHANGE)
    return static_cast<int>(::syscall(SYS_renameat2, AT_FDCWD, a.c_str(), AT_FDCWD, b.c_str(), RENAME_EXCHANGE));
#else
    errno = ENOSYS;
    return -1;
#endif
}

} // namespace

Status ensure_dir(const fs::path& dir) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) {
        return std::unexpected(errno_error(ec.value(), "cannot create directory", dir.string()));
    }
    return {};
}

std::optional<FileStat> regular_file_stat(const fs::path& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) return std::nullopt;
    return FileStat{static_cast<std::uint64_t>(st.st_size),
                    static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec};
}

Result<std::string> read_file(const fs::path& path, std::uint64_t max_bytes) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::unexpected(errno_error(errno, "cannot read", path.string()));
    }
    std::string out;
    std::array<char, 65536> buf{};
    while (true) {
        auto n = ::read(fd, buf.data(), buf.size());
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            int err = errno;
            ::close(fd);
            return std::unexpected(errno_error(err, "cannot read", path.string()));
        }
        if (n == 0) {
            break;
        }
        if (out.size() + static_cast<std::size_t>(n) > max_bytes) {
            ::close(fd);
            return fail(ErrorCode::filesystem,
                        path.string() + " is larger than " + std::to_string(max_bytes) + " bytes");
        }
        out.append(buf.data(), static_cast<std::size_t>(n));
    }
    ::close(fd);
    return out;
}

Status fsync_dir(const fs::path& dir) {
    int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        return std::unexpected(errno_error(errno, "cannot open directory", dir.string()));
    }
    int rc = ::fsync(fd);
    int err = errno;
    ::close(fd);
    // Some filesystems refuse fsync on directories (EINVAL); durability is then the kernel's.
    if (rc != 0 && err != EINVAL) {
        return std::unexpected(errno_error(err, "cannot sync directory", dir.string()));
    }
    return {};
}

Status write_file_atomic(const fs::path& path, std::string_view content) {
    auto dir = path.parent_path().empty() ? fs::path(".") : path.parent_path();
    auto tmp = dir / ("." + path.filename().string() + temp_suffix());
    int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        return std::unexpected(errno_error(errno, "cannot create", tmp.string()));
    }
    auto written = write_all(fd, content, tmp);
    if (written && ::fsync(fd) != 0) {
        written = std::unexpected(errno_error(errno, "cannot sync", tmp.string()));
    }
    ::close(fd);
    if (!written) {
        ::unlink(tmp.c_str());
        return written;
    }
    if (::rename(tmp.c_str(), path.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return std::unexpected(errno_error(err, "cannot replace", path.string()));
    }
    return fsync_dir(dir);
}

Result<fs::path> make_unique_dir(const fs::path& parent, const std::string& prefix) {
    std::string tmpl = (parent / (prefix + "XXXXXX")).string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
        return std::unexpected(errno_error(errno, "cannot create a directory in", parent.string()));
    }
    ::chmod(tmpl.c_str(), 0755);
    return fs::path(tmpl);
}

Status remove_file(const fs::path& path) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
        return std::unexpected(errno_error(errno, "cannot remove", path.string()));
    }
    return {};
}

Status rename_path(const fs::path& from, const fs::path& to, const std::string& action, const std::string& what) {
    if (::rename(from.c_str(), to.c_str()) != 0) {
        return std::unexpected(errno_error(errno, action, what.empty() ? to.string() : what));
    }
    return {};
}

Status remove_tree(const fs::path& path) {
    std::error_code ec;
    fs::remove_all(path, ec); // remove_all does not follow symlinks
    if (ec) {
        return std::unexpected(errno_error(ec.value(), "cannot remove", path.string()));
    }
    return {};
}

Result<bool> replace_dir(const fs::path& from, const fs::path& to) {
    struct stat st {};
    bool exists = ::lstat(to.c_str(), &st) == 0;
    if (!exists) {
        if (::rename(from.c_str(), to.c_str()) != 0) {
            return std::unexpected(errno_error(errno, "cannot move into place", to.string()));
        }
        return false;
    }
    if (rename_exchange(from, to) == 0) {
        return true;
    }
    if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP) {
        return std::unexpected(errno_error(errno, "cannot replace", to.string()));
    }
    // No atomic exchange on this filesystem: move the old tree aside, then the new one in.
    auto aside = to.parent_path() / ("." + to.filename().string() + ".old-" + random_suffix());
    if (::rename(to.c_str(), aside.c_str()) != 0) {
        return std::unexpected(errno_error(errno, "cannot move aside", to.string()));
    }
    if (::rename(from.c_str(), to.c_str()) != 0) {
        int err = errno;
        ::rename(aside.c_str(), to.c_str()); // put the old tree back
        return std::unexpected(errno_error(err, "cannot move into place", to.string()));
    }
    if (::rename(aside.c_str(), from.c_str()) != 0) {
        // The new tree is in place; leave the old one where it is for the caller's cleanup.
        return std::unexpected(errno_error(errno, "cannot move old tree", aside.string()));
    }
    return true;
}

Status replace_symlink(const fs::path& target, const fs::path& link) {
    auto tmp = link.parent_path() / ("." + link.filename().string() + temp_suffix());
    if (::symlink(target.c_str(), tmp.c_str()) != 0) {
        return std::unexpected(errno_error(errno, "cannot create symlink", tmp.string()));
    }
    if (::rename(tmp.c_str(), link.c_str()) != 0) {
        int err = errno;
        ::unlink(tmp.c_str());
        return std::unexpected(errno_error(err, "cannot switch", link.string()));
    }
    return fsync_dir(link.parent_path());
}

void remove_orphaned_temps(const fs::path& dir, std::chrono::seconds unknown_writer_age) {
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        const auto name = entry.path().filename().string();
        const auto at = name.find(".tmp-");
        if (!name.starts_with(".") || at == std::string::npos) {
            continue;
        }
        std::string_view rest = std::string_view(name).substr(at + 5);
        const auto dash = rest.find('-');
        std::uint64_t pid = 0;
        bool have_pid = dash != std::string_view::npos && dash > 0 && dash < 10;
        for (std::size_t i = 0; have_pid && i < dash; ++i) {
            have_pid = rest[i] >= '0' && rest[i] <= '9';
            pid = pid * 10 + static_cast<std::uint64_t>(rest[i] - '0');
        }
        bool orphan = false;
        struct stat st {};
        if (have_pid && pid > 0) {
            orphan = ::kill(static_cast<pid_t>(pid), 0) != 0 && errno == ESRCH;
        } else if (::lstat(entry.path().c_str(), &st) == 0) {
            orphan = std::time(nullptr) - st.st_mtime > unknown_writer_age.count();
        }
        if (orphan) {
            ::unlink(entry.path().c_str());
        }
    }
}

std::uint64_t free_bytes(const fs::path& path) {
    struct statvfs sv {};
    if (::statvfs(path.c_str(), &sv) != 0) {
        return 0;
    }
    return static_cast<std::uint64_t>(sv.f_bavail) * sv.f_frsize;
}

} // namespace goinstall
